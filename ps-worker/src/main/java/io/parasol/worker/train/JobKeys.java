package io.parasol.worker.train;

import io.parasol.common.JobSpecs;
import io.parasol.common.LrSchedules;
import io.parasol.proto.v1.LrSchedule;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.OptimizerKind;
import io.parasol.proto.v1.StalenessLr;
import io.parasol.worker.model.Models;
import java.util.List;

/**
 * Every setting of a training job, each declared once: its flag ({@code *_FLAG}), its default
 * as command-line text ({@code *_DEFAULT}), its help text ({@code *_HELP}) and, in the
 * {@link Setting} named after it, the bounds its values must keep. {@link JobSettings.Builder}
 * starts from these defaults and checks every value against these bounds; the command line's
 * options take their names, defaults and help texts from the constants (annotation values must
 * be constants), so a flag, a default or a bound changes here and nowhere else.
 *
 * <p>Defaults that depend on other settings have no {@code *_DEFAULT}: the step size is the
 * model's ({@link Models#defaultLearningRate}), the partition follows {@code --update-blocks}
 * ({@link #defaultPartition}).
 */
public final class JobKeys {
  private JobKeys() {}

  public static final String MODE_FLAG = "--mode";
  public static final String MODE_DEFAULT = "async";
  public static final String MODE_HELP =
      "Consistency mode: sync, async, ssp, local (default: ${DEFAULT-VALUE}).";
  public static final Setting<Mode> MODE =
      Setting.word(MODE_FLAG, MODE_DEFAULT, MODE_HELP, JobSettings::parseMode);

  public static final String SHARDS_FLAG = "--shards";
  public static final String SHARDS_DEFAULT = "2";
  public static final String SHARDS_HELP = "Shards S (default: ${DEFAULT-VALUE}).";
  public static final Setting<Integer> SHARDS =
      Setting.intIn(SHARDS_FLAG, SHARDS_DEFAULT, SHARDS_HELP, 1, Integer.MAX_VALUE);

  public static final String WORKERS_FLAG = "--workers";
  public static final String WORKERS_DEFAULT = "4";
  public static final String WORKERS_HELP = "Workers m (default: ${DEFAULT-VALUE}).";
  public static final Setting<Integer> WORKERS =
      Setting.intIn(WORKERS_FLAG, WORKERS_DEFAULT, WORKERS_HELP, 1, Integer.MAX_VALUE);

  public static final String MAX_WORKERS_FLAG = "--max-workers";
  public static final String MAX_WORKERS_DEFAULT = "0";
  public static final String MAX_WORKERS_HELP = "Elastic workers: indices --workers.."
      + "MAX-1 may join the running job, each taking the data part and blocks of index"
      + " (k mod --workers); 0 = --workers, no joiners (default: ${DEFAULT-VALUE}).";
  /** 0, or at least {@code --workers}; {@link JobSettings.Builder#build} checks that too. */
  public static final Setting<Integer> MAX_WORKERS = Setting.intIn(MAX_WORKERS_FLAG,
      MAX_WORKERS_DEFAULT, MAX_WORKERS_HELP, 0, JobSpecs.MAX_WORKERS);

  public static final String LR_FLAG = "--lr";
  public static final String LR_HELP = "Step size eta (default: the model's: "
      + Models.CONVEX_LEARNING_RATE + " for softmax, logistic and linear, "
      + Models.NETWORK_LEARNING_RATE + " for mlp and graph files, " + Models.CNN_LEARNING_RATE
      + " for cnn).";
  public static final Setting<Float> LR =
      Setting.floatIn(LR_FLAG, null, LR_HELP, 0, Float.MAX_VALUE);

  public static final String SEED_FLAG = "--seed";
  public static final String SEED_DEFAULT = "1";
  public static final String SEED_HELP = "Seed (default: ${DEFAULT-VALUE}).";
  public static final Setting<Long> SEED =
      Setting.longAtLeast(SEED_FLAG, SEED_DEFAULT, SEED_HELP, Long.MIN_VALUE);

