package io.parasol.experiments.runner;

import io.micrometer.core.instrument.MeterRegistry;
import java.io.Closeable;
import io.parasol.common.BlockLayout;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.StatusResponse;
import io.parasol.proto.v1.ValueEncoding;
import io.parasol.client.PsClient;
import io.parasol.server.LocalCluster;
import io.parasol.worker.data.Batches;
import io.parasol.worker.data.Dataset;
import io.parasol.worker.model.Model;
import io.parasol.worker.model.Models;
import io.parasol.worker.train.Arrivals;
import io.parasol.worker.train.DelayModel;
import io.parasol.worker.train.JobKeys;
import io.parasol.worker.train.JobSettings;
import io.parasol.worker.train.TrainingData;
import io.parasol.worker.train.TrainingLoop;
import io.parasol.worker.train.WorkerMetrics;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The embedded cluster job: S shards and M workers in one JVM, over real gRPC on 127.0.0.1.
 * Loads the data, starts the shards, runs every worker on its own thread with its own channels,
 * evaluates the final model and summarises the run.
 */
public final class LocalRunner {

  /**
   * What to run. {@code steps} > 0 wins over {@code epochs}. Build with {@link #builder}: every
   * run setting left unset takes its {@link JobKeys} default (no injected delays, fp32 on the
   * wire, divergence stops the run).
   */
  public record Options(JobSettings job, String model, TrainingData data, int batchSize,
      int epochs, long steps, int evalEvery, Duration rpcTimeout, Duration pullTimeout,
      DelayModel computeDelay, DelayModel commDelay, Arrivals arrivals, int slowWorkers,
      double slowFactor, ValueEncoding wire, boolean allowDivergence,
      Models.Options modelOptions, boolean estimateLipschitz, String jobName,
      LocalCluster cluster) {

    /** A builder for training {@code model} on {@code data} under {@code job}. */
    public static Builder builder(JobSettings job, String model, TrainingData data) {
      return new Builder(job, model, data);
    }

    /** Builds {@link Options}; see the record's components for each value's meaning. */
    public static final class Builder {
      private final JobSettings job;
      private final String model;
      private final TrainingData data;
      private int batchSize = JobKeys.BATCH_SIZE.defaultValue();
      private int epochs = JobKeys.EPOCHS.defaultValue();
      private long steps = JobKeys.STEPS.defaultValue();
      private int evalEvery = JobKeys.EVAL_EVERY.defaultValue();
      private Duration rpcTimeout = Duration.ofMillis(JobKeys.RPC_TIMEOUT.defaultValue());
      private Duration pullTimeout = Duration.ofMillis(JobKeys.PULL_TIMEOUT.defaultValue());
      private DelayModel computeDelay = DelayModel.NONE;
      private DelayModel commDelay = DelayModel.NONE;
      private Arrivals arrivals = Arrivals.ALWAYS;
      private int slowWorkers;
      private double slowFactor = 1;
      private ValueEncoding wire = ValueEncoding.VALUE_ENCODING_FP32;
      private boolean allowDivergence;
      private Models.Options modelOptions = Models.Options.DEFAULT;
      private boolean estimateLipschitz;
      private String jobName = "default";
      private LocalCluster cluster;

      private Builder(JobSettings job, String model, TrainingData data) {
        this.job = job;
        this.model = model;
        this.data = data;
      }

      public Builder batchSize(int v) {
        batchSize = v;
        return this;
      }

      public Builder epochs(int v) {
        epochs = v;
        return this;
      }

      public Builder steps(long v) {
        steps = v;
        return this;
      }

      public Builder evalEvery(int v) {
        evalEvery = v;
        return this;
      }

      public Builder timeouts(Duration rpc, Duration pull) {
        rpcTimeout = rpc;
        pullTimeout = pull;
        return this;
      }

      public Builder computeDelay(DelayModel v) {
        computeDelay = v;
        return this;
      }

      public Builder commDelay(DelayModel v) {
        commDelay = v;
        return this;
      }

      public Builder arrivals(Arrivals v) {
        arrivals = v;
        return this;
      }

      /** The last {@code count} workers' compute delay is {@code factor} times longer. */
      public Builder slowWorkers(int count, double factor) {
        slowWorkers = count;
        slowFactor = factor;
        return this;
      }

      public Builder wire(ValueEncoding v) {
        wire = v;
        return this;
      }

      public Builder allowDivergence(boolean v) {
        allowDivergence = v;
        return this;
      }

      public Builder modelOptions(Models.Options v) {
        modelOptions = v;
        return this;
      }

      /** Whether the workers estimate the block Lipschitz constants L_ij. */
      public Builder estimateLipschitz(boolean v) {
        estimateLipschitz = v;
        return this;
      }

      /** The job's name on the shards (default "default"). */
      public Builder jobName(String v) {
        jobName = v;
        return this;
      }

      /**
       * Runs on these shards, next to whatever other jobs they hold, instead of starting (and
       * stopping) an embedded cluster of its own; null: its own.
       */
      public Builder cluster(LocalCluster v) {
        cluster = v;
        return this;
      }

      /** The options, the run settings checked against their {@link JobKeys} bounds. */
      public Options build() {
        JobKeys.BATCH_SIZE.check(batchSize);
        JobKeys.EPOCHS.check(epochs);
        JobKeys.STEPS.check(steps);
        JobKeys.EVAL_EVERY.check(evalEvery);
        return new Options(job, model, data, batchSize, epochs, steps, evalEvery, rpcTimeout,
            pullTimeout, computeDelay, commDelay, arrivals, slowWorkers, slowFactor, wire,
            allowDivergence, modelOptions, estimateLipschitz, jobName, cluster);
      }
    }

    /** The compute delay of worker k: the last {@code slowWorkers} are slower by the factor. */
    DelayModel computeDelayOf(int worker) {
      return worker >= job.numWorkers() - slowWorkers ? computeDelay.scaled(slowFactor)
          : computeDelay;
    }
  }

