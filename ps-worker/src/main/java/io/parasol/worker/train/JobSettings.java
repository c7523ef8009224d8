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
 */
public record JobSettings(Mode mode, int numShards, int numWorkers, float learningRate, long seed,
    int quorum, int stalenessBound, int localSteps, int maxStaleness, StalenessLr stalenessLr,
    OptimizerKind optimizer, int maxBlockSize, float participation) {

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
        .addAllBlocks(layout.toSpecs(null))
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
        .build();
  }
}
