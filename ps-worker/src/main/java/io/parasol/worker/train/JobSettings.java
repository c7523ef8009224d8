package io.parasol.worker.train;

import io.parasol.common.BlockLayout;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.OptimizerKind;
import io.parasol.proto.v1.OptimizerSpec;
import io.parasol.proto.v1.StalenessLr;
import io.parasol.worker.model.Model;
import java.util.Locale;

/**
 * The settings every process of a job must agree on. Each worker (and the local runner) builds
 * the job spec from them with {@link #spec}; equal settings give equal fingerprints.
 *
 * @param mode consistency mode
 * @param numShards S
 * @param numWorkers m
 * @param learningRate η
 * @param seed seeds initial values, data split and batches
 * @param quorum K for sync/local rounds; 0 = all workers
 * @param stalenessBound s for ssp
 * @param localSteps τ for local
 * @param maxStaleness drop async updates staler than this; 0 = no limit
 * @param stalenessLr constant or inverse (η/max(1,τ))
 * @param optimizer server-side optimizer
 * @param maxBlockSize largest block in floats; 0 = about four blocks per shard
 * @param participation local: fraction of workers per round (0 or 1: all)
 * @param updateBlocks which blocks each worker updates: "all" or "round-robin" (DASGD)
 * @param blockLr per-block step sizes: "" (η everywhere), a list of D values, or
 *     NAME=LR pairs matched against tensor names
 * @param partition how the training set is split among workers: "iid" (disjoint equal
 *     parts), "shared" (every worker samples the whole set) or "label-skew:ALPHA"
 * @param leaseMillis how long a silent worker stays live on the shards (0: 10 s)
 */