  public static final String QUORUM_FLAG = "--quorum";
  public static final String QUORUM_DEFAULT = "0";
  public static final String QUORUM_HELP =
      "sync: gradients K per step; K < workers = backup workers (default: all).";
  /** At most {@code --workers}; {@link JobSettings.Builder#build} checks that too. */
  public static final Setting<Integer> QUORUM =
      Setting.intIn(QUORUM_FLAG, QUORUM_DEFAULT, QUORUM_HELP, 0, Integer.MAX_VALUE);

  public static final String STALENESS_BOUND_FLAG = "--staleness-bound";
  public static final String STALENESS_BOUND_DEFAULT = "2";
  public static final String STALENESS_BOUND_HELP =
      "ssp: bound s on clock lead (default: ${DEFAULT-VALUE}).";
  public static final Setting<Integer> STALENESS_BOUND = Setting.intIn(STALENESS_BOUND_FLAG,
      STALENESS_BOUND_DEFAULT, STALENESS_BOUND_HELP, 0, Integer.MAX_VALUE);

  public static final String LOCAL_STEPS_FLAG = "--local-steps";
  public static final String LOCAL_STEPS_DEFAULT = "4";
  public static final String LOCAL_STEPS_HELP =
      "local: local steps tau per round (default: ${DEFAULT-VALUE}).";
  public static final Setting<Integer> LOCAL_STEPS = Setting.intIn(LOCAL_STEPS_FLAG,
      LOCAL_STEPS_DEFAULT, LOCAL_STEPS_HELP, 1, Integer.MAX_VALUE);

  public static final String PARTICIPATION_FLAG = "--participation";
  public static final String PARTICIPATION_DEFAULT = "1";
  public static final String PARTICIPATION_HELP =
      "local: fraction of workers sampled per round, in (0, 1] (default: all).";
  public static final Setting<Float> PARTICIPATION = Setting.floatIn(PARTICIPATION_FLAG,
      PARTICIPATION_DEFAULT, PARTICIPATION_HELP, 0, 1);

  public static final String UPDATE_BLOCKS_FLAG = "--update-blocks";
  public static final String UPDATE_BLOCKS_DEFAULT = "all";
  public static final String UPDATE_BLOCKS_HELP = "Blocks each worker updates: all, or"
      + " round-robin (worker k: blocks i with i mod m = k; coordinate-wise async SGD)"
      + " (default: ${DEFAULT-VALUE}).";
  public static final Setting<String> UPDATE_BLOCKS = Setting.word(UPDATE_BLOCKS_FLAG,
      UPDATE_BLOCKS_DEFAULT, UPDATE_BLOCKS_HELP, JobKeys::updateBlocks);

  public static final String BLOCK_LR_FLAG = "--block-lr";
  public static final String BLOCK_LR_DEFAULT = "";
  public static final String BLOCK_LR_HELP = "Per-block step sizes: D comma-separated values,"
      + " or NAME=LR pairs by tensor name (e.g. W=0.5,b=0.1); unset blocks use --lr.";
  /** Checked against the model's blocks by {@link JobSettings#blockLearningRates}. */
  public static final Setting<String> BLOCK_LR =
      Setting.word(BLOCK_LR_FLAG, BLOCK_LR_DEFAULT, BLOCK_LR_HELP, s -> s);

  public static final String PARTITION_FLAG = "--partition";
  public static final String PARTITION_HELP = "Training-set split among workers: iid (disjoint"
      + " equal parts), shared (each worker samples the whole set), label-skew:ALPHA (Dirichlet"
      + " non-IID). Default: iid; shared with --update-blocks round-robin, where a block only"
      + " ever sees its owner's data.";
  public static final Setting<String> PARTITION =
      Setting.word(PARTITION_FLAG, null, PARTITION_HELP, JobKeys::partition);

  public static final String MAX_STALENESS_FLAG = "--max-staleness";
  public static final String MAX_STALENESS_DEFAULT = "0";
  public static final String MAX_STALENESS_HELP =
      "async/ssp: drop updates staler than this; 0 = keep all.";
  public static final Setting<Integer> MAX_STALENESS = Setting.intIn(MAX_STALENESS_FLAG,
      MAX_STALENESS_DEFAULT, MAX_STALENESS_HELP, 0, Integer.MAX_VALUE);

