package io.parasol.worker.train;

import io.parasol.common.BlockLayout;
import io.parasol.common.LrSchedules;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.LrSchedule;
import io.parasol.proto.v1.LrScheduleKind;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.OptimizerKind;
import io.parasol.proto.v1.OptimizerSpec;
import io.parasol.proto.v1.StalenessLr;
import io.parasol.worker.model.Model;
import java.util.Locale;

/**
 * The settings every process of a job must agree on; build them with {@link #builder}. Each
 * worker (and the local runner) builds the job spec from them with {@link #spec}; equal
 * settings give equal fingerprints.
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
 * @param leaseMillis how long a silent worker stays live on the shards (0: the shards' default)
 * @param maxWorkers elastic workers: worker indices up to this may join the running job (0:
 *     {@code numWorkers}, no joiners); see {@link #workerCapacity}
 * @param lrSchedule the step-size schedule, without its horizon ({@link #spec(String, Model,
 *     BlockLayout, long)} adds it from the run's length)
 * @see JobKeys for each setting's flag, default and bounds
 */
public record JobSettings(Mode mode, int numShards, int numWorkers, float learningRate, long seed,
    int quorum, int stalenessBound, int localSteps, int maxStaleness, StalenessLr stalenessLr,
    OptimizerKind optimizer, int maxBlockSize, float participation, String updateBlocks,
    String blockLr, String partition, int leaseMillis, int maxWorkers, LrSchedule lrSchedule) {

  /**
   * Settings with every other option at its {@link JobKeys} default; the same as
   * {@code builder(mode, numShards, numWorkers, learningRate).build()}.
   */
  public static JobSettings defaults(Mode mode, int numShards, int numWorkers,
      float learningRate) {
    return builder(mode, numShards, numWorkers, learningRate).build();
  }

  /** A builder starting from the {@link JobKeys} defaults with the given essentials. */
  public static Builder builder(Mode mode, int numShards, int numWorkers, float learningRate) {
    return new Builder().mode(mode).shards(numShards).workers(numWorkers)
        .learningRate(learningRate);
  }

  /** A builder holding these settings. */
  public Builder toBuilder() {
    return new Builder().mode(mode).shards(numShards).workers(numWorkers)
        .learningRate(learningRate).seed(seed).quorum(quorum).stalenessBound(stalenessBound)
        .localSteps(localSteps).maxStaleness(maxStaleness).stalenessLr(stalenessLr)
        .optimizer(optimizer).maxBlockSize(maxBlockSize).participation(participation)
        .updateBlocks(updateBlocks).blockLr(blockLr).partition(partition)
        .leaseMillis(leaseMillis).maxWorkers(maxWorkers).lrSchedule(lrSchedule);
  }

  /**
   * Builds {@link JobSettings}. Unset options take their {@link JobKeys} defaults (the step
   * size has none: it is the model's, see {@link io.parasol.worker.model.Models}); {@link
   * #build} checks each value against its key's bounds and throws IllegalArgumentException
   * naming the flag.
   */
  public static final class Builder {
    private Mode mode = JobKeys.MODE.defaultValue();
    private int shards = JobKeys.SHARDS.defaultValue();
    private int workers = JobKeys.WORKERS.defaultValue();
    private Float learningRate;
    private long seed = JobKeys.SEED.defaultValue();
    private int quorum = JobKeys.QUORUM.defaultValue();
    private int stalenessBound = JobKeys.STALENESS_BOUND.defaultValue();
    private int localSteps = JobKeys.LOCAL_STEPS.defaultValue();
    private int maxStaleness = JobKeys.MAX_STALENESS.defaultValue();
    private StalenessLr stalenessLr = JobKeys.STALENESS_LR.defaultValue();
    private OptimizerKind optimizer = JobKeys.OPTIMIZER.defaultValue();
    private int maxBlockSize = JobKeys.MAX_BLOCK_SIZE.defaultValue();
    private float participation = JobKeys.PARTICIPATION.defaultValue();
    private String updateBlocks = JobKeys.UPDATE_BLOCKS.defaultValue();
    private String blockLr = JobKeys.BLOCK_LR.defaultValue();
    private String partition;
    private int leaseMillis = JobKeys.LEASE.defaultValue();
    private int maxWorkers = JobKeys.MAX_WORKERS.defaultValue();
    private LrSchedule lrSchedule = JobKeys.LR_SCHEDULE.defaultValue();

    private Builder() {}

    public Builder mode(Mode v) {
      mode = v;
      return this;
    }

    public Builder shards(int v) {
      shards = v;
      return this;
    }

    public Builder workers(int v) {
      workers = v;
      return this;
    }

    public Builder learningRate(float v) {
      learningRate = v;
      return this;
    }

    public Builder seed(long v) {
      seed = v;
      return this;
    }

    public Builder quorum(int v) {
      quorum = v;
      return this;
    }

    public Builder stalenessBound(int v) {
      stalenessBound = v;
      return this;
    }

    public Builder localSteps(int v) {
      localSteps = v;
      return this;
    }

    public Builder maxStaleness(int v) {
      maxStaleness = v;
      return this;
    }

    public Builder stalenessLr(StalenessLr v) {
      stalenessLr = v;
      return this;
    }

    public Builder optimizer(OptimizerKind v) {
      optimizer = v;
      return this;
    }

    public Builder maxBlockSize(int v) {
      maxBlockSize = v;
      return this;
    }

    public Builder participation(float v) {
      participation = v;
      return this;
    }

    public Builder updateBlocks(String v) {
      updateBlocks = v;
      return this;
    }

    public Builder blockLr(String v) {
      blockLr = v;
      return this;
    }

    /** The partition; null: {@link JobKeys#defaultPartition} of the update blocks. */
    public Builder partition(String v) {
      partition = v;
      return this;
    }

    /** The lease in milliseconds; 0: the shards' default. */
    public Builder leaseMillis(int v) {
      leaseMillis = v;
      return this;
    }

    /** Worker indices up to this may join the running job; 0: {@code workers}. */
    public Builder maxWorkers(int v) {
      maxWorkers = v;
      return this;
    }

    /** The step-size schedule (its horizon is ignored: {@link #spec} sets it). */
    public Builder lrSchedule(LrSchedule v) {
      lrSchedule = v.toBuilder().clearHorizon().build();
      return this;
    }

    /** The settings, each checked against its key's bounds. */
    public JobSettings build() {
      if (learningRate == null) {
        throw new IllegalArgumentException(JobKeys.LR_FLAG + " is not set");
      }
      JobKeys.SHARDS.check(shards);
      JobKeys.WORKERS.check(workers);
      JobKeys.LR.check(learningRate);
      JobKeys.QUORUM.check(quorum);
      if (quorum > workers) {
        throw new IllegalArgumentException(JobKeys.QUORUM_FLAG + " must be in 0.." + workers
            + ", got " + quorum);
      }
      JobKeys.STALENESS_BOUND.check(stalenessBound);
      JobKeys.LOCAL_STEPS.check(localSteps);
      JobKeys.MAX_STALENESS.check(maxStaleness);
      JobKeys.MAX_BLOCK_SIZE.check(maxBlockSize);
      JobKeys.PARTICIPATION.check(participation);
      JobKeys.UPDATE_BLOCKS.parse(updateBlocks);
      String part = JobKeys.PARTITION.parse(partition != null ? partition
          : JobKeys.defaultPartition(updateBlocks));
      if (leaseMillis != 0) {
        JobKeys.LEASE.check(leaseMillis);
      }
      JobKeys.MAX_WORKERS.check(maxWorkers);
      if (maxWorkers != 0 && maxWorkers < workers) {
        throw new IllegalArgumentException(JobKeys.MAX_WORKERS_FLAG + " must be 0 or at least "
            + JobKeys.WORKERS_FLAG + " (" + workers + "), got " + maxWorkers);
      }
      return new JobSettings(mode, shards, workers, learningRate, seed, quorum, stalenessBound,
          localSteps, maxStaleness, stalenessLr, optimizer, maxBlockSize, participation,
          updateBlocks, blockLr == null ? "" : blockLr, part, leaseMillis,
          maxWorkers == workers ? 0 : maxWorkers, lrSchedule);
    }
  }

  /**
   * The most workers the job may have: worker indices {@code 0..workerCapacity()-1} are valid;
   * {@code numWorkers..} join while it runs.
   */
  public int workerCapacity() {
    return maxWorkers == 0 ? numWorkers : maxWorkers;
  }

  /**
   * The index whose data part and (round-robin) blocks worker {@code k} takes: k itself for the
   * initial workers, k mod m for a joiner, which shares them with that initial worker (with a
   * batch order of its own), so the initial workers cover the whole training set whether or
   * not anyone joins.
   */
  public static int partOf(int numWorkers, int worker) {
    return worker % numWorkers;
  }

  /** The lease with the default applied, in milliseconds. */
  public long lease() {
    return leaseMillis == 0 ? io.parasol.common.JobSpecs.DEFAULT_LEASE_MILLIS : leaseMillis;
  }

  /** Checks the combination of settings; throws IllegalArgumentException naming the flag. */
  public JobSettings validated() {
    JobKeys.UPDATE_BLOCKS.parse(updateBlocks);
    if (updateBlocks.equals("round-robin")
        && (mode == Mode.MODE_SYNC || mode == Mode.MODE_LOCAL)) {
      throw new IllegalArgumentException("--update-blocks round-robin is coordinate-wise"
          + " asynchronous SGD: it applies to async and ssp, not " + modeName(mode));
    }
    JobKeys.PARTITION.parse(partition);
    return this;
  }

  /** α of a label-skew partition. */
  public double skewAlpha() {
    return skewAlpha(partition);
  }

  /** α of {@code label-skew:ALPHA}. */
  static double skewAlpha(String partition) {
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
   * i with i mod m = k (a joiner k &gt;= m: those of worker k mod m, see {@link #partOf}).
   */
  public int[] updateBlocksFor(int worker, BlockLayout layout) {
    if (!updateBlocks.equals("round-robin")) {
      return null;
    }
    int[] mine = java.util.stream.IntStream.range(0, layout.numBlocks())
        .filter(i -> i % numWorkers == partOf(numWorkers, worker)).toArray();
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

  /** Parses "constant" or "inverse" (η/max(1,τ)). */
  public static StalenessLr parseStalenessLr(String s) {
    return switch (s.toLowerCase(Locale.ROOT)) {
      case "constant" -> StalenessLr.STALENESS_LR_CONSTANT;
      case "inverse" -> StalenessLr.STALENESS_LR_INVERSE;
      default -> throw new IllegalArgumentException(
          "unknown --staleness-lr '" + s + "'; expected constant or inverse");
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

  /**
   * The job spec for {@code model} with {@code layout}, for a job without a step-size schedule;
   * IllegalStateException if {@link #lrSchedule} is not constant (its horizon needs the run's
   * length: {@link #spec(String, Model, BlockLayout, long)}).
   */
  public JobSpec spec(String jobName, Model model, BlockLayout layout) {
    if (lrSchedule.getKind() != LrScheduleKind.LR_SCHEDULE_CONSTANT) {
      throw new IllegalStateException(JobKeys.LR_SCHEDULE_FLAG + " "
          + LrSchedules.format(lrSchedule) + " needs the run's length: pass the steps per worker");
    }
    return spec(jobName, model, layout, 0);
  }

  /**
   * The horizon T of the step-size schedule for a run of {@code stepsPerWorker} steps per
   * worker: the updates each block takes over the run, so that every shard can place an update
   * in the run from the block's version alone. sync: the steps (one update per step); async
   * and ssp: every worker's pushes that reach the block, m × steps, or the steps of its one
   * owner with {@code --update-blocks round-robin}; local: the rounds, ceil(steps / τ).
   * Workers that join an elastic job are not counted (the schedule ends at T and keeps its
   * final value after it).
   */
  public long lrHorizon(long stepsPerWorker) {
    return switch (mode) {
      case MODE_ASYNC, MODE_SSP -> updateBlocks.equals("round-robin") ? stepsPerWorker
          : stepsPerWorker * numWorkers;
      case MODE_LOCAL -> (stepsPerWorker + localSteps - 1) / localSteps;
      default -> stepsPerWorker;
    };
  }

  /**
   * The job spec for {@code model} with {@code layout} for a run of {@code stepsPerWorker}
   * steps per worker ({@link #lrHorizon}; every process of the job must pass the same figure).
   * A constant schedule leaves the spec's {@code lr_schedule} unset.
   */
  public JobSpec spec(String jobName, Model model, BlockLayout layout, long stepsPerWorker) {
    JobSpec.Builder b = JobSpec.newBuilder();
    if (lrSchedule.getKind() != LrScheduleKind.LR_SCHEDULE_CONSTANT) {
      if (stepsPerWorker <= 0) {
        throw new IllegalArgumentException(JobKeys.LR_SCHEDULE_FLAG + " "
            + LrSchedules.format(lrSchedule) + " needs a run of at least one step");
      }
      b.setLrSchedule(lrSchedule.toBuilder().setHorizon(lrHorizon(stepsPerWorker)));
    }
    return b
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
        .setMaxWorkers(maxWorkers)
        .build();
  }
}