public record JobSettings(Mode mode, int numShards, int numWorkers, float learningRate, long seed,
    int quorum, int stalenessBound, int localSteps, int maxStaleness, StalenessLr stalenessLr,
    OptimizerKind optimizer, int maxBlockSize, float participation, String updateBlocks,
    String blockLr, String partition, int leaseMillis) {

  /** Settings with every option at its default. */
  public static JobSettings defaults(Mode mode, int numShards, int numWorkers,
      float learningRate) {
    return new JobSettings(mode, numShards, numWorkers, learningRate, 1, 0, 2, 4, 0,
        StalenessLr.STALENESS_LR_CONSTANT, OptimizerKind.OPTIMIZER_SGD, 0, 1f, "all", "", "iid", 0);
  }

  public JobSettings withLeaseMillis(int v) {
    return new JobSettings(mode, numShards, numWorkers, learningRate, seed, quorum,
        stalenessBound, localSteps, maxStaleness, stalenessLr, optimizer, maxBlockSize,
        participation, updateBlocks, blockLr, partition, v);
  }

  /** The lease with the default applied, in milliseconds. */
  public long lease() {
    return leaseMillis == 0 ? io.parasol.common.JobSpecs.DEFAULT_LEASE_MILLIS : leaseMillis;
  }

  public JobSettings withMaxBlockSize(int v) {
    return new JobSettings(mode, numShards, numWorkers, learningRate, seed, quorum,
        stalenessBound, localSteps, maxStaleness, stalenessLr, optimizer, v, participation,
        updateBlocks, blockLr, partition, leaseMillis);
  }

  public JobSettings withLearningRate(float v) {
    return new JobSettings(mode, numShards, numWorkers, v, seed, quorum, stalenessBound,
        localSteps, maxStaleness, stalenessLr, optimizer, maxBlockSize, participation,
        updateBlocks, blockLr, partition, leaseMillis);
  }

  public JobSettings withWorkers(int v) {
    return new JobSettings(mode, numShards, v, learningRate, seed, quorum, stalenessBound,
        localSteps, maxStaleness, stalenessLr, optimizer, maxBlockSize, participation,
        updateBlocks, blockLr, partition, leaseMillis);
  }

  public JobSettings withSeed(long v) {
    return new JobSettings(mode, numShards, numWorkers, learningRate, v, quorum, stalenessBound,
        localSteps, maxStaleness, stalenessLr, optimizer, maxBlockSize, participation,
        updateBlocks, blockLr, partition, leaseMillis);
  }

  public JobSettings withQuorum(int v) {
    return new JobSettings(mode, numShards, numWorkers, learningRate, seed, v, stalenessBound,
        localSteps, maxStaleness, stalenessLr, optimizer, maxBlockSize, participation,
        updateBlocks, blockLr, partition, leaseMillis);
  }

  public JobSettings withStalenessBound(int v) {
    return new JobSettings(mode, numShards, numWorkers, learningRate, seed, quorum, v,
        localSteps, maxStaleness, stalenessLr, optimizer, maxBlockSize, participation,
        updateBlocks, blockLr, partition, leaseMillis);
  }

  public JobSettings withLocalSteps(int v) {
    return new JobSettings(mode, numShards, numWorkers, learningRate, seed, quorum,
        stalenessBound, v, maxStaleness, stalenessLr, optimizer, maxBlockSize, participation,
        updateBlocks, blockLr, partition, leaseMillis);
  }

  public JobSettings withStaleness(int maxStaleness, StalenessLr stalenessLr) {
    return new JobSettings(mode, numShards, numWorkers, learningRate, seed, quorum,
        stalenessBound, localSteps, maxStaleness, stalenessLr, optimizer, maxBlockSize,
        participation, updateBlocks, blockLr, partition, leaseMillis);
  }

  public JobSettings withOptimizer(OptimizerKind v) {
    return new JobSettings(mode, numShards, numWorkers, learningRate, seed, quorum,
        stalenessBound, localSteps, maxStaleness, stalenessLr, v, maxBlockSize, participation,
        updateBlocks, blockLr, partition, leaseMillis);
  }

  public JobSettings withParticipation(float v) {
    return new JobSettings(mode, numShards, numWorkers, learningRate, seed, quorum,
        stalenessBound, localSteps, maxStaleness, stalenessLr, optimizer, maxBlockSize, v,
        updateBlocks, blockLr, partition, leaseMillis);
  }

  public JobSettings withUpdateBlocks(String v) {
    return new JobSettings(mode, numShards, numWorkers, learningRate, seed, quorum,
        stalenessBound, localSteps, maxStaleness, stalenessLr, optimizer, maxBlockSize,
        participation, v, blockLr, partition, leaseMillis);
  }

  public JobSettings withBlockLr(String v) {
    return new JobSettings(mode, numShards, numWorkers, learningRate, seed, quorum,
        stalenessBound, localSteps, maxStaleness, stalenessLr, optimizer, maxBlockSize,
        participation, updateBlocks, v, partition, leaseMillis);
  }

  public JobSettings withPartition(String v) {
    return new JobSettings(mode, numShards, numWorkers, learningRate, seed, quorum,
        stalenessBound, localSteps, maxStaleness, stalenessLr, optimizer, maxBlockSize,
        participation, updateBlocks, blockLr, v, leaseMillis);
  }

  /** Checks the combination of settings; throws IllegalArgumentException naming the flag. */
  public JobSettings validated() {
    if (!updateBlocks.equals("all") && !updateBlocks.equals("round-robin")) {
      throw new IllegalArgumentException("unknown --update-blocks '" + updateBlocks
          + "'; expected all or round-robin");
    }
    if (updateBlocks.equals("round-robin")
        && (mode == Mode.MODE_SYNC || mode == Mode.MODE_LOCAL)) {
      throw new IllegalArgumentException("--update-blocks round-robin is coordinate-wise"
          + " asynchronous SGD: it applies to async and ssp, not " + modeName(mode));
    }
    if (!partition.equals("iid") && !partition.equals("shared")
        && !partition.startsWith("label-skew:")) {
      throw new IllegalArgumentException("unknown --partition '" + partition
          + "'; expected iid, shared or label-skew:ALPHA");
    }
    if (partition.startsWith("label-skew:")) {
      skewAlpha();
    }
    return this;
  }

  /** α of a label-skew partition. */
  public double skewAlpha() {
    String a = partition.substring("label-skew:".length());
    try {
      double alpha = Double.parseDouble(a);
      if (alpha > 0 && Double.isFinite(alpha)) {
        return alpha;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException("--partition label-skew:ALPHA needs a positive ALPHA, got '"
        + a + "'");
  }

  /**
   * The blocks worker {@code k} pushes gradients for: null for all; with round-robin, blocks
   * i with i mod m = k.
   */
  public int[] updateBlocksFor(int worker, BlockLayout layout) {
    if (!updateBlocks.equals("round-robin")) {
      return null;
    }
    int[] mine = java.util.stream.IntStream.range(0, layout.numBlocks())
        .filter(i -> i % numWorkers == worker).toArray();
    if (mine.length == 0) {
      throw new IllegalArgumentException("--update-blocks round-robin leaves worker " + worker
          + " without blocks: the model has " + layout.numBlocks() + " blocks for " + numWorkers
          + " workers (lower --max-block-size)");
    }
    return mine;
  }

  /** Per-block step sizes η_i from {@link #blockLr} (0 = the job's η), or null. */
  public float[] blockLearningRates(BlockLayout layout) {
    if (blockLr == null || blockLr.isBlank()) {
      return null;
    }
    float[] lrs = new float[layout.numBlocks()];
    String[] parts = blockLr.split(",");
    if (!blockLr.contains("=")) {
      if (parts.length != layout.numBlocks()) {
        throw new IllegalArgumentException("--block-lr lists " + parts.length
            + " step sizes for " + layout.numBlocks() + " blocks");
      }
      for (int i = 0; i < parts.length; i++) {
        lrs[i] = positiveFloat(parts[i]);
      }
      return lrs;
    }
    for (String part : parts) {
      int eq = part.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("--block-lr takes NAME=LR pairs or a list of numbers;"
            + " got '" + part + "'");
      }
      String name = part.substring(0, eq).trim();
      float lr = positiveFloat(part.substring(eq + 1));
      boolean matched = false;
      for (BlockLayout.Block b : layout.blocks()) {
        String tensor = b.name().contains("[") ? b.name().substring(0, b.name().indexOf('['))
            : b.name();
        if (tensor.equals(name)) {
          lrs[b.id()] = lr;
          matched = true;
        }
      }
      if (!matched) {
        throw new IllegalArgumentException("--block-lr names tensor '" + name
            + "', which the model does not have");
      }
    }
    return lrs;
  }

  private static float positiveFloat(String s) {
    try {
      float v = Float.parseFloat(s.trim());
      if (v > 0 && Float.isFinite(v)) {
        return v;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException("--block-lr step size '" + s.trim()
        + "' is not a positive number");
  }

  /** Parses "sync", "async", "ssp" or "local". */
  public static Mode parseMode(String s) {
    return switch (s.toLowerCase(Locale.ROOT)) {
      case "sync" -> Mode.MODE_SYNC;
      case "async" -> Mode.MODE_ASYNC;
      case "ssp" -> Mode.MODE_SSP;
      case "local" -> Mode.MODE_LOCAL;
      default -> throw new IllegalArgumentException(
          "unknown mode '" + s + "'; expected sync, async, ssp or local");
    };
  }

  /** The mode's command-line name. */
  public static String modeName(Mode m) {
    return m.name().substring("MODE_".length()).toLowerCase(Locale.ROOT);
  }

  /** Parses "sgd", "momentum", "adagrad" or "adam". */
  public static OptimizerKind parseOptimizer(String s) {
    return switch (s.toLowerCase(Locale.ROOT)) {
      case "sgd" -> OptimizerKind.OPTIMIZER_SGD;
      case "momentum" -> OptimizerKind.OPTIMIZER_MOMENTUM;
      case "adagrad" -> OptimizerKind.OPTIMIZER_ADAGRAD;
      case "adam" -> OptimizerKind.OPTIMIZER_ADAM;
      default -> throw new IllegalArgumentException(
          "unknown optimizer '" + s + "'; expected sgd, momentum, adagrad or adam");
    };
  }

  /** The block layout of {@code model} under these settings. */
  public BlockLayout layout(Model model) {
    return BlockLayout.of(model.tensors(), numShards, maxBlockSize);
  }

  /** The job spec for {@code model} with {@code layout}. */
  public JobSpec spec(String jobName, Model model, BlockLayout layout) {
    return JobSpec.newBuilder()
        .setJobName(jobName)
        .setModel(model.name())
        .setMode(mode)
        .addAllBlocks(layout.toSpecs(blockLearningRates(layout)))
        .setNumShards(numShards)
        .setNumWorkers(numWorkers)
        .setLearningRate(learningRate)
        .setSeed(seed)
        .setQuorum(quorum)
        .setStalenessBound(stalenessBound)
        .setLocalSteps(localSteps)
        .setMaxStaleness(maxStaleness)
        .setStalenessLr(stalenessLr)
        .setOptimizer(OptimizerSpec.newBuilder().setKind(optimizer))
        .setParticipation(participation)
        .setLeaseMillis(leaseMillis)
        .build();
  }
}
