package io.parasol.server;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.parasol.common.MetricNames;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
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
  private final Counter bytesIn;
  private final Counter bytesOut;
  private final Timer pullWait;
  private final Timer checkpoints;
  private final Counter checkpointBytes;
  private final Counter expired;
  private final Counter rejoined;
  private final Counter left;
  private Counter[] updates = new Counter[0];
  private Timer roundDuration;
  private DistributionSummary roundContributors;

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
    bytesIn = Counter.builder(MetricNames.SHARD_BYTES)
        .description("Block value bytes received (pushes) and sent (pulls)")
        .baseUnit("bytes")
        .tags("shard", shard, "direction", "in")
        .register(this.registry);
    bytesOut = Counter.builder(MetricNames.SHARD_BYTES)
        .description("Block value bytes received (pushes) and sent (pulls)")
        .baseUnit("bytes")
        .tags("shard", shard, "direction", "out")
        .register(this.registry);
    checkpoints = Timer.builder(MetricNames.SHARD_CHECKPOINTS)
        .description("Checkpoints written, and how long each took")
        .tag("shard", shard)
        .register(this.registry);
    checkpointBytes = Counter.builder(MetricNames.SHARD_CHECKPOINT_BYTES)
        .description("Bytes written to checkpoints")
        .baseUnit("bytes")
        .tag("shard", shard)
        .register(this.registry);
    expired = Counter.builder(MetricNames.SHARD_LEASES)
        .description("Worker lease events: expired (silent past the lease), left (finished),"
            + " rejoined")
        .tags("shard", shard, "event", "expired")
        .register(this.registry);
    rejoined = Counter.builder(MetricNames.SHARD_LEASES)
        .description("Worker lease events: expired (silent past the lease), left (finished),"
            + " rejoined")
        .tags("shard", shard, "event", "rejoined")
        .register(this.registry);
    left = Counter.builder(MetricNames.SHARD_LEASES)
        .description("Worker lease events: expired (silent past the lease), left (finished),"
            + " rejoined")
        .tags("shard", shard, "event", "left")
        .register(this.registry);
    pullWait = Timer.builder(MetricNames.SHARD_PULL_WAIT)
        .description("Time a pull waited at the shard for its versions (the sync barrier) or"
            + " for the ssp bound")
        .tag("shard", shard)
        .serviceLevelObjectives(WAIT_BUCKETS)
        .register(this.registry);
  }

  static final Duration[] WAIT_BUCKETS = {Duration.ofNanos(100_000), Duration.ofMillis(1),
      Duration.ofMillis(5), Duration.ofMillis(20), Duration.ofMillis(100),
      Duration.ofMillis(500), Duration.ofSeconds(2), Duration.ofSeconds(10)};

  /** Registers the per-block meters of a job; {@code blockIds} are the shard's blocks. */
  <T> StalenessTracker bindBlocks(int numBlocks, int[] blockIds, String mode, T state,
      BlockVersion<T> version) {
    updates = new Counter[numBlocks];
    for (int id : blockIds) {
      Tags tags = Tags.of("shard", shard, "block", Integer.toString(id));
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
    if (!mode.equals("sync") && !mode.equals("local")) {
      return new StalenessTracker(numBlocks, blockIds, registry, shard, mode);
    }
    roundDuration = Timer.builder(MetricNames.SHARD_ROUND_DURATION)
        .description("sync/local: time from a round's first contribution to its completion")
        .tags("shard", shard, "mode", mode)
        .serviceLevelObjectives(WAIT_BUCKETS)
        .register(registry);
    roundContributors = DistributionSummary.builder(MetricNames.SHARD_ROUND_CONTRIBUTORS)
        .description("sync/local: contributions a round waited for before completing")
        .baseUnit("workers")
        .tags("shard", shard, "mode", mode)
        .register(registry);
    return new StalenessTracker(numBlocks, blockIds, registry, shard, mode);
  }

  /** Reads a block's version from the shard's state, for the version gauge. */
  @FunctionalInterface
  interface BlockVersion<T> {
    double of(T state, int blockId);
  }

  void push(Outcome outcome) {
    pushes.get(outcome).increment();
  }

  void pull(long waitedNanos) {
    pulls.increment();
    pullWait.record(waitedNanos, TimeUnit.NANOSECONDS);
  }

  void bytesIn(long n) {
    bytesIn.increment(n);
  }

  void bytesOut(long n) {
    bytesOut.increment(n);
  }

  void updated(int blockId) {
    updates[blockId].increment();
  }

  void checkpoint(long nanos, long bytes) {
    checkpoints.record(nanos, TimeUnit.NANOSECONDS);
    checkpointBytes.increment(bytes);
  }

  void membership(boolean joined) {
    (joined ? rejoined : expired).increment();
  }

  /** A worker that finished left the live set. */
  void left() {
    left.increment();
  }

  void round(long nanos, int contributors) {
    roundDuration.record(nanos, TimeUnit.NANOSECONDS);
    roundContributors.record(contributors);
  }

  MeterRegistry registry() {
    return registry;
  }
}
