package io.parasol.server.core;

import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.parasol.common.JobSpecs;
import io.parasol.common.MetricNames;
import io.parasol.common.Refusals;
import io.parasol.proto.v1.JobSpec;
import io.parasol.server.clock.Ticker;
import io.parasol.server.consistency.ConsistencyRule;
import io.parasol.server.metrics.ShardMetrics;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The jobs one shard holds, by name, and their limits: at most {@link #maxJobs} jobs, and at
 * most the {@link MemoryBudget}'s bytes over all of them. A job past either limit is refused
 * with RESOURCE_EXHAUSTED before anything is allocated.
 *
 * <p>A job ends by {@link #end} (a Delete call), or in {@link #expire}: once every worker has
 * left (finished) and the job has then seen no call for {@link #FINISHED_GRACE_NANOS} (so that
 * whoever finished can still read the final model and status), or once it has seen no call
 * for the idle timeout. Ending answers the pulls waiting on the job at once (NOT_FOUND, {@link
 * Refusals#JOB_ENDED}), releases the job's budget and meters, logs one line, and tells the
 * {@link #onEnded} listener (which removes its checkpoints).
 *
 * <p>Thread safety: lookups are lock-free (a concurrent map); creating and ending jobs take
 * this object's monitor, which no request holds while it applies or waits, so one job's calls
 * never wait for another job's.
 */
final class Jobs {
  private static final Logger log = LoggerFactory.getLogger(Jobs.class);

  /** The job a request with an empty job name means. */
  static final String DEFAULT = "default";
  /** How long a finished job (every worker left) stays for reads after its last call. */
  static final long FINISHED_GRACE_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
  /** Default most jobs per shard. */
  static final int DEFAULT_MAX_JOBS = 16;
  /** What a job name may be: it names a checkpoint directory and a metric label value. */
  static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  /** Why a job ended, as the {@code reason} tag of {@link MetricNames#SHARD_JOBS_ENDED}. */
  enum Ended {
    DELETED, FINISHED, IDLE;

    String tag() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final int shardIndex;
  private final MeterRegistry registry;
  private final Ticker ticker;
  private final Buffers buffers;
  private final MemoryBudget budget;
  private final Incarnation incarnation;
  private final Map<String, Job> byName = new ConcurrentHashMap<>();
  private final Map<Ended, Counter> ended = new java.util.EnumMap<>(Ended.class);
  private volatile int maxJobs = DEFAULT_MAX_JOBS;
  private volatile long idleNanos = java.util.concurrent.TimeUnit.MINUTES.toNanos(30);
  private volatile long bytesHeld;
  private volatile Consumer<String> onEnded = name -> { };

  Jobs(int shardIndex, MeterRegistry registry, Ticker ticker, Buffers buffers,
      MemoryBudget budget, Incarnation incarnation) {
    this.shardIndex = shardIndex;
    this.incarnation = incarnation;
    this.registry = registry;
    this.ticker = ticker;
    this.buffers = buffers;
    this.budget = budget;
    String shard = Integer.toString(shardIndex);
    Gauge.builder(MetricNames.SHARD_JOBS, byName, Map::size)
        .description("Jobs the shard holds")
        .tag("shard", shard)
        .register(registry);
    Gauge.builder(MetricNames.SHARD_BYTES_HELD, this, j -> j.bytesHeld)
        .description("Heap the shard's jobs hold: blocks, optimizer state, round sums")
        .baseUnit("bytes")
        .tag("shard", shard)
        .register(registry);
    for (Ended e : Ended.values()) {
      ended.put(e, Counter.builder(MetricNames.SHARD_JOBS_ENDED)
          .description("Jobs ended on the shard: deleted, finished (every worker left), idle")
          .tags("shard", shard, "reason", e.tag())
          .register(registry));
    }
  }

  /** INVALID_ARGUMENT unless {@code name} is empty or matches {@link #NAME}. */
  static void checkName(String name) throws ShardException {
    if (!name.isEmpty() && !NAME.matcher(name).matches()) {
      throw ShardException.invalid("invalid job name '" + (name.length() > 64
          ? name.substring(0, 64) + "..." : name) + "': 1 to 64 letters, digits, '.', '_' or"
          + " '-', starting with a letter or digit");
    }
  }

  /**
   * The Delete call: ends the job it names if the fingerprint is the job's; a name the shard
   * does not hold answers {@code deleted = false}.
   */
  io.parasol.proto.v1.DeleteResponse delete(io.parasol.proto.v1.DeleteRequest req)
      throws ShardException {
    String name = name(req.getJobName());
    var out = io.parasol.proto.v1.DeleteResponse.newBuilder();
    Job j = byName.get(name);
    if (j == null) {
      return out.setDeleted(false).build();
    }
    if (!j.fingerprint.equals(req.getFingerprint())) {
      String fp = req.getFingerprint();
      throw ShardException.precondition("fingerprint '" + (fp.length() > 40
          ? fp.substring(0, 40) + "..." : fp) + "' does not match job '" + name + "' on shard "
          + shardIndex + " (" + j.fingerprint + "); only the job's own fingerprint deletes it");
    }
    boolean deleted = end(j, Ended.DELETED);
    return out.setDeleted(deleted).setBytesReleased(deleted ? j.bytes : 0).build();
  }

  /** The job name a request or spec means: empty is {@link #DEFAULT}. */
  static String name(String requested) {
    return requested.isEmpty() ? DEFAULT : requested;
  }

  void maxJobs(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("max jobs must be >= 1, got " + n);
    }
    maxJobs = n;
  }

  int maxJobs() {
    return maxJobs;
  }

  /** Ends a job after this long without a call; 0: never. */
  void idleTimeout(java.time.Duration d) {
    if (d.isNegative()) {
      throw new IllegalArgumentException("job idle timeout must be >= 0, got " + d);
    }
    idleNanos = d.toNanos();
  }

  void onEnded(Consumer<String> listener) {
    onEnded = listener;
  }

  Job get(String name) {
    return byName.get(name);
  }

  /** The jobs now, by name. */
  List<Job> all() {
    List<Job> out = new ArrayList<>(byName.values());
    out.sort(java.util.Comparator.comparing(j -> j.name));
    return out;
  }

  boolean isEmpty() {
    return byName.isEmpty();
  }

  long bytesHeld() {
    return bytesHeld;
  }

  /**
   * Creates and publishes the job {@code name}; RESOURCE_EXHAUSTED past the job or byte limit.
   * The caller holds this object's monitor and checked that the name is free.
   */
  Job create(String name, JobSpec spec, String fp, PullWaitersFactory waitersOf)
      throws ShardException {
    if (byName.size() >= maxJobs) {
      throw new ShardException(Status.Code.RESOURCE_EXHAUSTED, "shard " + shardIndex
          + " already holds " + byName.size() + " jobs " + byName.keySet().stream().sorted()
          .toList() + ", its limit (--max-jobs " + maxJobs + "); delete one (or let it finish)"
          + " before starting job '" + name + "'", Refusals.SHARD_TOO_SMALL)
          .with("shard", Integer.toString(shardIndex)).with("jobs", Integer.toString(maxJobs));
    }
    budget.check(spec, shardIndex, bytesHeld, byName.size());
    ShardMetrics metrics = new ShardMetrics(shardIndex, name);
    metrics.bindTo(registry);
    try {
      return publish(name, spec, fp, metrics, waitersOf);
    } catch (RuntimeException e) {
      removeMeters(name);
      throw e;
    }
  }

  private Job publish(String name, JobSpec spec, String fp, ShardMetrics metrics,
      PullWaitersFactory waitersOf) {
    long bytes = MemoryBudget.persistent(spec, shardIndex);
    BlockStore blocks = BlockStore.create(spec, shardIndex);
    Membership members = new Membership(spec.getNumWorkers(), JobSpecs.maxWorkers(spec),
        JobSpecs.leaseMillis(spec) * 1_000_000L, ticker);
    StalenessTracker tracker = new StalenessTracker(blocks, registry, metrics.tags(),
        spec.getMode());
    Job j = new Job(name, spec, fp, bytes, blocks, members, tracker, metrics,
        waitersOf.create(metrics), ticker.nanoTime());
    j.rule = ConsistencyRule.create(spec, blocks.byId, new JobContext(j, ticker));
    Gauge.builder(MetricNames.SHARD_LIVE_WORKERS, j, jj -> jj.members.liveWorkers().size())
        .description("Workers whose lease is current")
        .tags(metrics.tags())
        .register(registry);
    Gauge.builder(MetricNames.SHARD_JOB_BYTES, j, jj -> jj.bytes)
        .description("Heap the job holds on the shard: blocks, optimizer state, round sums")
        .baseUnit("bytes")
        .tags(metrics.tags())
        .register(registry);
    metrics.jobMeters(blocks.ownedIds, spec.getMode(), j, (jj, id) -> jj.blocks.version(id),
        tracker::updates).bindTo(registry);
    byName.put(name, j);
    bytesHeld += bytes;
    buffers.limit(budget.limit() - bytesHeld);
    return j;
  }

  /** Makes a waiting-pull list bound to a job's meters. */
  @FunctionalInterface
  interface PullWaitersFactory {
    PullWaiters create(ShardMetrics metrics);
  }

  /**
   * Ends {@code j} if it is still the job under its name: unpublishes it, releases its budget
   * and meters, logs one line. False if it had ended already.
   */
  synchronized boolean end(Job j, Ended why) {
    if (j.ended || !byName.remove(j.name, j)) {
      return false;
    }
    j.ended = true;
    bytesHeld -= j.bytes;
    buffers.limit(budget.limit() - bytesHeld);
    removeMeters(j.name);
    ended.get(why).increment();
    // Pulls still waiting on the job's barrier or bound are answered now, not at their deadline.
    j.waiters.end(endedWhileWaiting(j, why));
    log.info("shard {}: job '{}' ended ({}); released {}; {} jobs hold {} now", shardIndex,
        j.name, why == Ended.DELETED ? "deleted"
            : why == Ended.FINISHED ? "every worker finished" : "idle", MemoryBudget.mib(j.bytes),
        byName.size(), MemoryBudget.mib(bytesHeld));
    onEnded.accept(j.name);
    return true;
  }

  /** The refusal of a pull that waited on job {@code j} when it ended. */
  private ShardException endedWhileWaiting(Job j, Ended why) {
    String how = switch (why) {
      case DELETED -> "was deleted";
      case FINISHED -> "ended (every worker finished)";
      case IDLE -> "ended (no call for its idle timeout, --job-idle-timeout "
          + java.time.Duration.ofNanos(idleNanos) + ")";
    };
    return incarnation.stamp(new ShardException(Status.Code.NOT_FOUND, "job '" + j.name + "' "
        + how + " on shard " + shardIndex + " while this pull waited", Refusals.JOB_ENDED))
        .with("job", j.name).with("ended", why.tag());
  }

  /** Removes every meter of job {@code name} on this shard from the registry. */
  private void removeMeters(String name) {
    for (Meter m : new ArrayList<>(registry.getMeters())) {
      if (has(m, "shard", Integer.toString(shardIndex)) && has(m, MetricNames.JOB_TAG, name)) {
        registry.remove(m);
      }
    }
  }

  private static boolean has(Meter m, String key, String value) {
    for (Tag t : m.getId().getTagsAsIterable()) {
      if (t.getKey().equals(key)) {
        return t.getValue().equals(value);
      }
    }
    return false;
  }

  /**
   * Ends the jobs whose workers all finished and that have then been idle for their lease, and
   * the jobs idle for the idle timeout. Returns the names ended.
   */
  List<String> expire() {
    long now = ticker.nanoTime();
    long idle = idleNanos;
    List<String> out = new ArrayList<>();
    for (Job j : byName.values()) {
      long quiet = j.idleNanos(now);
      if (j.members.allLeft() && quiet >= FINISHED_GRACE_NANOS) {
        if (end(j, Ended.FINISHED)) {
          out.add(j.name);
        }
      } else if (idle > 0 && quiet >= idle && end(j, Ended.IDLE)) {
        out.add(j.name);
      }
    }
    return out;
  }

  /** The JOB_UNKNOWN refusal for a name the shard does not hold. */
  ShardException unknown(String name, Incarnation incarnation) {
    String shown = name.length() > 64 ? name.substring(0, 64) + "..." : name;
    String held = byName.isEmpty() ? "no job" : "jobs " + byName.keySet().stream().sorted()
        .toList();
    return incarnation.stamp(new ShardException(Status.Code.FAILED_PRECONDITION,
        "shard " + shardIndex + " holds no job '" + shown + "' (it holds " + held
            + "); call Init", Refusals.JOB_UNKNOWN));
  }
}