  public static final String STALENESS_LR_FLAG = "--staleness-lr";
  public static final String STALENESS_LR_DEFAULT = "constant";
  public static final String STALENESS_LR_HELP =
      "async/ssp step: constant or inverse (eta/max(1,tau)) (default: ${DEFAULT-VALUE}).";
  public static final Setting<StalenessLr> STALENESS_LR = Setting.word(STALENESS_LR_FLAG,
      STALENESS_LR_DEFAULT, STALENESS_LR_HELP, JobSettings::parseStalenessLr);

  public static final String LR_SCHEDULE_FLAG = "--lr-schedule";
  /** Every model's but cnn's ({@link Models#defaultLrSchedule}). */
  public static final String LR_SCHEDULE_DEFAULT = "constant";
  public static final String LR_SCHEDULE_HELP = "Step-size schedule over the run, a function of"
      + " each block's updates so far: constant, cosine[:F] (eta down to F*eta, default 0, at"
      + " the end), step:P1[,P2...]:FACTOR (eta*FACTOR from each fraction P of the run on)"
      + " (default: the model's: " + Models.CNN_LR_SCHEDULE + " for cnn, "
      + LR_SCHEDULE_DEFAULT + " otherwise).";
  /** Parsed without its horizon, which {@link JobSettings#spec} adds from the run's length. */
  public static final Setting<LrSchedule> LR_SCHEDULE = Setting.word(LR_SCHEDULE_FLAG,
      LR_SCHEDULE_DEFAULT, LR_SCHEDULE_HELP, s -> LrSchedules.parse(s, LR_SCHEDULE_FLAG));

  public static final String OPTIMIZER_FLAG = "--optimizer";
  /** Every model's but cnn's ({@link Models#defaultOptimizer}). */
  public static final String OPTIMIZER_DEFAULT = "sgd";
  public static final String OPTIMIZER_HELP =
      "Server optimizer: sgd, momentum, adagrad, adam (default: the model's: "
          + Models.CNN_OPTIMIZER + " for cnn, " + OPTIMIZER_DEFAULT + " otherwise).";
  public static final Setting<OptimizerKind> OPTIMIZER = Setting.word(OPTIMIZER_FLAG,
      OPTIMIZER_DEFAULT, OPTIMIZER_HELP, JobSettings::parseOptimizer);

  public static final String MAX_BLOCK_SIZE_FLAG = "--max-block-size";
  public static final String MAX_BLOCK_SIZE_DEFAULT = "0";
  public static final String MAX_BLOCK_SIZE_HELP =
      "Largest block in floats; 0 = about 4 blocks per shard.";
  public static final Setting<Integer> MAX_BLOCK_SIZE = Setting.intIn(MAX_BLOCK_SIZE_FLAG,
      MAX_BLOCK_SIZE_DEFAULT, MAX_BLOCK_SIZE_HELP, 0, Integer.MAX_VALUE);

  public static final String LEASE_FLAG = "--lease";
  /** The shards' default lease, {@link JobSpecs#DEFAULT_LEASE_MILLIS}, as text. */
  public static final String LEASE_DEFAULT = JobSpecs.DEFAULT_LEASE_MILLIS / 1000 + "s";
  public static final String LEASE_HELP = "How long a silent worker stays live on the shards;"
      + " sync/local rounds and ssp bounds go on without it after that (default:"
      + " ${DEFAULT-VALUE}).";
  /** In milliseconds. */
  public static final Setting<Integer> LEASE =
      Setting.millis(LEASE_FLAG, LEASE_DEFAULT, LEASE_HELP, 100, 3_600_000);

  public static final String BATCH_SIZE_FLAG = "--batch-size";
  public static final String BATCH_SIZE_DEFAULT = "32";
  public static final String BATCH_SIZE_HELP = "Mini-batch size b (default: ${DEFAULT-VALUE}).";
  public static final Setting<Integer> BATCH_SIZE = Setting.intIn(BATCH_SIZE_FLAG,
      BATCH_SIZE_DEFAULT, BATCH_SIZE_HELP, 1, Integer.MAX_VALUE);

