package io.parasol.cli;

import io.parasol.common.Durations;
import io.parasol.proto.v1.ValueEncoding;
import io.parasol.worker.model.Models;
import io.parasol.worker.train.Arrivals;
import io.parasol.worker.train.DelayModel;
import io.parasol.worker.train.JobKeys;
import io.parasol.worker.train.JobSettings;
import io.parasol.worker.train.TrainingData;
import java.time.Duration;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Flags shared by {@code local} and {@code worker}: the job, the data and the training run. The
 * model, data, mode and connection flags are mixins of their own; the job's flags take their
 * names, defaults, help texts and bounds from {@link JobKeys}.
 */
public final class JobOptions {
  @Mixin
  ModelOptions modelSpec;

  @Mixin
  DataOptions dataSpec;

  @Mixin
  ModeOptions modes;

  @Mixin
  ConnectionOptions connection;

  @Option(names = "--job", defaultValue = "default",
      description = "The job's name on the shards (default: ${DEFAULT-VALUE}): shards hold"
          + " several jobs side by side, one per name; 1 to 64 letters, digits, '.', '_', '-'.")
  String jobName;

  @Option(names = JobKeys.SHARDS_FLAG, defaultValue = JobKeys.SHARDS_DEFAULT,
      description = JobKeys.SHARDS_HELP)
  int shards;

  @Option(names = JobKeys.WORKERS_FLAG, defaultValue = JobKeys.WORKERS_DEFAULT,
      description = JobKeys.WORKERS_HELP)
  int workers;

  @Option(names = JobKeys.BATCH_SIZE_FLAG, defaultValue = JobKeys.BATCH_SIZE_DEFAULT,
      description = JobKeys.BATCH_SIZE_HELP)
  int batchSize;

  @Option(names = JobKeys.EPOCHS_FLAG, defaultValue = JobKeys.EPOCHS_DEFAULT,
      description = JobKeys.EPOCHS_HELP)
  int epochs;

  @Option(names = JobKeys.STEPS_FLAG, defaultValue = JobKeys.STEPS_DEFAULT,
      description = JobKeys.STEPS_HELP)
  long steps;

  @Option(names = JobKeys.SEED_FLAG, defaultValue = JobKeys.SEED_DEFAULT,
      description = JobKeys.SEED_HELP)
  long seed;

  @Option(names = JobKeys.MAX_BLOCK_SIZE_FLAG, defaultValue = JobKeys.MAX_BLOCK_SIZE_DEFAULT,
      description = JobKeys.MAX_BLOCK_SIZE_HELP)
  int maxBlockSize;

  @Option(names = JobKeys.EVAL_EVERY_FLAG, defaultValue = JobKeys.EVAL_EVERY_DEFAULT,
      description = JobKeys.EVAL_EVERY_HELP)
  int evalEvery;

  @Option(names = "--compute-delay", defaultValue = "none",
      description = "Injected delay per step on top of real compute: none, const:D, exp:MEAN"
          + " (e.g. exp:10ms; seeded per worker) (default: ${DEFAULT-VALUE}).")
  String computeDelay;

  @Option(names = "--comm-delay", defaultValue = "none",
      description = "Injected delay added to each push (a step's or a local round's"
          + " communication): none, const:D, exp:MEAN (default: ${DEFAULT-VALUE}).")
  String commDelay;

  @Option(names = "--slow-workers", defaultValue = "0:1",
      description = "local: K:FACTOR makes the last K workers' --compute-delay FACTOR times"
          + " longer (stragglers) (default: none).")
  String slowWorkers;

  @Option(names = "--arrivals", defaultValue = "always",
      description = "DASGD: when fresh copies of blocks a worker does not update reach it:"
          + " always, bernoulli:P, markov:A,B (on->off A, off->on B) (default: ${DEFAULT-VALUE}).")
  String arrivals;

  @Option(names = "--metrics-port", defaultValue = "0",
      description = "HTTP port serving Prometheus /metrics on 127.0.0.1 (worker: --metrics-host);"
          + " 0 = off (default).")
  int metricsPort;

  @Option(names = "--allow-divergence",
      description = "Keep training when the loss diverges (NaN/Inf, or far above its early level"
          + " for 20 steps); by default the run stops with exit status "
          + Parasol.EXIT_DIVERGED + ".")
  boolean allowDivergence;

  /** --model. */
  String model() {
    return modelSpec.model;
  }

  /** The graph options of --model cnn and of graph files. */
  Models.Options modelOptions() {
    return modelSpec.modelOptions();
  }

  /** The job's settings, each checked against its {@link JobKeys} bounds. */
  JobSettings settings() {
    JobKeys.BATCH_SIZE.check(batchSize);
    JobKeys.EPOCHS.check(epochs);
    JobKeys.STEPS.check(steps);
    JobKeys.EVAL_EVERY.check(evalEvery);
    JobSettings.Builder b = JobSettings.builder(JobKeys.MODE.defaultValue(), shards, workers,
        modelSpec.learningRate()).seed(seed).maxBlockSize(maxBlockSize)
        .leaseMillis(connection.leaseMillis());
    return modes.applyTo(b, modelSpec.model).build();
  }

  TrainingData loadData() {
    return dataSpec.load(seed, modelSpec.model);
  }

  DelayModel computeDelay() {
    return DelayModel.parse(computeDelay);
  }

  DelayModel commDelay() {
    return DelayModel.parse(commDelay);
  }

  Arrivals arrivals() {
    return Arrivals.parse(arrivals);
  }

  /** {K, FACTOR} of --slow-workers. */
  double[] slowWorkers() {
    String[] kf = slowWorkers.split(":");
    try {
      if (kf.length == 2) {
        int k = Integer.parseInt(kf[0].trim());
        double f = Double.parseDouble(kf[1].trim());
        if (k >= 0 && k <= workers && f > 0 && Double.isFinite(f)) {
          return new double[] {k, f};
        }
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException("--slow-workers takes K:FACTOR with 0 <= K <= --workers"
        + " and FACTOR > 0, got '" + slowWorkers + "'");
  }

  ValueEncoding wire() {
    return connection.wire();
  }

  Duration rpcTimeout() {
    return connection.rpcTimeout();
  }

  Duration pullTimeout() {
    return connection.pullTimeout();
  }

  static Duration parseDuration(String flag, String s) {
    return Durations.parse(flag, s);
  }
}
