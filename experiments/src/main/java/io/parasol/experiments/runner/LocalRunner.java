package io.parasol.experiments.runner;

import io.micrometer.core.instrument.MeterRegistry;
import io.parasol.common.BlockLayout;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.ValueEncoding;
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
import java.io.Closeable;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Collectors;
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
      LocalCluster cluster, ElasticPlan elastic) {

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
      private ElasticPlan elastic = ElasticPlan.NONE;

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

      /**
       * Workers that join and leave while the job runs (default: none); joiners need room in
       * the job's {@code --max-workers}.
       */
      public Builder elastic(ElasticPlan v) {
        elastic = v;
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
            allowDivergence, modelOptions, estimateLipschitz, jobName, cluster, elastic);
      }
    }

    /**
     * The compute delay of worker k: the last {@code slowWorkers} are slower by the factor; a
     * joiner k (k &gt;= m) is as fast as worker k mod m, whose data part it reads.
     */
    DelayModel computeDelayOf(int worker) {
      int k = worker % job.numWorkers();
      return k >= job.numWorkers() - slowWorkers ? computeDelay.scaled(slowFactor)
          : computeDelay;
    }
  }

  /**
   * The run's outcome, as printed and as written to the summary JSON. {@code rollbacks}: the
   * workers' shard rollbacks, summed; {@code updatesLost}: the updates the job lost at shard
   * restarts, per restart the most any worker saw lost, summed over the restarts (a lower
   * bound; {@link io.parasol.client.ShardRollback#jobUpdatesLost}).
   */
  public record Summary(String mode, int shards, int workers, String model, String data,
      int params, int blocks, long stepsPerWorker, int batchSize, double learningRate, long seed,
      double testAccuracy, double testLoss, double trainLoss, double wallSeconds,
      long updatesApplied, long pushesApplied, long latePushes, double meanStaleness,
      long maxStaleness, Map<String, Object> modeParameters, Map<String, Object> stepMillis,
      long[] stalenessCounts, double meanAoi, List<double[]> testCurve, double trainSeconds,
      double evalSeconds, JobFloor floor, Map<String, Object> elastic, long rollbacks,
      long updatesLost) {

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
      m.put("rollbacks", rollbacks);
      m.put("updates_lost", updatesLost);
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
      if (elastic != null) {
        m.putAll(elastic);
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
      Consumer<LocalCluster> onStart) throws IOException, InterruptedException {
    JobSettings js = o.job();
    TrainingData data = o.data();
    Dataset train = data.train();
    Model model = Models.create(o.model(), train.numFeatures(), train.numClasses(),
        o.modelOptions());
    BlockLayout layout = js.layout(model);
    int m = js.numWorkers();
    long steps = o.steps() > 0 ? o.steps()
        : (long) o.epochs() * ceilDiv(data.part(m, 0).numExamples(), o.batchSize());
    js.validated();
    if (steps <= 0) {
      throw new IllegalArgumentException("nothing to do: steps and epochs are both 0");
    }
    JobSpec spec = js.spec(o.jobName(), model, layout, steps);
    List<ElasticPlan.Worker> workers = o.elastic().resolve(m, js.workerCapacity(), steps);
    boolean elastic = !o.elastic().isEmpty() || js.workerCapacity() > m;
    if (js.mode() == Mode.MODE_LOCAL && js.participation() > 0 && js.participation() < 1
        && workers.stream().anyMatch(ElasticPlan.Worker::joins)) {
      // Worker 0 waits at the join step for each joiner's first local step, and a joiner that
      // is not sampled for the open round waits for that round, which may need worker 0.
      throw new IllegalArgumentException("--join with local mode and --participation below 1"
          + " is not supported by local (a joiner left out of the open round waits for it,"
          + " while worker 0 waits for the joiner); run the joiners as worker processes, or"
          + " use --participation 1");
    }
    if (out != null) {
      out.printf(Locale.ROOT, "parasol local: %s mode, %d shards, %d workers, model %s (%d params"
              + " in %d blocks), data %s (%d train / %d test), %d steps per worker%n",
          JobSettings.modeName(js.mode()), js.numShards(), m, model.name(), layout.dimension(),
          layout.numBlocks(), data.source(), train.numExamples(), data.test().numExamples(),
          steps);
      if (elastic) {
        out.printf(Locale.ROOT, "elastic: room for %d workers%s%n", js.workerCapacity(),
            o.elastic().isEmpty() ? "" : "; " + o.elastic().changes().stream()
                .map(ElasticPlan.Change::toString).collect(Collectors.joining(", ")));
      }
    }
    long start = System.nanoTime();
    LocalCluster own = o.cluster() == null ? LocalCluster.start(js.numShards(), registry) : null;
    try (Closeable closing = own == null ? () -> { } : own::close;
        WorkerFleet fleet = new WorkerFleet(own != null ? own : o.cluster(), layout, o,
            registry, workers)) {
      LocalCluster cluster = own != null ? own : o.cluster();
      fleet.client(0).init(spec);
      if (onStart != null) {
        onStart.accept(cluster);
      }
      RunReport report = new RunReport(steps, new Progress(out, steps, start, o.batchSize()));
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
        List<TrainingLoop.Result> results = fleet.train(spec, model, data, steps, report,
            report::startClock);
        double wall = (System.nanoTime() - start) / 1e9;
        // From the workers' first step (start-up before it is not training).
        double trainSeconds = (System.nanoTime() - fleet.started()) / 1e9;
        float[] x = new float[layout.dimension()];
        fleet.client(0).pull(0, x, 0, 0);
        INDArray params = Nd4j.create(x, new long[] {1, x.length}, DataType.FLOAT);
        Batches.Batch testAll = Batches.all(data.test());
        Batches.Batch trainAll = Batches.all(train);
        Model.Evaluation testEval = model.evaluate(params, testAll.features(),
            testAll.targets());
        Model.Evaluation trainEval = model.evaluate(params, trainAll.features(),
            trainAll.targets());
        RunFigures.ShardTotals shards = RunFigures.ShardTotals.of(fleet.client(0).status());
        long late = results.stream().mapToLong(TrainingLoop.Result::latePushes).sum();
        Summary summary = new Summary(JobSettings.modeName(js.mode()), js.numShards(), m,
            model.name(), data.source(), layout.dimension(), layout.numBlocks(), steps,
            o.batchSize(), js.learningRate(), js.seed(), testEval.accuracy(), testEval.loss(),
            trainEval.loss(), wall, shards.updates(), shards.pushes(), late,
            shards.meanStaleness(), shards.maxStaleness(), RunFigures.modeParameters(js),
            RunFigures.stepMillis(results), shards.stalenessCounts(),
            RunFigures.meanAoi(cluster, layout, spec.getJobName()), report.testCurve(),
            trainSeconds,
            results.stream().mapToDouble(TrainingLoop.Result::evalSeconds).sum(),
            JobFloor.of(cluster, layout, js.mode(), results, spec.getJobName()),
            elastic ? fleet.membership(js.workerCapacity(), results) : null,
            results.stream().mapToLong(TrainingLoop.Result::rollbacks).sum(),
            io.parasol.client.ShardRollback.jobUpdatesLost(results.stream()
                .map(TrainingLoop.Result::rollbackEvents).toList()));
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

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }

  /** The summary as an aligned two-column table. */
  public static String table(Summary s) {
    return RunFigures.table(s.toMap());
  }
}
