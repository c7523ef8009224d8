package io.parasol.cli;

import io.parasol.proto.v1.StalenessLr;
import io.parasol.worker.data.DataFormat;
import io.parasol.worker.data.Scaling;
import io.parasol.worker.train.Arrivals;
import io.parasol.worker.train.DelayModel;
import io.parasol.worker.train.JobSettings;
import io.parasol.worker.train.TrainingData;
import java.time.Duration;
import java.util.Locale;
import picocli.CommandLine.Option;

/** Flags shared by {@code local} and {@code worker}: the job, the data and the training run. */
public final class JobOptions {
  @Option(names = "--mode", defaultValue = "async",
      description = "Consistency mode: sync, async, ssp, local (default: ${DEFAULT-VALUE}).")
  String mode;

  @Option(names = "--shards", defaultValue = "2", description = "Shards S (default: ${DEFAULT-VALUE}).")
  int shards;

  @Option(names = "--workers", defaultValue = "4",
      description = "Workers m (default: ${DEFAULT-VALUE}).")
  int workers;

  @Option(names = "--model", defaultValue = "softmax",
      description = "linear, logistic, softmax, mlp, mlp:H1[,H2...] (default: ${DEFAULT-VALUE}).")
  String model;

  @Option(names = "--data", defaultValue = "digits",
      description = "Bundled data name (digits) or a file path (default: ${DEFAULT-VALUE}).")
  String data;

  @Option(names = "--format", defaultValue = "auto",
      description = "File format for --data paths: csv, libsvm, idx, or auto (recognised from"
          + " the path: a directory of IDX files, *.csv, LIBSVM lines) (default:"
          + " ${DEFAULT-VALUE}).")
  String format;

  @Option(names = "--label-column", defaultValue = "-1",
      description = "CSV label column, 0-based; -1 = last (default: ${DEFAULT-VALUE}).")
  int labelColumn;

  @Option(names = "--header", description = "The CSV file has a header line.")
  boolean header;

  @Option(names = "--regression", description = "Targets are real values (linear model).")
  boolean regression;

  @Option(names = "--scaling", defaultValue = "minmax",
      description = "Feature scaling: none, minmax, standard (default: ${DEFAULT-VALUE}).")
  String scaling;

  @Option(names = "--test-fraction", defaultValue = "0.2",
      description = "Held-out test fraction (default: ${DEFAULT-VALUE}).")
  double testFraction;

  @Option(names = "--batch-size", defaultValue = "32",
      description = "Mini-batch size b (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = "--model-features", description = "Graph models: the features"
      + " placeholder [b, d] (default: features).")
  String modelFeatures;

  @Option(names = "--model-labels", description = "Graph models: the labels placeholder, one-hot"
      + " [b, C] or [b, 1] for regression (default: labels).")
  String modelLabels;

  @Option(names = "--model-loss", description = "Graph models: the mean-loss variable (default:"
      + " the graph's loss variable).")
  String modelLoss;

  @Option(names = "--model-output", description = "Graph models: the class scores [b, C] used"
      + " for accuracy (default: output, if the graph has it).")
  String modelOutput;

  @Option(names = "--input-shape", description = "cnn: the images' C,H,W (default: one channel"
      + " of square images, e.g. 1,28,28 for 784 features).")
  String inputShape;

  @Option(names = "--lr",
      description = "Step size eta (default: the model's: 0.5 for softmax, logistic and linear,"
          + " 0.1 for mlp, cnn and graph files).")
  Float lr;

  @Option(names = "--epochs", defaultValue = "30",
      description = "Passes over each worker's partition (default: ${DEFAULT-VALUE}).")
  int epochs;

  @Option(names = "--steps", defaultValue = "0",
      description = "Steps per worker; overrides --epochs when > 0.")
  long steps;

  @Option(names = "--seed", defaultValue = "1", description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--quorum", defaultValue = "0",
      description = "sync: gradients K per step; K < workers = backup workers (default: all).")
  int quorum;

  @Option(names = "--staleness-bound", defaultValue = "2",
      description = "ssp: bound s on clock lead (default: ${DEFAULT-VALUE}).")
  int stalenessBound;

  @Option(names = "--local-steps", defaultValue = "4",
      description = "local: local steps tau per round (default: ${DEFAULT-VALUE}).")
  int localSteps;

  @Option(names = "--participation", defaultValue = "1",
      description = "local: fraction of workers sampled per round, in (0, 1] (default: all).")
  float participation;

  @Option(names = "--update-blocks", defaultValue = "all",
      description = "Blocks each worker updates: all, or round-robin (worker k: blocks i with"
          + " i mod m = k; coordinate-wise async SGD) (default: ${DEFAULT-VALUE}).")
  String updateBlocks;

  @Option(names = "--block-lr", defaultValue = "",
      description = "Per-block step sizes: D comma-separated values, or NAME=LR pairs by tensor"
          + " name (e.g. W=0.5,b=0.1); unset blocks use --lr.")
  String blockLr;

  @Option(names = "--partition",
      description = "Training-set split among workers: iid (disjoint equal parts), shared"
          + " (each worker samples the whole set), label-skew:ALPHA (Dirichlet non-IID)."
          + " Default: iid; shared with --update-blocks round-robin, where a block only ever"
          + " sees its owner's data.")
  String partition;

  @Option(names = "--max-staleness", defaultValue = "0",
      description = "async/ssp: drop updates staler than this; 0 = keep all.")
  int maxStaleness;

