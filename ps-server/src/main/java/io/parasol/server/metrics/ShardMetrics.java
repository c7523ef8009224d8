package io.parasol.server.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.parasol.common.MetricNames;
import io.parasol.proto.v1.Mode;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntToLongFunction;

/**
 * The meters of one job on one shard, and the one place its counts live: the Status call reads
 * the same counts the {@code parasol_shard_*} counters export (function counters over them), so
 * nothing is counted twice. Every meter carries the tags {@code shard} and
 * {@link MetricNames#JOB_TAG}; {@link #tags()} finds them again when the job ends.
 *
 * <p>Two {@link MeterBinder}s: this object binds the shard-wide meters (call
 * {@link #bindTo(MeterRegistry)} once, as the core does), and {@link #jobMeters} returns the
 * binder of a job's per-block meters. Thread safety: every recording method may be called
 * concurrently.
 */
public final class ShardMetrics implements MeterBinder {
  /** Outcomes of a push, as the {@code outcome} tag of {@link MetricNames#SHARD_PUSHES}. */
  public enum Outcome {
    APPLIED, ACCEPTED, DROPPED_STALE, DROPPED_LATE, REJECTED, DUPLICATE;

    String tag() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Staleness bucket bounds: 0.5 isolates τ = 0, then every τ up to 8, then wider. */
  public static final double[] STALENESS_BUCKETS =
      {0.5, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 24, 32, 48, 64, 128, 256, 512, 1024};

  static final Duration[] WAIT_BUCKETS = {Duration.ofNanos(100_000), Duration.ofMillis(1),
      Duration.ofMillis(5), Duration.ofMillis(20), Duration.ofMillis(100),
      Duration.ofMillis(500), Duration.ofSeconds(2), Duration.ofSeconds(10)};

  private static final String LEASE_HELP = "Worker lease events: expired (silent past the"
      + " lease), left (finished), rejoined, joined (an elastic worker's first call)";

  private final String shard;
  private final String job;
  /** shard and job: the tags of every meter of this object. */
  private final Tags base;
  private final Map<Outcome, LongAdder> pushes = new EnumMap<>(Outcome.class);
  private final LongAdder pulls = new LongAdder();
  private final LongAdder updates = new LongAdder();
  private MeterRegistry registry;
  private Counter bytesIn;
  private Counter bytesOut;
  private Timer pullWait;
  private Timer checkpoints;
  private Counter checkpointBytes;
  private Counter expired;
  private Counter rejoined;
  private Counter joined;
  private Counter left;
  private Timer roundDuration;
  private DistributionSummary roundContributors;
  private Counter restores;

  /** The meters of one job on shard {@code shardIndex}, tagged with both. */
  public ShardMetrics(int shardIndex, String job) {
    this.shard = Integer.toString(shardIndex);
    this.job = job;
    this.base = Tags.of("shard", shard, MetricNames.JOB_TAG, job);
    for (Outcome o : Outcome.values()) {
      pushes.put(o, new LongAdder());
    }
  }

  /** The mode as a metric tag: "sync", "async", "ssp", "local". */
  public static String modeTag(Mode mode) {
    return switch (mode) {
      case MODE_SYNC -> "sync";
      case MODE_ASYNC -> "async";
      case MODE_SSP -> "ssp";
      case MODE_LOCAL -> "local";
      default -> mode.name().toLowerCase(Locale.ROOT);
    };
  }

  /** Whether the mode works in rounds (and so has round meters). */
  public static boolean hasRounds(Mode mode) {
    return mode == Mode.MODE_SYNC || mode == Mode.MODE_LOCAL;
  }

  @Override
  public void bindTo(MeterRegistry r) {
    this.registry = r;
    for (Outcome o : Outcome.values()) {
      FunctionCounter.builder(MetricNames.SHARD_PUSHES, pushes.get(o), LongAdder::doubleValue)
          .description("Pushes received by the shard, by outcome")
          .tags(base).tags("outcome", o.tag())
          .register(r);
    }
    FunctionCounter.builder(MetricNames.SHARD_PULLS, pulls, LongAdder::doubleValue)
        .description("Pulls served by the shard")
        .tags(base)
        .register(r);
    bytesIn = Counter.builder(MetricNames.SHARD_BYTES)
        .description("Block value bytes received (pushes) and sent (pulls)")
        .baseUnit("bytes")
        .tags(base).tags("direction", "in")
        .register(r);
    bytesOut = Counter.builder(MetricNames.SHARD_BYTES)
        .description("Block value bytes received (pushes) and sent (pulls)")
        .baseUnit("bytes")
        .tags(base).tags("direction", "out")
        .register(r);
    checkpoints = Timer.builder(MetricNames.SHARD_CHECKPOINTS)
        .description("Checkpoints written, and how long each took")
        .tags(base)
        .register(r);
    checkpointBytes = Counter.builder(MetricNames.SHARD_CHECKPOINT_BYTES)
        .description("Bytes written to checkpoints")
        .baseUnit("bytes")
        .tags(base)
        .register(r);
    restores = Counter.builder(MetricNames.SHARD_RESTORES)
        .description("Times this shard process restored the job from a checkpoint at start")
        .tags(base)
        .register(r);
    expired = lease(r, "expired");
    rejoined = lease(r, "rejoined");
    left = lease(r, "left");
    joined = lease(r, "joined");
    pullWait = Timer.builder(MetricNames.SHARD_PULL_WAIT)
        .description("Time a pull waited at the shard for its versions (the sync barrier) or"
            + " for the ssp bound")
        .tags(base)
        .serviceLevelObjectives(WAIT_BUCKETS)
        .register(r);
  }

