package io.parasol.cli;

import io.parasol.worker.model.Models;
import io.parasol.worker.train.JobKeys;
import io.parasol.worker.train.JobSettings;
import picocli.CommandLine.Option;

/**
 * Picocli mixin: the consistency mode and what tunes it (quorum, staleness, local steps, block
 * updates, server optimizer). Names, defaults, help texts and bounds come from {@link JobKeys}.
 */
public final class ModeOptions {
  @Option(names = JobKeys.MODE_FLAG, defaultValue = JobKeys.MODE_DEFAULT,
      description = JobKeys.MODE_HELP)
  String mode;

  @Option(names = JobKeys.QUORUM_FLAG, defaultValue = JobKeys.QUORUM_DEFAULT,
      description = JobKeys.QUORUM_HELP)
  int quorum;

  @Option(names = JobKeys.STALENESS_BOUND_FLAG, defaultValue = JobKeys.STALENESS_BOUND_DEFAULT,
      description = JobKeys.STALENESS_BOUND_HELP)
  int stalenessBound;

  @Option(names = JobKeys.LOCAL_STEPS_FLAG, defaultValue = JobKeys.LOCAL_STEPS_DEFAULT,
      description = JobKeys.LOCAL_STEPS_HELP)
  int localSteps;

  @Option(names = JobKeys.PARTICIPATION_FLAG, defaultValue = JobKeys.PARTICIPATION_DEFAULT,
      description = JobKeys.PARTICIPATION_HELP)
  float participation;

  @Option(names = JobKeys.UPDATE_BLOCKS_FLAG, defaultValue = JobKeys.UPDATE_BLOCKS_DEFAULT,
      description = JobKeys.UPDATE_BLOCKS_HELP)
  String updateBlocks;

  @Option(names = JobKeys.BLOCK_LR_FLAG, defaultValue = JobKeys.BLOCK_LR_DEFAULT,
      description = JobKeys.BLOCK_LR_HELP)
  String blockLr;

  @Option(names = JobKeys.PARTITION_FLAG, description = JobKeys.PARTITION_HELP)
  String partition;

  @Option(names = JobKeys.MAX_STALENESS_FLAG, defaultValue = JobKeys.MAX_STALENESS_DEFAULT,
      description = JobKeys.MAX_STALENESS_HELP)
  int maxStaleness;

  @Option(names = JobKeys.STALENESS_LR_FLAG, defaultValue = JobKeys.STALENESS_LR_DEFAULT,
      description = JobKeys.STALENESS_LR_HELP)
  String stalenessLr;

  @Option(names = JobKeys.OPTIMIZER_FLAG, description = JobKeys.OPTIMIZER_HELP)
  String optimizer;

  @Option(names = JobKeys.LR_SCHEDULE_FLAG, description = JobKeys.LR_SCHEDULE_HELP)
  String lrSchedule;

  /**
   * Sets the mode and its parameters on {@code b}; the builder checks the bounds. Without
   * --optimizer, the optimizer is {@code model}'s default ({@link Models#defaultOptimizer});
   * without --lr-schedule, the step-size schedule is {@code model}'s default
   * ({@link Models#defaultLrSchedule}).
   */
  JobSettings.Builder applyTo(JobSettings.Builder b, String model) {
    String optimizer = this.optimizer != null ? this.optimizer : Models.defaultOptimizer(model);
    String schedule = lrSchedule != null ? lrSchedule : Models.defaultLrSchedule(model);
    return b.mode(JobKeys.MODE.parse(mode)).quorum(quorum).stalenessBound(stalenessBound)
        .localSteps(localSteps).participation(participation).updateBlocks(updateBlocks)
        .blockLr(blockLr).partition(partition).maxStaleness(maxStaleness)
        .stalenessLr(JobKeys.STALENESS_LR.parse(stalenessLr))
        .optimizer(JobKeys.OPTIMIZER.parse(optimizer))
        .lrSchedule(JobKeys.LR_SCHEDULE.parse(schedule));
  }
}