  /** The run's outcome, as printed and as written to the summary JSON. */
  public record Summary(String mode, int shards, int workers, String model, String data,
      int params, int blocks, long stepsPerWorker, int batchSize, double learningRate, long seed,
      double testAccuracy, double testLoss, double trainLoss, double wallSeconds,
      long updatesApplied, long pushesApplied, long latePushes, double meanStaleness,
      long maxStaleness, Map<String, Object> modeParameters, Map<String, Object> stepMillis,
      long[] stalenessCounts, double meanAoi, List<double[]> testCurve, double trainSeconds,
      double evalSeconds, JobFloor floor) {

    public Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("complete", true);
      m.put("mode", mode);
      m.put("shards", shards);
      m.put("workers", workers);
      m.put("model", model);
      m.put("data", data);
      m.put("params", params);
      m.put("blocks", blocks);
      m.put("steps_per_worker", stepsPerWorker);
      m.put("batch_size", batchSize);
      m.put("learning_rate", learningRate);
      m.put("seed", seed);
      m.put("test_accuracy", testAccuracy);
      m.put("test_loss", testLoss);
      m.put("train_loss", trainLoss);
      m.put("wall_seconds", wallSeconds);
      m.put("train_seconds", trainSeconds);
      m.put("eval_seconds", evalSeconds);
      m.put("updates_applied", updatesApplied);
      m.put("pushes_applied", pushesApplied);
      m.put("late_pushes", latePushes);
      m.put("mean_staleness", meanStaleness);
      m.put("max_staleness", maxStaleness);
      m.put("mode_parameters", modeParameters);
      m.put("step_ms", stepMillis);
      m.put("mean_aoi", meanAoi);
      if (floor != null) {
        m.put("iterations", floor.iterations());
        m.put("kappa", floor.kappaList());
        m.put("error_floor", floor.errorFloor());
        m.put("lipschitz", floor.lipschitz() == null ? "1" : "estimated");
      }
      return m;
    }

