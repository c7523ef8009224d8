package io.parasol.server;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.parasol.common.MetricNames;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/** The meters of one shard, registered once per job on the shard's {@link MeterRegistry}. */
final class ShardMetrics {
  /** Outcomes of a push, as the {@code outcome} tag of {@link MetricNames#SHARD_PUSHES}. */
  enum Outcome {
    APPLIED, ACCEPTED, DROPPED_STALE, DROPPED_LATE, REJECTED, DUPLICATE;

    String tag() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** Staleness bucket bounds: 0.5 isolates τ = 0, then every τ up to 8, then wider. */
  static final double[] STALENESS_BUCKETS =
      {0.5, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 24, 32, 48, 64, 128, 256, 512, 1024};

  private final MeterRegistry registry;
  private final String shard;
  private final Map<Outcome, Counter> pushes = new EnumMap<>(Outcome.class);
  private final Counter pulls;
  private DistributionSummary[] staleness = new DistributionSummary[0];
  private Counter[] updates = new Counter[0];

  ShardMetrics(MeterRegistry registry, int shardIndex) {
    this.registry = registry == null ? new SimpleMeterRegistry() : registry;
    this.shard = Integer.toString(shardIndex);
    for (Outcome o : Outcome.values()) {
      pushes.put(o, Counter.builder(MetricNames.SHARD_PUSHES)
          .description("Pushes received by the shard, by outcome")
          .tags("shard", shard, "outcome", o.tag())
          .register(this.registry));
    }
    pulls = Counter.builder(MetricNames.SHARD_PULLS)
        .description("Pulls served by the shard")
        .tag("shard", shard)
        .register(this.registry);
  }

  /** Registers the per-block meters of a job; {@code blockIds} are the shard's blocks. */
  <T> void bindBlocks(int[] blockIds, String mode, T state, BlockVersion<T> version) {
    int max = 0;
    for (int id : blockIds) {
      max = Math.max(max, id + 1);
    }
    staleness = new DistributionSummary[max];
    updates = new Counter[max];
    for (int id : blockIds) {
      Tags tags = Tags.of("shard", shard, "block", Integer.toString(id));
      staleness[id] = DistributionSummary.builder(MetricNames.SHARD_STALENESS)
          .description("Staleness tau = version now - version read, of each applied or accepted"
              + " update")
          .baseUnit("updates")
          .tags(tags.and("mode", mode))
          .serviceLevelObjectives(STALENESS_BUCKETS)
          .register(registry);
      updates[id] = Counter.builder(MetricNames.SHARD_UPDATES)
          .description("Updates applied to the block (its version increments)")
          .tags(tags)
          .register(registry);
      final int blockId = id;
      ToDoubleFunction<T> f = s -> version.of(s, blockId);
      Gauge.builder(MetricNames.SHARD_BLOCK_VERSION, state, f)
          .description("Version nu_i of the block: number of updates applied")
          .tags(tags)
          .register(registry);
    }
  }

  /** Reads a block's version from the shard's state, for the version gauge. */
  @FunctionalInterface
  interface BlockVersion<T> {
    double of(T state, int blockId);
  }

  void push(Outcome outcome) {
    pushes.get(outcome).increment();
  }

  void pull() {
    pulls.increment();
  }

  void staleness(int blockId, long tau) {
    staleness[blockId].record(tau);
  }

  void updated(int blockId) {
    updates[blockId].increment();
  }

  MeterRegistry registry() {
    return registry;
  }
}
