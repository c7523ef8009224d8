package io.parasol.worker.train;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.parasol.common.Participation;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.PushKind;
import io.parasol.worker.client.PsClient;
import io.parasol.worker.data.Batches;
import io.parasol.worker.data.Dataset;
import io.parasol.worker.model.Model;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One worker's training loop: pull, compute the mini-batch gradient on the worker's partition,
 * push; under the job's mode.
 *
 * <ul>
 *   <li>sync: step t pulls x at version t (waiting at the barrier), pushes g(x_t) tagged t. A
 *       worker that fell behind (its step completed without it, with backup workers) catches
 *       up to the version it reads; a late push (ABORTED) is counted and skipped.
 *   <li>async: pulls whatever is there, pushes the gradient with the versions it read.
 *   <li>ssp: as async, with the worker's clock on each pull so the shard holds it while it
 *       leads the slowest worker by more than s steps.
 * </ul>
 */
public final class TrainingLoop {

  /**
   * @param worker this worker's index k
   * @param job the job's settings (mode, seed, η, τ, participation)
   * @param steps number of gradient steps (sync: the version to train to; local: local steps,
   *     so rounds = ceil(steps/τ))
   * @param batchSize b
   * @param evalEvery evaluate the pulled model on the test set every this many steps (0: never)
   */
  public record Config(int worker, JobSettings job, long steps, int batchSize, int evalEvery) {
    Mode mode() {
      return job.mode();
    }

    long seed() {
      return job.seed();
    }
  }

  /** Progress callbacks; called on the worker's thread. */
  public interface Listener {
    default void onStep(int worker, long step, double loss) {}

    default void onEval(int worker, long step, Model.Evaluation eval) {}
  }

  /** What one worker did. */
  public record Result(int worker, long steps, long pushes, long latePushes, double lastLoss,
      double computeSeconds, double pullSeconds, double pushSeconds) {}

  private final PsClient client;
  private final Model model;
  private final Dataset part;
  private final Dataset test;
  private final Config cfg;
  private final Listener listener;

  public TrainingLoop(PsClient client, Model model, Dataset part, Dataset test, Config cfg,
      Listener listener) {
    this.client = client;
    this.model = model;
    this.part = part;
    this.test = test;
    this.cfg = cfg;
    this.listener = listener == null ? new Listener() {} : listener;
  }

  /** A per-worker seed derived from the job seed, so workers draw independent batches. */
  public static long workerSeed(long seed, int worker) {
    return seed * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L * (worker + 1);
  }

  public Result run() {
    if (cfg.mode() == Mode.MODE_LOCAL) {
      return runLocal();
    }
    int d = client.layout().dimension();
    float[] x = new float[d];
    Batches batches = new Batches(part, cfg.batchSize(), workerSeed(cfg.seed(), cfg.worker()));
    INDArray testX = null;
    INDArray testY = null;
    if (test != null && cfg.evalEvery() > 0) {
      Batches.Batch all = Batches.all(test);
      testX = all.features();
      testY = all.targets();
    }
    long pushes = 0;
    long late = 0;
    double lastLoss = Double.NaN;
    long computeNs = 0;
    long pullNs = 0;
    long pushNs = 0;
    long done = 0;
    long t = 0;
    boolean sync = cfg.mode() == Mode.MODE_SYNC;
    int[] updateBlocks = cfg.job().updateBlocksFor(cfg.worker(), client.layout());
    while (sync ? t < cfg.steps() : done < cfg.steps()) {
      long t0 = System.nanoTime();
      long[] versions = client.pull(cfg.worker(), x, sync ? t : 0, done);
      long step = sync ? minMax(versions)[1] : done;
      if (sync && minMax(versions)[0] != step) {
        // Blocks straddle a step boundary (backup workers moved on mid-pull): read again.
        versions = client.pull(cfg.worker(), x, step, done);
      }
      long t1 = System.nanoTime();
      pullNs += t1 - t0;
      if (sync && step >= cfg.steps()) {
        break;
      }
      if (cfg.evalEvery() > 0 && testX != null && done % cfg.evalEvery() == 0) {
        listener.onEval(cfg.worker(), done, model.evaluate(params(x), testX, testY));
      }
      long t2 = System.nanoTime();
      Batches.Batch batch = batches.next();
      Model.LossAndGradient lg = model.lossAndGradient(params(x), batch.features(),
          batch.targets());
      float[] g = lg.gradient().toFloatVector();
      long t3 = System.nanoTime();
      computeNs += t3 - t2;
      lastLoss = lg.loss();
      try {
        client.push(cfg.worker(), step, PushKind.PUSH_GRADIENT, g, versions,
            updateBlocks, (float) lg.loss());
        pushes++;
      } catch (StatusRuntimeException e) {
        if (sync && e.getStatus().getCode() == Status.Code.ABORTED) {
          late++;
        } else {
          throw e;
        }
      }
      pushNs += System.nanoTime() - t3;
      listener.onStep(cfg.worker(), step, lg.loss());
      done++;
      t = step + 1;
    }
    return new Result(cfg.worker(), done, pushes, late, lastLoss, computeNs / 1e9, pullNs / 1e9,
        pushNs / 1e9);
  }