  public static final String EPOCHS_FLAG = "--epochs";
  public static final String EPOCHS_DEFAULT = "30";
  public static final String EPOCHS_HELP =
      "Passes over each worker's partition (default: ${DEFAULT-VALUE}).";
  public static final Setting<Integer> EPOCHS =
      Setting.intIn(EPOCHS_FLAG, EPOCHS_DEFAULT, EPOCHS_HELP, 0, Integer.MAX_VALUE);

  public static final String STEPS_FLAG = "--steps";
  public static final String STEPS_DEFAULT = "0";
  public static final String STEPS_HELP = "Steps per worker; overrides --epochs when > 0.";
  public static final Setting<Long> STEPS =
      Setting.longAtLeast(STEPS_FLAG, STEPS_DEFAULT, STEPS_HELP, 0);

  public static final String EVAL_EVERY_FLAG = "--eval-every";
  public static final String EVAL_EVERY_DEFAULT = "50";
  public static final String EVAL_EVERY_HELP = "Worker 0 evaluates on the test set every N"
      + " steps; 0 = never (default: ${DEFAULT-VALUE}).";
  public static final Setting<Integer> EVAL_EVERY = Setting.intIn(EVAL_EVERY_FLAG,
      EVAL_EVERY_DEFAULT, EVAL_EVERY_HELP, 0, Integer.MAX_VALUE);

  public static final String RPC_TIMEOUT_FLAG = "--rpc-timeout";
  public static final String RPC_TIMEOUT_DEFAULT = "30s";
  public static final String RPC_TIMEOUT_HELP =
      "Deadline of push, init and status calls (default: ${DEFAULT-VALUE}).";
  /** In milliseconds. */
  public static final Setting<Integer> RPC_TIMEOUT = Setting.millis(RPC_TIMEOUT_FLAG,
      RPC_TIMEOUT_DEFAULT, RPC_TIMEOUT_HELP, 1, 3_600_000);

  public static final String PULL_TIMEOUT_FLAG = "--pull-timeout";
  public static final String PULL_TIMEOUT_DEFAULT = "120s";
  public static final String PULL_TIMEOUT_HELP =
      "Deadline of a pull, which may wait at the barrier (default: ${DEFAULT-VALUE}).";
  /** In milliseconds. */
  public static final Setting<Integer> PULL_TIMEOUT = Setting.millis(PULL_TIMEOUT_FLAG,
      PULL_TIMEOUT_DEFAULT, PULL_TIMEOUT_HELP, 1, 3_600_000);

  /** Every setting above, in help order. */
  public static final List<Setting<?>> ALL = List.of(MODE, SHARDS, WORKERS, MAX_WORKERS, LR,
      SEED, QUORUM,
      STALENESS_BOUND, LOCAL_STEPS, PARTICIPATION, UPDATE_BLOCKS, BLOCK_LR, PARTITION,
      MAX_STALENESS, STALENESS_LR, LR_SCHEDULE, OPTIMIZER, MAX_BLOCK_SIZE, LEASE, BATCH_SIZE,
      EPOCHS, STEPS, EVAL_EVERY, RPC_TIMEOUT, PULL_TIMEOUT);

  /** The partition when {@code --partition} is not given: shared for round-robin, else iid. */
  public static String defaultPartition(String updateBlocks) {
    return updateBlocks.equals("round-robin") ? "shared" : "iid";
  }

  /** {@code setting}'s value of {@code text} as a duration. */
  public static java.time.Duration duration(Setting<Integer> setting, String text) {
    return java.time.Duration.ofMillis(setting.parse(text));
  }

  private static String updateBlocks(String s) {
    if (!s.equals("all") && !s.equals("round-robin")) {
      throw new IllegalArgumentException("unknown " + UPDATE_BLOCKS_FLAG + " '" + s
          + "'; expected all or round-robin");
    }
    return s;
  }

  private static String partition(String s) {
    if (!s.equals("iid") && !s.equals("shared") && !s.startsWith("label-skew:")) {
      throw new IllegalArgumentException("unknown " + PARTITION_FLAG + " '" + s
          + "'; expected iid, shared or label-skew:ALPHA");
    }
    if (s.startsWith("label-skew:")) {
      JobSettings.skewAlpha(s);
    }
    return s;
  }
}
