package io.parasol.common;

/**
 * Every metric name Parasol registers, in Micrometer's lowercase dotted form. Prometheus renders
 * them in snake case with unit suffixes ({@code parasol.shard.pushes} becomes
 * {@code parasol_shard_pushes_total}). README lists each with its labels.
 */
public final class MetricNames {
  private MetricNames() {}

  /** Counter, tags shard and outcome. */
  public static final String SHARD_PUSHES = "parasol.shard.pushes";
  /** Counter, tag shard. */
  public static final String SHARD_PULLS = "parasol.shard.pulls";
  /** Distribution summary of staleness τ per update, tags shard, block, mode. */
  public static final String SHARD_STALENESS = "parasol.shard.staleness";
  /** Counter of updates applied per block, tags shard and block. */
  public static final String SHARD_UPDATES = "parasol.shard.updates";
  /** Gauge of each block's version, tags shard and block. */
  public static final String SHARD_BLOCK_VERSION = "parasol.shard.block.version";
}