  private Counter lease(MeterRegistry r, String event) {
    return Counter.builder(MetricNames.SHARD_LEASES)
        .description(LEASE_HELP)
        .tags(base).tags("event", event)
        .register(r);
  }

  /**
   * The binder of a job's per-block meters: update counts (read from {@code updatesOf}, the
   * staleness tracker's exact counts), version gauges, and in sync/local the round meters.
   *
   * @param state what the version gauge reads from; Micrometer holds it weakly, so it must be
   *     reachable from the shard (the job)
   */
  public <T> MeterBinder jobMeters(int[] blockIds, Mode mode, T state, BlockVersion<T> version,
      IntToLongFunction updatesOf) {
    return r -> {
      for (int id : blockIds) {
        Tags tags = base.and("block", Integer.toString(id));
        final int blockId = id;
        FunctionCounter.builder(MetricNames.SHARD_UPDATES, state,
                s -> updatesOf.applyAsLong(blockId))
            .description("Updates applied to the block (its version increments)")
            .tags(tags)
            .register(r);
        Gauge.builder(MetricNames.SHARD_BLOCK_VERSION, state, s -> version.of(s, blockId))
            .description("Version nu_i of the block: number of updates applied")
            .tags(tags)
            .register(r);
      }
      if (hasRounds(mode)) {
        String tag = modeTag(mode);
        roundDuration = Timer.builder(MetricNames.SHARD_ROUND_DURATION)
            .description("sync/local: time from a round's first contribution to its completion")
            .tags(base).tags("mode", tag)
            .serviceLevelObjectives(WAIT_BUCKETS)
            .register(r);
        roundContributors = DistributionSummary.builder(MetricNames.SHARD_ROUND_CONTRIBUTORS)
            .description("sync/local: contributions a round waited for before completing")
            .baseUnit("workers")
            .tags(base).tags("mode", tag)
            .register(r);
      }
    };
  }

  /** Reads a block's version from the shard's state, for the version gauge. */
  @FunctionalInterface
  public interface BlockVersion<T> {
    double of(T state, int blockId);
  }

  public void push(Outcome outcome) {
    pushes.get(outcome).increment();
  }

  /** Pushes counted with {@code outcome} so far. */
  public long pushes(Outcome outcome) {
    return pushes.get(outcome).sum();
  }

  public void pull(long waitedNanos) {
    pulls.increment();
    pullWait.record(waitedNanos, TimeUnit.NANOSECONDS);
  }

  /** Pulls served so far. */
  public long pulls() {
    return pulls.sum();
  }

  public void bytesIn(long n) {
    bytesIn.increment(n);
  }

  public void bytesOut(long n) {
    bytesOut.increment(n);
  }

  /** One block update applied (per-block counts live in the staleness tracker). */
  public void updated() {
    updates.increment();
  }

  /** Block updates applied so far, over all blocks. */
  public long updatesApplied() {
    return updates.sum();
  }

  public void checkpoint(long nanos, long bytes) {
    checkpoints.record(nanos, TimeUnit.NANOSECONDS);
    checkpointBytes.increment(bytes);
  }

  /**
   * The job was restored from a checkpoint: counts the restore and registers a gauge of each
   * block's restored version ({@code blockIds[k]} restored {@code versions[k]}).
   */
  public void restored(int[] blockIds, long[] versions) {
    restores.increment();
    for (int k = 0; k < blockIds.length; k++) {
      final long v = versions[k];
      Gauge.builder(MetricNames.SHARD_RESTORED_VERSION, () -> v)
          .description("Version of the block in the checkpoint the shard restored at start")
          .tags(base).tags("block", Integer.toString(blockIds[k]))
          .register(registry);
    }
  }

  public void membership(boolean joined) {
    (joined ? rejoined : expired).increment();
  }

  /** A worker joined the job for the first time (an index beyond the initial workers). */
  public void joined() {
    joined.increment();
  }

  /** A worker that finished left the live set. */
  public void left() {
    left.increment();
  }

  public void round(long nanos, int contributors) {
    roundDuration.record(nanos, TimeUnit.NANOSECONDS);
    roundContributors.record(contributors);
  }

  /** The tags every meter of this object carries (shard and job). */
  public Tags tags() {
    return base;
  }

  /** The job these meters count. */
  public String job() {
    return job;
  }

  /** The registry bound by {@link #bindTo}. */
  public MeterRegistry registry() {
    return registry;
  }
}
