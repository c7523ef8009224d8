package io.parasol.common;

/**
 * Every metric name Parasol registers, in Micrometer's lowercase dotted form. Prometheus renders
 * them in snake case with unit suffixes ({@code parasol.shard.pushes} becomes
 * {@code parasol_shard_pushes_total}). README lists each with its labels.
 */
public final class MetricNames {
  private MetricNames() {}

  /**
   * The label naming the training job on every shard series of one job (a shard holds several
   * jobs side by side). Not {@code job}: Prometheus gives every scraped series a {@code job}
   * label of its own (the scrape job) and would rename ours to {@code exported_job}.
   */
  public static final String JOB_TAG = "parasol_job";

  /** Counter, tags shard and outcome. */
  public static final String SHARD_PUSHES = "parasol.shard.pushes";
  /** Counter, tag shard. */
  public static final String SHARD_PULLS = "parasol.shard.pulls";
  /** Distribution summary of staleness τ per update, tags shard, block, mode. */
  public static final String SHARD_STALENESS = "parasol.shard.staleness";
  /** Counter of updates applied per block, tags shard and block. */
  public static final String SHARD_UPDATES = "parasol.shard.updates";
  /**
   * Counter of global iterations this shard applied, tags shard and mode: async/ssp, pushes
   * that updated at least one block; sync/local, completed rounds.
   */
  public static final String SHARD_ITERATIONS = "parasol.shard.iterations";
  /**
   * Gauge of κ_i = ν_i / n as this shard sees it (n: {@link #SHARD_ITERATIONS}), tags shard and
   * block.
   */
  public static final String SHARD_KAPPA = "parasol.shard.kappa";
  /**
   * Gauge of α_i · Σ_{j≠i} L_ij · mean Δ_ij (L_ij = 1) per block, tags shard and block: divided
   * by the job's κ_i and summed over blocks it is the error-floor term.
   */
  public static final String SHARD_ERROR_FLOOR_LOCAL = "parasol.shard.error.floor.local";
  /**
   * Gauge of Σ_i (α_i/κ_i) · Σ_{j≠i} L_ij · mean Δ_ij over this shard's blocks, with this shard's
   * κ_i and L_ij = 1, tag shard.
   */
  public static final String SHARD_ERROR_FLOOR = "parasol.shard.error.floor";
  /** Gauge of each block's version, tags shard and block. */
  public static final String SHARD_BLOCK_VERSION = "parasol.shard.block.version";
  /** Summary of Age of Information Δ_ij, tags shard, block (i) and source (j). */
  public static final String SHARD_AOI = "parasol.shard.aoi";
  /** Counter of block value bytes, tags shard and direction (in, out). */
  public static final String SHARD_BYTES = "parasol.shard.bytes";
  /** Timer of the time pulls waited at the shard, tag shard. */
  public static final String SHARD_PULL_WAIT = "parasol.shard.pull.wait";
  /** Timer of sync/local round durations, tags shard and mode. */
  public static final String SHARD_ROUND_DURATION = "parasol.shard.round.duration";
  /** Summary of contributions per completed round, tags shard and mode. */
  public static final String SHARD_ROUND_CONTRIBUTORS = "parasol.shard.round.contributors";

  /** Counter of worker lease events, tags shard and event (expired, rejoined). */
  public static final String SHARD_LEASES = "parasol.shard.leases";
  /** Timer of checkpoint writes, tag shard. */
  public static final String SHARD_CHECKPOINTS = "parasol.shard.checkpoints";
  /** Counter of checkpoint bytes written, tag shard. */
  public static final String SHARD_CHECKPOINT_BYTES = "parasol.shard.checkpoint.bytes";
  /**
   * Counter of restores of the job from a checkpoint when the shard started (0 or 1 per shard
   * process), tags shard and {@link #JOB_TAG}.
   */
  public static final String SHARD_RESTORES = "parasol.shard.restores";
  /**
   * Gauge of each block's version in the checkpoint the shard restored at start (the updates
   * a restart lost of a block are its version before minus this), tags shard, {@link #JOB_TAG}
   * and block; only after a restore.
   */
  public static final String SHARD_RESTORED_VERSION = "parasol.shard.restored.version";
  /** Gauge of live workers, tag shard. */
  public static final String SHARD_LIVE_WORKERS = "parasol.shard.workers.live";
  /**
   * Counter of calls answered with a status other than OK, tags shard, {@link #JOB_TAG} (a job
   * the shard holds, else {@code -}), method and status.
   */
  public static final String SHARD_REFUSED = "parasol.shard.refused";
  /**
   * Gauge of the heap a job holds on the shard (blocks, optimizer state, round sums), tags shard
   * and {@link #JOB_TAG}; the series goes away when the job ends.
   */
  public static final String SHARD_JOB_BYTES = "parasol.shard.job.bytes";
  /** Gauge of the heap all the shard's jobs hold, tag shard. */
  public static final String SHARD_BYTES_HELD = "parasol.shard.bytes.held";
  /** Gauge of the jobs the shard holds, tag shard. */
  public static final String SHARD_JOBS = "parasol.shard.jobs";
  /** Counter of jobs ended on the shard, tags shard and reason (deleted, finished, idle). */
  public static final String SHARD_JOBS_ENDED = "parasol.shard.jobs.ended";

  /** Gauge of the worker's latest mini-batch loss, tag worker. */
  public static final String WORKER_LOSS = "parasol.worker.loss";
  /** Gauge of the evaluator's test loss, tag worker. */
  public static final String WORKER_TEST_LOSS = "parasol.worker.test.loss";
  /** Gauge of the evaluator's test accuracy, tag worker. */
  public static final String WORKER_TEST_ACCURACY = "parasol.worker.test.accuracy";
  /** Counter of training examples processed, tag worker. */
  public static final String WORKER_EXAMPLES = "parasol.worker.examples";
  /**
   * Counter of the worker's pushes that a shard applied (async/ssp: each is one global
   * iteration; not counted in sync/local, whose iterations are the shards' rounds), tag worker.
   */
  public static final String WORKER_ITERATIONS = "parasol.worker.iterations";
  /**
   * Gauge of the worker's estimate of L_ij ({@code --estimate-lipschitz}), tags worker, block
   * (i) and source (j).
   */
  public static final String WORKER_LIPSCHITZ = "parasol.worker.lipschitz";
  /** Counter of steps completed, tag worker. */
  public static final String WORKER_STEPS = "parasol.worker.steps";
  /** Timer of time per phase of a step, tags worker and phase (compute, pull, wait, push). */
  public static final String WORKER_TIME = "parasol.worker.time";
  /** Summary of the staleness the worker's pushes met (mean over the pushed blocks). */
  public static final String WORKER_STALENESS = "parasol.worker.staleness";

  /** Counter of shard rollbacks (restarts from a checkpoint) the worker recovered from. */
  public static final String WORKER_ROLLBACKS = "parasol.worker.rollbacks";
  /**
   * Counter of updates lost at shard rollbacks as the worker saw them (per rollback, the most
   * any block of the shard lost: its highest version the worker saw before minus the version
   * restored; a lower bound), tags worker and shard.
   */
  public static final String WORKER_UPDATES_LOST = "parasol.worker.updates.lost";
}