  /**
   * Local-update SGD: round r pulls the average x_r (version r), runs τ local SGD steps
   * x ← x − η·g on the worker's own copy, and pushes the model tagged r. Workers that the
   * round's participation sample leaves out skip to the next round.
   */
  private Result runLocal() {
    JobSettings js = cfg.job();
    int tau = js.localSteps();
    long rounds = (cfg.steps() + tau - 1) / tau;
    float lr = js.learningRate();
    float[] x = new float[client.layout().dimension()];
    Batches batches = new Batches(part, cfg.batchSize(), workerSeed(js.seed(), cfg.worker()));
    INDArray testX = null;
    INDArray testY = null;
    if (test != null && cfg.evalEvery() > 0) {
      Batches.Batch all = Batches.all(test);
      testX = all.features();
      testY = all.targets();
    }
    long pushes = 0;
    long late = 0;
    long done = 0;
    double lastLoss = Double.NaN;
    long computeNs = 0;
    long pullNs = 0;
    long pushNs = 0;
    long r = 0;
    long lastEval = -1;
    while (r < rounds) {
      long t0 = System.nanoTime();
      long[] versions = client.pull(cfg.worker(), x, r, done);
      long round = minMax(versions)[1];
      if (minMax(versions)[0] != round) {
        versions = client.pull(cfg.worker(), x, round, done);
      }
      pullNs += System.nanoTime() - t0;
      if (round >= rounds) {
        break;
      }
      if (testX != null && (lastEval < 0 || done - lastEval >= cfg.evalEvery())) {
        listener.onEval(cfg.worker(), done, model.evaluate(params(x), testX, testY));
        lastEval = done;
      }
      if (!Participation.includes(js.seed(), round, js.numWorkers(), js.participation(),
          cfg.worker())) {
        r = round + 1;
        continue;
      }
      long t1 = System.nanoTime();
      for (int i = 0; i < tau; i++) {
        Batches.Batch batch = batches.next();
        Model.LossAndGradient lg = model.lossAndGradient(params(x), batch.features(),
            batch.targets());
        float[] g = lg.gradient().toFloatVector();
        for (int k = 0; k < x.length; k++) {
          x[k] -= lr * g[k];
        }
        lastLoss = lg.loss();
        done++;
        listener.onStep(cfg.worker(), done, lastLoss);
      }
      long t2 = System.nanoTime();
      computeNs += t2 - t1;
      try {
        client.push(cfg.worker(), round, PushKind.PUSH_MODEL, x, versions, null,
            (float) lastLoss);
        pushes++;
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() == Status.Code.ABORTED) {
          late++;
        } else {
          throw e;
        }
      }
      pushNs += System.nanoTime() - t2;
      r = round + 1;
    }
    return new Result(cfg.worker(), done, pushes, late, lastLoss, computeNs / 1e9, pullNs / 1e9,
        pushNs / 1e9);
  }

  private static long[] minMax(long[] v) {
    long lo = Long.MAX_VALUE;
    long hi = Long.MIN_VALUE;
    for (long x : v) {
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
    return new long[] {lo, hi};
  }

  static INDArray params(float[] x) {
    return Nd4j.create(x, new long[] {1, x.length}, DataType.FLOAT);
  }
}
