package io.parasol.worker.train;

import io.grpc.Status;
import io.parasol.common.BlockLayout;
import io.parasol.common.LrSchedules;
import io.parasol.common.Participation;
import io.parasol.common.Seeds;
import io.parasol.proto.v1.LrSchedule;
import io.parasol.proto.v1.LrScheduleKind;
import io.parasol.proto.v1.BlockResult;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.PushKind;
import io.parasol.proto.v1.PushOutcome;
import io.parasol.client.PsClient;
import io.parasol.client.ShardRollback;
import io.parasol.client.ShardRolledBackException;
import io.parasol.worker.data.Batches;
import io.parasol.worker.data.Dataset;
import io.parasol.worker.model.ArrayModel;
import io.parasol.worker.model.Model;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One worker's training loop: pull, compute the mini-batch gradient on the worker's partition,
 * push; under the job's mode.
 *
 * <ul>
 *   <li>sync: step t pulls x at version t (waiting at the barrier), pushes g(x_t) tagged t. A
 *       worker that fell behind (its step completed without it, with backup workers) catches
 *       up to the version it reads; a late push (ABORTED) is counted and skipped.
 *   <li>async: pulls whatever is there, pushes the gradient with the versions it read (only
 *       for its own blocks under coordinate-wise DASGD).
 *   <li>ssp: as async, with the worker's clock on each pull so the shard holds it while it
 *       leads the slowest worker by more than s steps.
 *   <li>local: round r pulls x_r, runs τ local SGD steps on the worker's copy and pushes the
 *       model tagged r; workers the round's participation sample leaves out skip the round.
 *       The job's step-size schedule applies here, to the local steps (in the other modes the
 *       shards apply it).
 * </ul>
 *
 * <p>Shard restarts are part of the protocol: when a shard rolls back to a checkpoint (the
 * client reports a {@link ShardRollback}: a new incarnation on a response, a push refused as
 * computed from blocks the shard no longer has, or a shard that lost its job), the loop logs
 * one line, counts it ({@link Result#rollbacks()}, and the worker's rollback metric), declares
 * the job again if the shard lost it, pulls again and carries on; the refused step is not
 * counted as done. It gives up (FAILED_PRECONDITION, one line) only after 100 rollbacks in a
 * row without a completed step ({@code Rollbacks}).
 */
public final class TrainingLoop {
  private static final Logger log = LoggerFactory.getLogger(TrainingLoop.class);

  /**
   * @param worker this worker's index k
   * @param job the job's settings (mode, seed, η, τ, participation, blocks to update)
   * @param steps number of gradient steps (sync: the version to train to; local: local steps,
   *     so rounds = ceil(steps/τ))
   * @param batchSize b
   * @param evalEvery evaluate the pulled model on the test set every this many steps (0: never)
   * @param computeDelay injected delay added to each step's compute
   * @param commDelay injected delay added to each push (a step's, or a local round's,
   *     communication)
   * @param arrivals DASGD: when fresh copies of the blocks the worker does not update arrive
   * @param allowDivergence true: a diverging loss does not stop the run (see
   *     {@link DivergenceWatch})
   */
  public record Config(int worker, JobSettings job, long steps, int batchSize, int evalEvery,
      DelayModel computeDelay, DelayModel commDelay, Arrivals arrivals,
      boolean allowDivergence) {
    public Config(int worker, JobSettings job, long steps, int batchSize, int evalEvery,
        DelayModel computeDelay, DelayModel commDelay, Arrivals arrivals) {
      this(worker, job, steps, batchSize, evalEvery, computeDelay, commDelay, arrivals, false);
    }

    public Config(int worker, JobSettings job, long steps, int batchSize, int evalEvery) {
      this(worker, job, steps, batchSize, evalEvery, DelayModel.NONE);
    }

    public Config(int worker, JobSettings job, long steps, int batchSize, int evalEvery,
        DelayModel computeDelay) {
      this(worker, job, steps, batchSize, evalEvery, computeDelay, DelayModel.NONE,
          Arrivals.ALWAYS);
    }

    Mode mode() {
      return job.mode();
    }
  }

  /** Progress callbacks; called on the worker's thread. */
  public interface Listener {
    default void onStep(int worker, long step, double loss) {}

    default void onEval(int worker, long step, Model.Evaluation eval) {}
  }

  /**
   * What one worker did; times in seconds ({@code evalSeconds}: spent evaluating the test set
   * inside the loop, in no other figure); {@code iterations}: async/ssp, its pushes a shard
   * applied, each one global iteration (0 in sync/local); {@code lipschitz}: its L_ij
   * estimates, null unless {@link #estimateLipschitz} was on; {@code rollbackEvents}: its
   * shard rollbacks, oldest first, each with the updates it lost.
   */
  public record Result(int worker, long steps, long pushes, long latePushes, double lastLoss,
      double computeSeconds, double pullSeconds, double waitSeconds, double pushSeconds,
      double evalSeconds, long rollbacks, long iterations, double[][] lipschitz,
      java.util.List<ShardRollback> rollbackEvents) {
    /** As above, with no rollbacks, no iterations counted and no L_ij estimates. */
    public Result(int worker, long steps, long pushes, long latePushes, double lastLoss,
        double computeSeconds, double pullSeconds, double waitSeconds, double pushSeconds,
        double evalSeconds) {
      this(worker, steps, pushes, latePushes, lastLoss, computeSeconds, pullSeconds,
          waitSeconds, pushSeconds, evalSeconds, 0, 0, null, java.util.List.of());
    }

    /**
     * The updates lost at the shard rollbacks this worker saw, a lower bound: over its
     * restarts, what each lost ({@link ShardRollback#jobUpdatesLost} of this worker alone).
     */
    public long updatesLost() {
      return ShardRollback.jobUpdatesLost(java.util.List.of(rollbackEvents));
    }
  }

  /**
   * Whether a step on arrays sends its push and the next pull in one PushPull call per shard
   * (default) rather than a Push and a Pull ({@code -Dparasol.pushPull=false}: sync still sends
   * the two at once, async and ssp one after the other).
   */
  static final boolean PUSH_PULL =
      Boolean.parseBoolean(System.getProperty("parasol.pushPull", "true"));

  private final PsClient client;
  private final Model model;
  private final Dataset part;
  private final Dataset test;
  private final Config cfg;
  private final Listener listener;
  private final WorkerMetrics metrics;
  private final DelayModel.Sleeper sleeper;
  private final DivergenceWatch divergence;

  // Bookkeeping of one run.
  private long pushes;
  private long late;
  private final Rollbacks rollbacks;
  private long iterations;
  private boolean estimateLipschitz;
  private LipschitzEstimator lipschitz;
  private volatile long done;
  private double lastLoss = Double.NaN;
  private long computeNs;
  private long pullNs;
  private long waitNs;
  private long pushNs;
  private long evalNs;
  private long lastEval = -1;
  private INDArray testX;
  /** The test set as arrays, for an {@link ArrayModel} (made at the first evaluation). */
  private float[] testXf;
  private float[] testYf;
  private INDArray testY;
  private boolean prepared;

  public TrainingLoop(PsClient client, Model model, Dataset part, Dataset test, Config cfg,
      Listener listener) {
    this(client, model, part, test, cfg, listener, null, DelayModel.REAL);
  }

  /**
   * @param metrics where the worker's meters go (null: none)
   * @param sleeper how injected delays are spent
   */
  public TrainingLoop(PsClient client, Model model, Dataset part, Dataset test, Config cfg,
      Listener listener, WorkerMetrics metrics, DelayModel.Sleeper sleeper) {
    this.client = client;
    this.model = model;
    this.part = part;
    this.test = test;
    this.cfg = cfg;
    this.listener = listener == null ? new Listener() {} : listener;
    this.metrics = metrics;
    this.sleeper = sleeper;
    this.rollbacks = new Rollbacks(client, cfg.worker(), metrics);
    this.divergence = new DivergenceWatch(cfg.worker(), cfg.job().learningRate(),
        !cfg.allowDivergence());
  }

  /**
   * Estimates the block Lipschitz constants L_ij online (sync, async, ssp): after each step's
   * gradient, one more gradient on the same mini-batch with one block moved (see
   * {@link LipschitzEstimator}); the estimates come back in {@link Result#lipschitz()} and as
   * gauges. Call before {@link #run()}.
   */
  public TrainingLoop estimateLipschitz(boolean on) {
    this.estimateLipschitz = on;
    return this;
  }

  /**
   * A per-worker seed derived from the job seed, so workers draw independent batches, and two
   * job seeds independent ones ({@link Seeds}).
   */
  public static long workerSeed(long seed, int worker) {
    return Seeds.base(seed) + 0x632BE59BD9B4E019L * (worker + 1);
  }

  /**
   * Start-up before the first step: the test set in the form the evaluations read (which
   * loads ND4J's native backend on first use). {@link #run()} calls it when the caller did not;
   * a caller that times training calls it first, so start-up stays out of its clock (the
   * PyTorch peer of {@code bench train} also starts its clock once its processes are up).
   * Idempotent.
   */
  public TrainingLoop prepare() {
    if (prepared) {
      return this;
    }
    prepared = true;
    if (test != null && cfg.evalEvery() > 0) {
      Batches.Batch all = Batches.all(test);
      testX = all.features();
      testY = all.targets();
      if (model instanceof ArrayModel) {
        // An array model evaluates on arrays: the test set is copied out of ND4J once.
        testXf = OffHeap.floats(testX);
        testYf = OffHeap.floats(testY);
      }
    }
    return this;
  }

  public Result run() {
    prepare();
    Batches batches = new Batches(part, cfg.batchSize(), workerSeed(cfg.job().seed(),
        cfg.worker()));
    SplittableRandom delayRng = new SplittableRandom(workerSeed(cfg.job().seed(), cfg.worker())
        ^ 0x5DEECE66DL);
    DelayModel.Uniforms delays = cfg.computeDelay().uniforms(cfg.worker(), delayRng);
    // Keep the lease alive while waiting at a barrier or computing for long.
    long period = Math.max(50, cfg.job().lease() / 4);
    ScheduledExecutorService heartbeats = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread th = new Thread(r, "heartbeat-" + cfg.worker());
      th.setDaemon(true);
      return th;
    });
    heartbeats.scheduleWithFixedDelay(() -> client.heartbeat(cfg.worker(), done), period,
        period, TimeUnit.MILLISECONDS);
    try {
      if (cfg.mode() == Mode.MODE_LOCAL) {
        runLocal(batches, delays);
      } else {
        runGradients(batches, delays);
      }
      // No heartbeat may land after the leave (it would bring the worker back).
      heartbeats.shutdown();
      heartbeats.awaitTermination(1, TimeUnit.MINUTES);
      client.leave(cfg.worker(), done);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Status.CANCELLED.withDescription("worker " + cfg.worker() + " interrupted")
          .asRuntimeException();
    } finally {
      heartbeats.shutdownNow();
    }
    rollbacks.note();
    return new Result(cfg.worker(), done, pushes, late, lastLoss, computeNs / 1e9, pullNs / 1e9,
        waitNs / 1e9, pushNs / 1e9, evalNs / 1e9, rollbacks.count(), iterations,
        lipschitz == null ? null : lipschitz.snapshot(), rollbacks.events());
  }

  /** sync, async and ssp. */
  private void runGradients(Batches batches, DelayModel.Uniforms delays)
      throws InterruptedException {
    int d = client.layout().dimension();
    boolean sync = cfg.mode() == Mode.MODE_SYNC;
    int[] updateBlocks = cfg.job().updateBlocksFor(cfg.worker(), client.layout());
    StaleCopies stale = cfg.arrivals().isAlways() ? null : new StaleCopies(
        client.layout(), updateBlocks, cfg.arrivals().channel(client.layout().numBlocks(),
            workerSeed(cfg.job().seed(), cfg.worker()) ^ 0xA0761D6478BD642FL));
    if (estimateLipschitz) {
      lipschitz = new LipschitzEstimator(client.layout(), 1e-2,
          workerSeed(cfg.job().seed(), cfg.worker()) ^ 0x1B873593L);
      if (metrics != null) {
        metrics.lipschitz(lipschitz, client.layout().numBlocks());
      }
    }
    // A model that computes on arrays (ArrayModel) is pulled into a float[], computes its
    // gradient into a float[] that is pushed as it is, from batches copied into reused arrays:
    // no ND4J array per step. Otherwise, without simulated arrivals, the model is pulled
    // straight into off-heap memory that the gradient is computed from, and the gradient's own
    // memory is pushed. DASGD arrivals merge block copies in a float[] (the worker's stale view).
    ArrayModel am = model instanceof ArrayModel a ? a : null;
    boolean arrays = am != null || stale != null;
    INDArray xNd = arrays ? null : Nd4j.create(DataType.FLOAT, 1, d);
    float[] x = arrays ? new float[d] : null;
    float[] fresh = stale == null ? null : new float[d];
    float[] grad = am == null ? null : new float[d];
    float[] bx = am == null ? null : new float[cfg.batchSize() * part.numFeatures()];
    float[] by = am == null ? null : new float[cfg.batchSize()];
    // On arrays, step t+1's pull goes with step t's push, into a second buffer. sync: the pull
    // waits at the shards for the round the push completes, as a pull after the push would.
    // async/ssp (PushPull only): each shard serves the pull right after applying the push, as
    // the pull sent after the push's answer would be (nothing older is read: it saves the
    // round trip, not a wait).
    boolean pipelined = am != null && stale == null && (sync || PUSH_PULL);
    float[] xNext = pipelined ? new float[d] : null;
    CompletableFuture<long[]> nextPull = null;
    long t = 0;
    while (sync ? t < cfg.steps() : done < cfg.steps()) {
      long t0 = System.nanoTime();
      long[] versions;
      try {
        if (stale != null) {
          versions = stale.merge(fresh, client.pull(cfg.worker(), fresh, sync ? t : 0, done),
              x);
        } else if (nextPull != null) {
          // Pipelined: this step's pull left with the last step's push.
          CompletableFuture<long[]> f = nextPull;
          nextPull = null;
          versions = PsClient.await(f);
          float[] swap = x;
          x = xNext;
          xNext = swap;
        } else if (arrays) {
          versions = client.pull(cfg.worker(), x, sync ? t : 0, done);
        } else {
          versions = client.pull(cfg.worker(), OffHeap.bytes(xNd, d), sync ? t : 0, done);
        }
      } catch (ShardRolledBackException e) {
        xNext = pipelined ? new float[d] : null; // an abandoned pull may still write the old one
        rollbacks.recover(e.rollback());
        t = 0;
        continue;
      }
      if (rollbacks.note() && stale != null) {
        // The worker's stale copies of other blocks came from the old incarnation.
        stale.reset();
        versions = stale.merge(fresh, client.pull(cfg.worker(), fresh, 0, done), x);
      }
      long pull = System.nanoTime() - t0;
      // The shard's wait counts from the pull's arrival; a pipelined pull arrives with the
      // last push, so part of that wait overlapped the push (counted there). What this step
      // waited is at most what it blocked on the pull.
      long wait = Math.min(client.lastPullWaitMicros() * 1000, pull);
      // sync: each shard's step is the version of its blocks. They agree unless backup workers
      // or a shard restored from a checkpoint moved one shard on; each shard then gets the
      // gradient for its own step.
      BlockLayout layout = client.layout();
      long[] steps = sync ? ShardSteps.shardSteps(layout, versions)
          : ShardSteps.uniform(layout, done);
      long step = sync ? ShardSteps.minPositive(steps) : done;
      if (sync && step >= cfg.steps()) {
        pullNs += pull;
        waitNs += wait;
        break;
      }
      // sync with backup workers: a shard may already be at the last step while another is
      // not; it gets no gradient for a step past the job's end.
      int[] pushBlocks = sync ? ShardSteps.blocksOfShardsBelow(layout, steps, cfg.steps(),
          updateBlocks)
          : updateBlocks;
      if (arrays) {
        maybeEvaluate(x);
      } else {
        maybeEvaluate(xNd);
      }
      long t1 = System.nanoTime();
      double loss;
      int rows;
      long computeMark;
      PsClient.ShardOutcome[] outcomes;
      if (am != null) {
        rows = batches.nextInto(bx, by);
        loss = am.lossAndGradient(x, bx, by, rows, grad);
        if (lipschitz != null) {
          final int n = rows;
          lipschitz.probe(x, grad, (px, pg) -> am.lossAndGradient(px, bx, by, n, pg));
        }
        sleeper.sleepNanos(cfg.computeDelay().sample(delays));
        long t2 = System.nanoTime();
        sleeper.sleepNanos(cfg.commDelay().sample(delays));
        if (pipelined && step + 1 < cfg.steps()) {
          // The next step's pull leaves with this push (one round trip less per step); it
          // reads what it would have read after the push.
          CompletableFuture<PsClient.ShardOutcome[]> pushed;
          if (PUSH_PULL) {
            // One PushPull call per shard carries both.
            PsClient.PushedAndPulled both = client.pushThenPullAsync(cfg.worker(), steps,
                PushKind.PUSH_GRADIENT, grad, versions, pushBlocks, (float) loss, xNext,
                sync ? step + 1 : 0, done + 1, sync);
            pushed = both.pushed();
            nextPull = both.pulled();
          } else {
            pushed = client.pushEachAsync(cfg.worker(), steps, PushKind.PUSH_GRADIENT, grad,
                versions, pushBlocks, (float) loss);
            nextPull = client.pullAfterPushAsync(cfg.worker(), xNext, step + 1, done + 1);
          }
          outcomes = PsClient.await(pushed);
        } else {
          outcomes = client.pushEach(cfg.worker(), steps, PushKind.PUSH_GRADIENT, grad,
              versions, pushBlocks, (float) loss);
        }
        computeMark = t2;
      } else {
        Batches.Batch batch = batches.next();
        rows = batch.size();
        Model.LossAndGradient lg = model.lossAndGradient(arrays ? params(x) : xNd,
            batch.features(), batch.targets());
        loss = lg.loss();
        if (lipschitz != null) {
          float[] at = arrays ? x : xNd.toFloatVector();
          lipschitz.probe(at, lg.gradient().toFloatVector(), (px, pg) -> System.arraycopy(
              model.lossAndGradient(params(px), batch.features(), batch.targets()).gradient()
                  .toFloatVector(), 0, pg, 0, pg.length));
        }
        sleeper.sleepNanos(cfg.computeDelay().sample(delays));
        long t2 = System.nanoTime();
        sleeper.sleepNanos(cfg.commDelay().sample(delays));
        outcomes = arrays
            ? client.pushEach(cfg.worker(), steps, PushKind.PUSH_GRADIENT,
                lg.gradient().toFloatVector(), versions, pushBlocks, (float) loss)
            : client.pushEach(cfg.worker(), steps, PushKind.PUSH_GRADIENT,
                OffHeap.bytes(lg.gradient(), d), versions, pushBlocks, (float) loss);
        computeMark = t2;
      }
      ShardRollback refused = recordOutcomes(outcomes, sync);
      if (refused != null) {
        // A shard rolled back under this step: pull again (without waiting for a version the
        // shard may no longer reach) and compute the step again.
        if (nextPull != null) {
          nextPull = null;
          xNext = new float[d]; // the abandoned pull may still write the old buffer
        }
        rollbacks.recover(refused);
        t = 0;
        continue;
      }
      pushes++;
      long t3 = System.nanoTime();
      finishStep(loss, rows, computeMark - t1, pull, wait, t3 - computeMark);
      t = step + 1;
    }
  }

  /**
   * Counts late contributions (ABORTED: the round was over; OUT_OF_RANGE: the shard rolled back
   * to a checkpoint) and contributions a shard already had (ALREADY_EXISTS, after a retry
   * across a shard restart); returns the rollback of a shard that refused the push because it
   * rolled back (null: none); any other refusal ends the run.
   */
  private ShardRollback recordOutcomes(PsClient.ShardOutcome[] outcomes, boolean rounds) {
    long sum = 0;
    int n = 0;
    boolean wasLate = false;
    ShardRollback refused = null;
    boolean applied = false;
    for (PsClient.ShardOutcome o : outcomes) {
      if (o == null) {
        continue;
      }
      if (o.rollback() != null) {
        refused = o.rollback();
        continue;
      }
      if (o.ok()) {
        applied |= o.response().getOutcome() == PushOutcome.PUSH_APPLIED;
        for (BlockResult b : o.response().getBlocksList()) {
          sum += b.getStaleness();
          n++;
        }
        continue;
      }
      Status.Code code = o.status().getCode();
      if (rounds && (code == Status.Code.ABORTED || code == Status.Code.OUT_OF_RANGE)) {
        // ABORTED: the round was over. OUT_OF_RANGE: the shard restarted from a checkpoint
        // behind this step; the next pull reads its version and the worker contributes again.
        // With backup workers late gradients are the scheme; without, one means the live set
        // changed (an expired lease, a closed connection) or a shard restarted: the first is
        // logged where it can be seen.
        String line = "worker " + cfg.worker() + ": contribution to shard " + o.shard()
            + " came too late (" + code + "): " + o.status().getDescription();
        if (late == 0 && !wasLate) {
          log.info("{}; later ones are logged at debug", line);
        } else {
          log.debug(line);
        }
        wasLate = true;
      } else if (!(rounds && code == Status.Code.ALREADY_EXISTS)) {
        throw o.status().augmentDescription("push to shard " + o.shard()).asRuntimeException();
      }
    }
    if (wasLate) {
      late++;
    }
    // async/ssp: a push that a shard applied is one global iteration n (sync/local iterate in
    // rounds, which the shards count).
    if (applied && !rounds) {
      iterations++;
      if (metrics != null) {
        metrics.iteration();
      }
    }
    if (metrics != null && n > 0) {
      metrics.staleness((double) sum / n);
    }
    return refused;
  }

  /** Local-update SGD. */
  private void runLocal(Batches batches, DelayModel.Uniforms delays)
      throws InterruptedException {
    JobSettings js = cfg.job();
    int tau = js.localSteps();
    long rounds = (cfg.steps() + tau - 1) / tau;
    float lr = js.learningRate();
    // The step-size schedule runs here, on the worker's local steps: local step i of round r
    // is at version r + i/τ of the schedule over the job's rounds (the shards only average).
    LrSchedule schedule = js.lrSchedule().toBuilder().setHorizon(js.lrHorizon(cfg.steps()))
        .build();
    boolean scheduled = schedule.getKind() != LrScheduleKind.LR_SCHEDULE_CONSTANT;
    float[] x = new float[client.layout().dimension()];
    ArrayModel am = model instanceof ArrayModel a ? a : null;
    float[] g = am == null ? null : new float[x.length];
    float[] bx = am == null ? null : new float[cfg.batchSize() * part.numFeatures()];
    float[] by = am == null ? null : new float[cfg.batchSize()];
    long r = 0;
    while (r < rounds) {
      long t0 = System.nanoTime();
      long[] versions;
      long wait;
      long round;
      try {
        versions = client.pull(cfg.worker(), x, r, done);
        wait = client.lastPullWaitMicros() * 1000;
        round = ShardSteps.max(versions);
        if (ShardSteps.min(versions) != round) {
          versions = client.pull(cfg.worker(), x, round, done);
          wait += client.lastPullWaitMicros() * 1000;
        }
      } catch (ShardRolledBackException e) {
        rollbacks.recover(e.rollback());
        r = 0;
        continue;
      }
      rollbacks.note();
      long pull = System.nanoTime() - t0;
      if (round >= rounds) {
        pullNs += pull;
        waitNs += wait;
        break;
      }
      maybeEvaluate(x);
      if (!Participation.includes(js.seed(), round, js.workerCapacity(), js.participation(),
          cfg.worker())) {
        pullNs += pull;
        waitNs += wait;
        r = round + 1;
        continue;
      }
      long t1 = System.nanoTime();
      int examples = 0;
      for (int i = 0; i < tau; i++) {
        int rows;
        if (am != null) {
          rows = batches.nextInto(bx, by);
          lastLoss = am.lossAndGradient(x, bx, by, rows, g);
        } else {
          Batches.Batch batch = batches.next();
          rows = batch.size();
          Model.LossAndGradient lg = model.lossAndGradient(params(x), batch.features(),
              batch.targets());
          g = lg.gradient().toFloatVector();
          lastLoss = lg.loss();
        }
        float eta = scheduled
            ? (float) (lr * LrSchedules.factor(schedule, round + (double) i / tau)) : lr;
        for (int k = 0; k < x.length; k++) {
          x[k] -= eta * g[k];
        }
        sleeper.sleepNanos(cfg.computeDelay().sample(delays));
        divergence.observe(done + i + 1, lastLoss);
        examples += rows;
        listener.onStep(cfg.worker(), done + i + 1, lastLoss);
      }
      long t2 = System.nanoTime();
      sleeper.sleepNanos(cfg.commDelay().sample(delays));
      ShardRollback refused = recordOutcomes(client.pushEach(cfg.worker(),
          ShardSteps.uniform(client.layout(), round), PushKind.PUSH_MODEL, x, versions, null,
          (float) lastLoss), true);
      if (refused != null) {
        rollbacks.recover(refused);
        r = 0;
        continue;
      }
      pushes++;
      long t3 = System.nanoTime();
      done += tau - 1; // finishStep counts the last one
      finishStep(lastLoss, examples, t2 - t1, pull, wait, t3 - t2);
      r = round + 1;
    }
  }

  private void maybeEvaluate(float[] x) {
    if (testX == null || (lastEval >= 0 && done - lastEval < cfg.evalEvery())) {
      return;
    }
    if (!(model instanceof ArrayModel am)) {
      maybeEvaluate(params(x));
      return;
    }
    long t0 = System.nanoTime();
    Model.Evaluation e = am.evaluate(x, testXf, testYf, (int) testX.rows());
    recordEvaluation(e, System.nanoTime() - t0);
  }

  private void maybeEvaluate(INDArray x) {
    if (testX == null || (lastEval >= 0 && done - lastEval < cfg.evalEvery())) {
      return;
    }
    long t0 = System.nanoTime();
    Model.Evaluation e = model.evaluate(x, testX, testY);
    recordEvaluation(e, System.nanoTime() - t0);
  }

  private void recordEvaluation(Model.Evaluation e, long nanos) {
    evalNs += nanos;
    lastEval = done;
    if (metrics != null) {
      metrics.evaluated(e.loss(), e.accuracy());
    }
    listener.onEval(cfg.worker(), done, e);
  }

  private void finishStep(double loss, int examples, long compute, long pull, long wait,
      long push) {
    rollbacks.stepDone();
    lastLoss = loss;
    if (cfg.mode() != Mode.MODE_LOCAL) {
      divergence.observe(done + 1, loss);
    }
    computeNs += compute;
    pullNs += pull;
    waitNs += wait;
    pushNs += push;
    done++;
    if (metrics != null) {
      metrics.step(loss, examples, compute, pull, wait, push);
    }
    if (cfg.mode() != Mode.MODE_LOCAL) {
      listener.onStep(cfg.worker(), done, loss);
    }
  }

  static INDArray params(float[] x) {
    return Nd4j.create(x, new long[] {1, x.length}, DataType.FLOAT);
  }
}