    public String toJson() {
      return Json.write(toMap());
    }
  }

  private LocalRunner() {}

  /** Runs the job; progress lines go to {@code out} (null: silent). */
  public static Summary run(Options o, MeterRegistry registry, PrintStream out)
      throws IOException, InterruptedException {
    return run(o, registry, out, null);
  }

  /**
   * Runs the job; progress lines go to {@code out} (null: silent); when {@code runDir} is not
   * null, writes the run folder (CSV and PNG plots) there.
   */
  public static Summary run(Options o, MeterRegistry registry, PrintStream out, Path runDir)
      throws IOException, InterruptedException {
    return run(o, registry, out, runDir, null);
  }

  /** As above; {@code onStart} (may be null) sees the cluster once its shards are up. */
  public static Summary run(Options o, MeterRegistry registry, PrintStream out, Path runDir,
      java.util.function.Consumer<LocalCluster> onStart)
      throws IOException, InterruptedException {
    JobSettings js = o.job();
    TrainingData data = o.data();
    Dataset train = data.train();
    Model model = Models.create(o.model(), train.numFeatures(), train.numClasses(),
        o.modelOptions());
    BlockLayout layout = js.layout(model);
    JobSpec spec = js.spec(o.jobName(), model, layout);
    int m = js.numWorkers();
    long steps = o.steps() > 0 ? o.steps()
        : (long) o.epochs() * ceilDiv(data.part(m, 0).numExamples(), o.batchSize());
    js.validated();
    if (steps <= 0) {
      throw new IllegalArgumentException("nothing to do: steps and epochs are both 0");
    }
    if (out != null) {
      out.printf(Locale.ROOT, "parasol local: %s mode, %d shards, %d workers, model %s (%d params"
              + " in %d blocks), data %s (%d train / %d test), %d steps per worker%n",
          JobSettings.modeName(js.mode()), js.numShards(), m, model.name(), layout.dimension(),
          layout.numBlocks(), data.source(), train.numExamples(), data.test().numExamples(),
          steps);
    }
    long start = System.nanoTime();
    LocalCluster own = o.cluster() == null ? LocalCluster.start(js.numShards(), registry) : null;
    try (Closeable closing = own == null ? () -> { } : own::close) {
      LocalCluster cluster = own != null ? own : o.cluster();
      List<PsClient> clients = new ArrayList<>();
      ExecutorService pool = Executors.newFixedThreadPool(m, r -> {
        Thread t = new Thread(r, "worker");
        t.setDaemon(true);
        return t;
      });
      try {
        for (int k = 0; k < m; k++) {
          clients.add(PsClient.connect(PsClient.Connection.plaintext(cluster.addresses()),
              layout, o.rpcTimeout(), o.pullTimeout(), registry,
              PsClient.Transport.DEFAULT.withEncoding(o.wire())));
        }
        clients.get(0).init(spec);
        if (onStart != null) {
          onStart.accept(cluster);
        }
        RunReport report = new RunReport(steps, new Progress(out, steps, start,
            (long) m * o.batchSize()));
        // Ctrl-C, SIGTERM or a failure (divergence) during the run: the run folder keeps what
        // was measured so far, marked incomplete.
        Runnable writePartial = () -> {
          try {
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("mode", JobSettings.modeName(js.mode()));
            info.put("shards", js.numShards());
            info.put("workers", m);
            info.put("model", model.name());
            info.put("data", data.source());
            report.writePartial(runDir, info);
            System.err.println("parasol local: stopped before the end; what ran is in "
                + runDir);
          } catch (IOException | RuntimeException e) {
            System.err.println("parasol local: stopped before the end; could not write "
                + runDir + ": " + e.getMessage());
          }
        };
        Thread partial = runDir == null ? null : new Thread(writePartial, "partial-report");
        if (partial != null) {
          Runtime.getRuntime().addShutdownHook(partial);
        }
        try {
          List<Future<TrainingLoop.Result>> futures = new ArrayList<>();
        java.util.concurrent.CompletionService<TrainingLoop.Result> done =
            new java.util.concurrent.ExecutorCompletionService<>(pool);
          long trainStart = System.nanoTime();
          for (int k = 0; k < m; k++) {
            PsClient c = clients.get(k);
            c.init(spec);
            TrainingLoop loop = new TrainingLoop(c, model, data.part(js, k), data.test(),
                new TrainingLoop.Config(k, js, steps, o.batchSize(), k == 0 ? o.evalEvery() : 0,
                    o.computeDelayOf(k), o.commDelay(), o.arrivals(), o.allowDivergence()),
                report, registry == null ? null : new WorkerMetrics(registry, k, spec.getJobName()),
                DelayModel.REAL).estimateLipschitz(o.estimateLipschitz());
            futures.add(done.submit(loop::run));
          }
          // The first worker to fail (divergence, a refused push) ends the run: the pool is
          // shut down (interrupting the others) on the way out.
          List<TrainingLoop.Result> results = new ArrayList<>();
          for (int k = 0; k < futures.size(); k++) {
            try {
              results.add(done.take().get());
            } catch (ExecutionException e) {
              Throwable cause = e.getCause();
              if (cause instanceof RuntimeException re) {
                throw re;
              }
              throw new IllegalStateException(cause);
            }
          }
          double wall = (System.nanoTime() - start) / 1e9;
          double trainSeconds = (System.nanoTime() - trainStart) / 1e9;
          float[] x = new float[layout.dimension()];
          clients.get(0).pull(0, x, 0, 0);
          INDArray params = Nd4j.create(x, new long[] {1, x.length}, DataType.FLOAT);
          Batches.Batch testAll = Batches.all(data.test());
          Batches.Batch trainAll = Batches.all(train);
          Model.Evaluation testEval = model.evaluate(params, testAll.features(),
              testAll.targets());
          Model.Evaluation trainEval = model.evaluate(params, trainAll.features(),
              trainAll.targets());
          long updates = 0;
          long pushes = 0;
          long stalenessSum = 0;
          long stalenessCount = 0;
          long stalenessMax = 0;
          for (StatusResponse s : clients.get(0).status()) {
            updates += s.getUpdatesApplied();
            pushes += s.getPushesApplied();
            stalenessSum += s.getStalenessSum();
            stalenessCount += s.getStalenessCount();
            stalenessMax = Math.max(stalenessMax, s.getStalenessMax());
          }
          long late = results.stream().mapToLong(TrainingLoop.Result::latePushes).sum();
          long[] tauCounts = new long[0];
          for (StatusResponse s : clients.get(0).status()) {
            if (tauCounts.length < s.getStalenessCountsCount()) {
              tauCounts = java.util.Arrays.copyOf(tauCounts, s.getStalenessCountsCount());
            }
            for (int k = 0; k < s.getStalenessCountsCount(); k++) {
              tauCounts[k] += s.getStalenessCounts(k);
            }
          }
          Summary summary = new Summary(JobSettings.modeName(js.mode()), js.numShards(), m,
              model.name(),
              data.source(), layout.dimension(), layout.numBlocks(), steps, o.batchSize(),
              js.learningRate(), js.seed(), testEval.accuracy(), testEval.loss(),
              trainEval.loss(), wall, updates, pushes, late,
              stalenessCount == 0 ? 0 : (double) stalenessSum / stalenessCount, stalenessMax,
              modeParameters(js), stepMillis(results), tauCounts,
              meanAoi(cluster, layout, spec.getJobName()),
              report.testCurve(), trainSeconds,
              results.stream().mapToDouble(TrainingLoop.Result::evalSeconds).sum(),
              JobFloor.of(cluster, layout, js.mode(), results, spec.getJobName()));
          if (runDir != null) {
            report.write(runDir, summary);
          }
          removeHook(partial);
          return summary;
        } catch (RuntimeException | InterruptedException e) {
          if (removeHook(partial)) {
            writePartial.run();
          }
          throw e;
        }
      } finally {
        pool.shutdownNow();
        for (PsClient c : clients) {
          c.close();
        }
      }
    }
  }

  /** Unregisters the partial-report hook; false when the JVM is already shutting down. */
  private static boolean removeHook(Thread hook) {
    if (hook == null) {
      return false;
    }
    try {
      return Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      return false;
    }
  }

  static Map<String, Object> modeParameters(JobSettings js) {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("quorum", js.quorum() == 0 ? js.numWorkers() : js.quorum());
    p.put("partition", js.partition());
    p.put("optimizer", js.optimizer().name().substring("OPTIMIZER_".length())
        .toLowerCase(Locale.ROOT));
    switch (js.mode()) {
      case MODE_ASYNC, MODE_SSP -> {
        p.put("max_staleness", js.maxStaleness());
        p.put("staleness_lr", js.stalenessLr().name().substring("STALENESS_LR_".length())
            .toLowerCase(Locale.ROOT));
        p.put("update_blocks", js.updateBlocks());
        if (!js.blockLr().isBlank()) {
          p.put("block_lr", js.blockLr());
        }
        if (js.mode() == io.parasol.proto.v1.Mode.MODE_SSP) {
          p.put("staleness_bound", js.stalenessBound());
        }
      }
      case MODE_LOCAL -> {
        p.put("local_steps", js.localSteps());
        p.put("participation", js.participation() <= 0 ? 1.0 : (double) js.participation());
      }
      default -> { }
    }
    return p;
  }

  /** The mean Δ_ij over every pair and update, from the shards' trackers (NaN if none). */
  static double meanAoi(LocalCluster cluster, BlockLayout layout, String jobName) {
    double sum = 0;
    long n = 0;
    for (var server : cluster.servers()) {
      var t = server.core().tracker(jobName);
      if (t == null) {
        continue;
      }
      for (var bi : layout.blocksOf(server.core().shardIndex())) {
        for (var bj : layout.blocks()) {
          long c = t.aoiCount(bi.id(), bj.id());
          if (bi.id() != bj.id() && c > 0) {
            sum += t.meanAoi(bi.id(), bj.id()) * c;
            n += c;
          }
        }
      }
    }
    return n == 0 ? Double.NaN : sum / n;
  }

  /** Mean milliseconds per step and phase, over all workers. */
  static Map<String, Object> stepMillis(List<TrainingLoop.Result> results) {
    long steps = results.stream().mapToLong(TrainingLoop.Result::steps).sum();
    Map<String, Object> p = new LinkedHashMap<>();
    double k = steps == 0 ? Double.NaN : 1000.0 / steps;
    p.put("compute", results.stream().mapToDouble(TrainingLoop.Result::computeSeconds).sum() * k);
    p.put("pull", results.stream().mapToDouble(r -> r.pullSeconds() - r.waitSeconds()).sum() * k);
    p.put("wait", results.stream().mapToDouble(TrainingLoop.Result::waitSeconds).sum() * k);
    p.put("push", results.stream().mapToDouble(TrainingLoop.Result::pushSeconds).sum() * k);
    return p;
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }

  /** Prints evaluation lines from worker 0 and keeps a step count. */
  /**
   * Worker 0's progress lines: step, train loss (a dash before the first step), test loss and
   * accuracy, samples per second over all workers (worker 0's steps times m times b), and the
   * time left at that rate.
   */
  private static final class Progress implements TrainingLoop.Listener {
    private final PrintStream out;
    private final long steps;
    private final long start;
    private final long samplesPerStep;
    private final AtomicLong lastLossBits = new AtomicLong(Double.doubleToLongBits(Double.NaN));

    Progress(PrintStream out, long steps, long start, long samplesPerStep) {
      this.out = out;
      this.steps = steps;
      this.start = start;
      this.samplesPerStep = samplesPerStep;
    }

    @Override
    public void onStep(int worker, long step, double loss) {
      if (worker == 0) {
        lastLossBits.set(Double.doubleToLongBits(loss));
      }
    }

    @Override
    public void onEval(int worker, long step, Model.Evaluation eval) {
      if (out == null) {
        return;
      }
      double elapsed = (System.nanoTime() - start) / 1e9;
      double loss = Double.longBitsToDouble(lastLossBits.get());
      String train = Double.isNaN(loss) ? "     -" : String.format(Locale.ROOT, "%.4f", loss);
      String rate = step == 0 ? "" : String.format(Locale.ROOT, "  %,.0f samples/s  eta %s",
          step * samplesPerStep / elapsed, eta(elapsed / step * (steps - step)));
      out.printf(Locale.ROOT,
          "  [%6.2fs] step %6d/%d  train loss %s  test loss %.4f  test acc %.4f%s%n",
          elapsed, step, steps, train, eval.loss(), eval.accuracy(), rate);
    }

    private static String eta(double seconds) {
      long s = Math.round(Math.max(0, seconds));
      return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s / 60 % 60)
          : s >= 60 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60) : s + "s";
    }
  }


  private static String mapText(Map<?, ?> m) {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<?, ?> e : m.entrySet()) {
      if (sb.length() > 0) {
        sb.append(", ");
      }
      Object v = e.getValue();
      sb.append(e.getKey()).append('=').append(v instanceof Double d
          ? String.format(Locale.ROOT, "%.3f", d) : String.valueOf(v));
    }
    return sb.toString();
  }

  private static String listText(List<?> l) {
    StringBuilder sb = new StringBuilder("[");
    for (Object v : l) {
      sb.append(sb.length() > 1 ? ", " : "").append(v instanceof Double d
          ? String.format(Locale.ROOT, "%.3f", d) : String.valueOf(v));
    }
    return sb.append(']').toString();
  }

  /** The summary as an aligned two-column table. */
  public static String table(Summary s) {
    StringBuilder sb = new StringBuilder();
    sb.append("\nsummary\n");
    for (Map.Entry<String, Object> e : s.toMap().entrySet()) {
      Object v = e.getValue();
      String text = v instanceof Double d ? String.format(Locale.ROOT, "%.4f", d)
          : v instanceof Map<?, ?> mm ? mapText(mm)
          : v instanceof List<?> l ? listText(l) : String.valueOf(v);
      sb.append(String.format(Locale.ROOT, "  %-18s %s%n", e.getKey(), text));
    }
    return sb.toString();
  }
}