  @Option(names = "--staleness-lr", defaultValue = "constant",
      description = "async/ssp step: constant or inverse (eta/max(1,tau)) (default: ${DEFAULT-VALUE}).")
  String stalenessLr;

  @Option(names = "--optimizer", defaultValue = "sgd",
      description = "Server optimizer: sgd, momentum, adagrad, adam (default: ${DEFAULT-VALUE}).")
  String optimizer;

  @Option(names = "--max-block-size", defaultValue = "0",
      description = "Largest block in floats; 0 = about 4 blocks per shard.")
  int maxBlockSize;

  @Option(names = "--eval-every", defaultValue = "50",
      description = "Worker 0 evaluates on the test set every N steps; 0 = never"
          + " (default: ${DEFAULT-VALUE}).")
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

  @Option(names = "--lease", defaultValue = "10s",
      description = "How long a silent worker stays live on the shards; sync/local rounds and"
          + " ssp bounds go on without it after that (default: ${DEFAULT-VALUE}).")
  String lease;

  @Option(names = "--wire", defaultValue = "fp32",
      description = "Precision of pushed and pulled values on the wire: fp32, bf16 or fp16"
          + " (16-bit halves the bytes; the shards keep float32) (default: ${DEFAULT-VALUE}).")
  String wire;

  @Option(names = "--allow-divergence",
      description = "Keep training when the loss diverges (NaN/Inf, or far above its early level"
          + " for 20 steps); by default the run stops with exit status "
          + Parasol.EXIT_DIVERGED + ".")
  boolean allowDivergence;

  @Option(names = "--rpc-timeout", defaultValue = "30s",
      description = "Deadline of push, init and status calls (default: ${DEFAULT-VALUE}).")
  String rpcTimeout;

  @Option(names = "--pull-timeout", defaultValue = "120s",
      description = "Deadline of a pull, which may wait at the barrier (default: ${DEFAULT-VALUE}).")
  String pullTimeout;

  /** The graph options of --model cnn and of graph files. */
  io.parasol.worker.model.Models.Options modelOptions() {
    return new io.parasol.worker.model.Models.Options(
        new io.parasol.worker.model.SameDiffModel.Names(modelFeatures, modelLabels, modelLoss,
            modelOutput),
        inputShape == null ? null : io.parasol.worker.model.LeNet.Shape.parse(inputShape));
  }

  /** --lr, or the model's default step size. */
  float learningRate() {
    return lr != null ? lr : io.parasol.worker.model.Models.defaultLearningRate(model);
  }

  JobSettings settings() {
    positive("--shards", shards);
    positive("--workers", workers);
    positive("--batch-size", batchSize);
    float lr = learningRate();
    if (!(lr > 0) || !Float.isFinite(lr)) {
      throw new IllegalArgumentException("--lr must be a positive number, got " + lr);
    }
    if (epochs < 0 || steps < 0) {
      throw new IllegalArgumentException("--epochs and --steps must be >= 0");
    }
    if (quorum < 0 || quorum > workers) {
      throw new IllegalArgumentException("--quorum must be in 0.." + workers + ", got " + quorum);
    }
    if (stalenessBound < 0 || maxStaleness < 0 || maxBlockSize < 0 || evalEvery < 0) {
      throw new IllegalArgumentException("--staleness-bound, --max-staleness, --max-block-size"
          + " and --eval-every must be >= 0");
    }
    positive("--local-steps", localSteps);
    if (!(participation > 0 && participation <= 1)) {
      throw new IllegalArgumentException("--participation must be in (0, 1], got "
          + participation);
    }
    StalenessLr slr = switch (stalenessLr.toLowerCase(Locale.ROOT)) {
      case "constant" -> StalenessLr.STALENESS_LR_CONSTANT;
      case "inverse" -> StalenessLr.STALENESS_LR_INVERSE;
      default -> throw new IllegalArgumentException(
          "unknown --staleness-lr '" + stalenessLr + "'; expected constant or inverse");
    };
    return new JobSettings(JobSettings.parseMode(mode), shards, workers, lr, seed, quorum,
        stalenessBound, localSteps, maxStaleness, slr, JobSettings.parseOptimizer(optimizer),
        maxBlockSize, participation, updateBlocks, blockLr,
        partition != null ? partition : updateBlocks.equals("round-robin") ? "shared" : "iid",
        leaseMillis());
  }

  TrainingData loadData() {
    DataFormat f = format.trim().equalsIgnoreCase("auto") ? null : DataFormat.parse(format);
    return TrainingData.load(data, f, labelColumn, header, regression, testFraction,
        Scaling.parse(scaling), seed);
  }

  int leaseMillis() {
    long ms = parseDuration("--lease", lease).toMillis();
    if (ms < 100 || ms > 3_600_000) {
      throw new IllegalArgumentException("--lease must be between 100ms and 60m, got " + lease);
    }
    return (int) ms;
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

  io.parasol.proto.v1.ValueEncoding wire() {
    return io.parasol.common.FloatCodec.parseEncoding(wire);
  }

  Duration rpcTimeout() {
    return parseDuration("--rpc-timeout", rpcTimeout);
  }

  Duration pullTimeout() {
    return parseDuration("--pull-timeout", pullTimeout);
  }

  static Duration parseDuration(String flag, String s) {
    return io.parasol.common.Durations.parse(flag, s);
  }

  private static void positive(String flag, long v) {
    if (v <= 0) {
      throw new IllegalArgumentException(flag + " must be at least 1, got " + v);
    }
  }
}
