package io.parasol.server.core;

import io.grpc.Status;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.parasol.common.JobSpecs;
import io.parasol.proto.v1.BlockRead;
import io.parasol.proto.v1.HeartbeatRequest;
import io.parasol.proto.v1.HeartbeatResponse;
import io.parasol.proto.v1.InitResponse;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.PullRequest;
import io.parasol.proto.v1.PushHeader;
import io.parasol.proto.v1.PushResponse;
import io.parasol.proto.v1.StatusResponse;
import io.parasol.server.checkpoint.Checkpoints.Snapshot;
import io.parasol.server.clock.Ticker;
import io.parasol.server.metrics.ShardMetrics;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One shard's state and logic without gRPC: a thin front over its {@link Jobs} and each job's
 * parts ({@link BlockStore}, {@link Membership}, {@link PullWaiters}, push staging in {@link
 * PushPlan}, {@link Dedupe}, {@link StalenessTracker}, the mode's {@link ConsistencyRule},
 * the job's {@link ShardMetrics}).
 *
 * <p>A shard holds any number of jobs side by side, by name (the spec's job_name; every
 * request names its job, and an empty name means {@value Jobs#DEFAULT}). Every method that
 * takes client input validates all of it before changing anything and reports refusals as
 * {@link ShardException}s carrying the gRPC status code.
 *
 * <p>Thread safety: every public method may be called concurrently. The {@link Jobs} monitor
 * is taken only to create or end a job; a request looks its job up without a lock and then
 * takes only that job's locks, so jobs never wait for each other.
 */
public final class ShardCore {
  private static final Logger log = LoggerFactory.getLogger(ShardCore.class);

  /** Most pushes plus pulls one worker may have in flight on a shard (per job). */
  public static final int MAX_STREAMS_PER_WORKER = Job.MAX_STREAMS_PER_WORKER;

  private final int shardIndex;
  private final int expectedShards;
  private final Ticker ticker;
  /** Counts what no job can be named for (a push stream without a readable header). */
  private final ShardMetrics unattributed;
  private final MeterRegistry registry;
  private final Executor callbacks;
  private final Buffers buffers = new Buffers();
  private final Incarnation incarnation;
  /** The heap the jobs' blocks, optimizer state and staging may take; checked before Init. */
  private final MemoryBudget budget = new MemoryBudget();
  private final Jobs jobs;
  private volatile java.util.function.IntConsumer connectionLostListener = w -> { };

  /**
   * @param shardIndex this shard's index in the job
   * @param registry where the shard's meters go (null: a private registry)
   * @param callbacks runs the continuations of pulls that waited (sending their blocks)
   */
  public ShardCore(int shardIndex, MeterRegistry registry, Executor callbacks) {
    this(shardIndex, 0, registry, callbacks);
  }

  /**
   * @param expectedShards the number of shards this process was started for; a job with another
   *     number is refused (0: accept any)
   */
  public ShardCore(int shardIndex, int expectedShards, MeterRegistry registry,
      Executor callbacks) {
    this(shardIndex, expectedShards, registry, callbacks, Ticker.system());
  }

  /** As above, with the clock leases and waits are measured on (tests inject a fake one). */
  public ShardCore(int shardIndex, int expectedShards, MeterRegistry registry,
      Executor callbacks, Ticker ticker) {
    this.shardIndex = shardIndex;
    this.incarnation = new Incarnation(shardIndex);
    this.expectedShards = expectedShards;
    this.ticker = ticker;
    this.registry = registry == null ? new SimpleMeterRegistry() : registry;
    this.callbacks = callbacks;
    // Not bound to the registry: its counts only feed the Status of a shard without a job
    // (refused calls are exported by parasol_shard_refused_total either way).
    this.unattributed = new ShardMetrics(shardIndex, "");
    this.jobs = new Jobs(shardIndex, this.registry, ticker, buffers, budget, incarnation);
  }

  /**
   * The most bytes the shard's jobs may take together (see {@link MemoryBudget}); 0: the
   * default.
   */
  public void maxBytes(long bytes) {
    budget.limit(bytes);
  }

  /** The most jobs the shard holds at once (default {@value Jobs#DEFAULT_MAX_JOBS}). */
  public void maxJobs(int n) {
    jobs.maxJobs(n);
  }

  /** A job that sees no call for this long ends (0: never; default 30 minutes). */
  public void jobIdleTimeout(java.time.Duration d) {
    jobs.idleTimeout(d);
  }

  /** Called with a job's name when it ended (deleted, finished or idle). */
  public void onJobEnded(java.util.function.Consumer<String> listener) {
    jobs.onEnded(listener);
  }

  /** The names of the jobs the shard holds, sorted. */
  public List<String> jobNames() {
    return jobs.all().stream().map(j -> j.name).toList();
  }

  /** Heap the shard's jobs hold (blocks, optimizer state, round sums), over all jobs. */
  public long bytesHeld() {
    return jobs.bytesHeld();
  }

  public int shardIndex() {
    return shardIndex;
  }

  /** This shard's incarnation: random, non-zero, new at every start (see Incarnation). */
  public long incarnation() {
    return incarnation.value();
  }

  /** The shard's clock. */
  public Ticker ticker() {
    return ticker;
  }

  // ---------------------------------------------------------------------------------------
  // Job set-up

  /**
   * Declares the job named by the spec; idempotent for the same spec. Another spec under a
   * name the shard holds is FAILED_PRECONDITION; a new name past the shard's limits
   * RESOURCE_EXHAUSTED.
   */
  public InitResponse init(JobSpec spec, int claimedShard) throws ShardException {
    List<String> problems = JobSpecs.problems(spec);
    if (!problems.isEmpty()) {
      throw ShardException.invalid("invalid job spec: " + String.join("; ", problems));
    }
    Jobs.checkName(spec.getJobName());
    if (claimedShard != shardIndex) {
      throw ShardException.precondition(
          "this is shard " + shardIndex + ", the caller addressed shard " + claimedShard);
    }
    if (expectedShards > 0 && spec.getNumShards() != expectedShards) {
      throw ShardException.precondition("shard " + shardIndex + " was started for "
          + expectedShards + " shards; the job declares " + spec.getNumShards());
    }
    if (shardIndex >= spec.getNumShards()) {
      throw ShardException.precondition("this is shard " + shardIndex + " but the job has "
          + spec.getNumShards() + " shards");
    }
    String fp = JobSpecs.fingerprint(spec);
    String name = Jobs.name(spec.getJobName());
    synchronized (jobs) {
      Job j = jobs.get(name);
      if (j != null) {
        if (j.fingerprint.equals(fp)) {
          j.called(ticker.nanoTime());
          return InitResponse.newBuilder().setFingerprint(fp).setCreated(false)
              .setIncarnation(incarnation.value()).build();
        }
        throw ShardException.precondition("shard " + shardIndex + " already serves job '"
            + name + "' with other settings: "
            + JobSpecs.differencesLine(j.spec, spec)
            + " (the job's vs this worker's; fingerprint " + j.fingerprint + " vs " + fp
            + "); give every worker of a job the same job flags, or another job another"
            + " --job name");
      }
      j = jobs.create(name, spec, fp, this::waitersFor);
      log.info("shard {} initialised job '{}' mode={} blocks={} floats={} fingerprint={}"
          + " ({} jobs, {} held)", shardIndex, name, spec.getMode(), j.blocks.ownedIds.length,
          j.blocks.ownedFloats(), fp, jobs.all().size(), MemoryBudget.mib(jobs.bytesHeld()));
      return InitResponse.newBuilder().setFingerprint(fp).setCreated(true)
          .setIncarnation(incarnation.value()).build();
    }
  }

  private PullWaiters waitersFor(ShardMetrics m) {
    return new PullWaiters(callbacks, m, ticker);
  }

  /** The job a request names, after checking the caller's fingerprint; notes the call. */
  private Job job(String jobName, String fingerprint) throws ShardException {
    String name = Jobs.name(jobName);
    Job j = named(jobName);
    if (j == null) {
      throw jobs.unknown(name, incarnation);
    }
    if (!j.fingerprint.equals(fingerprint)) {
      String shown = fingerprint.length() > 40 ? fingerprint.substring(0, 40) + "..."
          : fingerprint;
      throw ShardException.precondition("fingerprint '" + shown
          + "' does not match job '" + name + "' on shard " + shardIndex + " ("
          + j.fingerprint + ")");
    }
    j.called(ticker.nanoTime());
    return j;
  }

  /**
   * The job a request without a name means: {@value Jobs#DEFAULT} if the shard holds it, else
   * the shard's only job (a client that predates job names talks to a shard holding one job,
   * whatever its name); null when neither.
   */
  private Job soleJob() {
    Job d = jobs.get(Jobs.DEFAULT);
    if (d != null) {
      return d;
    }
    List<Job> all = jobs.all();
    return all.size() == 1 ? all.get(0) : null;
  }

  /** The held job a request naming {@code jobName} means (empty: default or only); else null. */
  public String heldJob(String jobName) {
    Job j = named(jobName);
    return j == null ? null : j.name;
  }

  /** The job named {@code jobName}, or with an empty name the {@link #soleJob}. */
  private Job named(String jobName) {
    return jobName.isEmpty() ? soleJob() : jobs.get(jobName);
  }

  /**
   * Ends a job (the Delete call): releases its blocks, optimizer state, budget and meters.
   * Idempotent: a name the shard does not hold answers {@code deleted = false}; a fingerprint
   * that does not match the job is FAILED_PRECONDITION.
   */
  public io.parasol.proto.v1.DeleteResponse delete(io.parasol.proto.v1.DeleteRequest req)
      throws ShardException {
    return jobs.delete(req).toBuilder().setIncarnation(incarnation.value()).build();
  }

  /**
   * Ends the jobs that finished (every worker left, then idle for a lease) or were idle for
   * the idle timeout; called periodically by the server, directly by tests. Returns their
   * names.
   */
  public List<String> expireJobs() {
    return jobs.expire();
  }

  // ---------------------------------------------------------------------------------------
  // Pull

  /** Validates a pull request. */
  public PullPlan preparePull(PullRequest req) throws ShardException {
    Job j = job(req.getJobName(), req.getFingerprint());
    RequestChecks.worker(j, req.getWorker());
    RequestChecks.counter("min_version", req.getMinVersion());
    RequestChecks.counter("clock", req.getClock());
    Leases.touch(shardIndex, j, req.getWorker(), false);
    Block[] blocks = j.blocks.resolve(req.getBlockIdsList());
    j.acquireStream(req.getWorker());
    // A worker whose min_version refers to another incarnation must not wait for a version
    // this shard (restored from an older checkpoint) may never reach on its own.
    long minVersion = req.getIncarnation() != 0 && req.getIncarnation() != incarnation.value()
        ? 0 : req.getMinVersion();
    return new PullPlan(j, blocks, minVersion, req.getAfterPush(), req.getWorker(),
        req.getClock(), ticker.nanoTime(), buffers);
  }

  /**
   * Runs {@code onReady} (on the callback executor) once every block of the plan is at its
   * minimum version and the mode lets the worker read (ssp: its clock is within the bound);
   * or {@code onEnded} with NOT_FOUND ({@code JOB_ENDED}) at once if the job ends first.
   */
  public Cancellable awaitPull(PullPlan plan, Runnable onReady,
      java.util.function.Consumer<ShardException> onEnded) {
    // A pull at clock c says the worker completed c steps (ssp), even on a shard it does not
    // push to.
    if (plan.job.members.advanceClock(plan.worker, plan.clock)) {
      plan.job.waiters.signal();
    }
    return plan.job.waiters.await(plan, onReady, onEnded);
  }

  /** Why a pull is still waiting, for the status that ends it at its deadline. */
  public String describeWait(PullPlan plan) {
    return plan.describeWait();
  }

  /** Counts block value bytes a pull sent. */
  public void bytesOut(PullPlan plan, long n) {
    plan.job.metrics.bytesOut(n);
  }

  /** Number of pulls waiting, over every job (for tests and status). */
  public int waitingPulls() {
    return jobs.all().stream().mapToInt(j -> j.waiters.size()).sum();
  }

  // ---------------------------------------------------------------------------------------
  // Push

  /** Validates a push header; a refusal is counted (for the job it names, if any). */
  public PushPlan preparePush(PushHeader h) throws ShardException {
    try {
      return preparePushUncounted(h);
    } catch (ShardException e) {
      Job named = named(h.getJobName());
      countRefusal(named == null ? unattributed : named.metrics, e);
      throw incarnation.stamp(e);
    }
  }

  private PushPlan preparePushUncounted(PushHeader h) throws ShardException {
    Job j = job(h.getJobName(), h.getFingerprint());
    RequestChecks.worker(j, h.getWorker());
    incarnation.checkPush(h);
    Leases.touch(shardIndex, j, h.getWorker(), true);
    if (h.getBlocksCount() == 0) {
      throw ShardException.invalid("push names no blocks");
    }
    List<Integer> ids = h.getBlocksList().stream().map(BlockRead::getBlockId)
        .collect(Collectors.toList());
    Block[] blocks = j.blocks.resolve(ids);
    RequestChecks.counter("step", h.getStep());
    for (BlockRead r : h.getBlocksList()) {
      RequestChecks.counter("version read of block " + r.getBlockId(), r.getVersion());
    }
    if (h.getSeenCount() > j.blocks.numBlocks()) {
      throw ShardException.invalid("push reports " + h.getSeenCount() + " seen blocks; the job"
          + " has " + j.blocks.numBlocks());
    }
    for (BlockRead r : h.getSeenList()) {
      if (r.getBlockId() < 0 || r.getBlockId() >= j.blocks.numBlocks()) {
        throw ShardException.invalid("push reports a version of unknown block "
            + Integer.toUnsignedString(r.getBlockId()));
      }
      RequestChecks.counter("version seen of block " + r.getBlockId(), r.getVersion());
    }
    // A retry of a push the shard already took is answered with that push's outcome
    // (pushHeld), even where the round it went into has closed since: checking it as a new
    // contribution would call it late (ABORTED) or a repeat (ALREADY_EXISTS).
    if (!j.dedupe.seen(h.getWorker(), h.getSequence())) {
      j.rule.checkHeader(h, blocks);
    }
    j.acquireStream(h.getWorker());
    return new PushPlan(j, h, blocks, j.metrics, buffers);
  }

  /** Applies a complete push under the job's rule; retried sequences are answered once. */
  public PushResponse push(PushPlan plan) throws ShardException {
    try {
      return pushHeld(plan);
    } finally {
      plan.release();
    }
  }

  private PushResponse pushHeld(PushPlan plan) throws ShardException {
    Job j = plan.job;
    try {
      plan.checkComplete();
    } catch (ShardException e) {
      countRefusal(j.metrics, e);
      throw e;
    }
    PushHeader h = plan.header;
    Dedupe.Entry prior = j.dedupe.begin(h.getWorker(), h.getSequence());
    if (prior != null) {
      j.metrics.push(ShardMetrics.Outcome.DUPLICATE);
      return prior.await();
    }
    long[] read = j.readVersions(h);
    j.tracker.observe(read);
    PushResponse resp;
    try {
      resp = j.rule.apply(h, plan.blocks, plan.values, read).toBuilder()
          .setIncarnation(incarnation.value()).build();
    } catch (ShardException e) {
      incarnation.stamp(e);
      j.dedupe.fail(h.getWorker(), h.getSequence(), e);
      countRefusal(j.metrics, e);
      throw e;
    } catch (RuntimeException e) {
      // Never leave a retry of this sequence waiting on an attempt that died.
      j.dedupe.fail(h.getWorker(), h.getSequence(), new ShardException(
          Status.Code.INTERNAL, "push failed on shard " + shardIndex));
      throw e;
    }
    j.dedupe.finish(h.getWorker(), h.getSequence(), resp);
    j.members.advanceClock(h.getWorker(), h.getStep() + 1);
    j.waiters.signal();
    return resp;
  }

  /**
   * Counts a refused push that names no job (its stream had no readable header) for the job a
   * request without a name means, if any: ABORTED is a late contribution to a round that is
   * over (dropped late), anything else a rejection.
   */
  public void refused(ShardException e) {
    Job j = soleJob();
    countRefusal(j == null ? unattributed : j.metrics, e);
  }

  /** Counts a refused push of the plan's job. */
  public void refused(PushPlan plan, ShardException e) {
    countRefusal(plan.job.metrics, e);
  }

  static void countRefusal(ShardMetrics metrics, ShardException e) {
    metrics.push(e.code() == Status.Code.ABORTED ? ShardMetrics.Outcome.DROPPED_LATE
        : ShardMetrics.Outcome.REJECTED);
  }

  /** The default (or only) job's staleness tracker (null when there is none). */
  public StalenessTracker tracker() {
    Job j = soleJob();
    return j == null ? null : j.tracker;
  }

  /** Job {@code jobName}'s staleness tracker (empty name: as {@link #tracker()}); null if none. */
  public StalenessTracker tracker(String jobName) {
    Job j = named(jobName);
    return j == null ? null : j.tracker;
  }

  /** Records a checkpoint of job {@code jobName} written. */
  public void checkpointed(String jobName, long nanos, long bytes) {
    Job j = jobs.get(jobName);
    if (j != null) {
      j.metrics.checkpoint(nanos, bytes);
    }
  }

  /** Block updates applied so far over every job (the checkpoint trigger). */
  public long updatesApplied() {
    return jobs.all().stream().mapToLong(j -> j.metrics.updatesApplied()).sum();
  }

  /** Block updates job {@code jobName} applied so far; -1 when the shard does not hold it. */
  public long updatesApplied(String jobName) {
    Job j = jobs.get(jobName);
    return j == null ? -1 : j.metrics.updatesApplied();
  }

  // ---------------------------------------------------------------------------------------
  // Membership: leases

  /** Answers a heartbeat: renews the lease (and the ssp clock) and lists the live workers. */
  public HeartbeatResponse heartbeat(HeartbeatRequest req) throws ShardException {
    Job j = job(req.getJobName(), req.getFingerprint());
    RequestChecks.worker(j, req.getWorker());
    RequestChecks.counter("clock", req.getClock());
    if (req.getLeaving()) {
      Leases.leave(shardIndex, j, req.getWorker());
    } else {
      Leases.touch(shardIndex, j, req.getWorker(), true);
    }
    if (j.members.advanceClock(req.getWorker(), req.getClock())) {
      j.waiters.signal();
    }
    return HeartbeatResponse.newBuilder()
        .setIncarnation(incarnation.value())
        .setLeaseMillis((int) JobSpecs.leaseMillis(j.spec))
        .addAllLiveWorkers(j.members.liveWorkers()).build();
  }

  /**
   * Expires the leases of workers not heard from for longer than the job's lease; rounds and
   * ssp bounds then go on without them. Called periodically by the server, directly by tests.
   * Returns the workers that expired.
   */
  public List<Integer> expireLeases() {
    List<Integer> all = new ArrayList<>();
    for (Job j : jobs.all()) {
      List<Integer> expired = j.members.expire();
      Leases.dropped(shardIndex, j, expired, "lease expired (silent for more than "
          + j.members.leaseNanos() / 1_000_000 + " ms)");
      all.addAll(expired);
    }
    return all;
  }

  /** {@link #connectionLost(String, int)} for the job a request without a name means. */
  public void connectionLost(int worker) {
    connectionLost("", worker);
  }

  /**
   * The last connection of worker {@code worker} of job {@code jobName} to this shard closed
   * (the transport says so at once, where a killed worker's lease would take its full length):
   * it leaves the live set now.
   */
  public void connectionLost(String jobName, int worker) {
    Job j = named(jobName);
    if (j != null && worker >= 0 && worker < j.members.capacity()
        && j.members.suspect(worker)) {
      Leases.dropped(shardIndex, j, List.of(worker), "connection closed");
    }
    connectionLostListener.accept(worker);
  }

  /** Called after each {@link #connectionLost} was handled (tests wait on it). */
  public void onConnectionLost(java.util.function.IntConsumer listener) {
    connectionLostListener = listener;
  }

  // ---------------------------------------------------------------------------------------
  // Checkpoints

  /**
   * A consistent copy of the default (or only) job's blocks (values, version and optimizer
   * state under the block's lock) and worker clocks; null when there is no such job. Open
   * sync/local rounds are not part of it.
   */
  public Snapshot snapshot() {
    Job j = soleJob();
    return j == null ? null : j.rule.exclusive(() -> JobSnapshots.of(j));
  }

  /** {@link #snapshot()} of job {@code jobName}; null when the shard does not hold it. */
  public Snapshot snapshot(String jobName) {
    Job j = jobs.get(jobName);
    return j == null ? null : j.rule.exclusive(() -> JobSnapshots.of(j));
  }

  /** Restores a checkpoint (read from {@code from}) of a job the shard does not hold yet. */
  public void restore(Snapshot snap, String from) throws ShardException {
    List<String> problems = JobSpecs.problems(snap.spec());
    if (!problems.isEmpty()) {
      throw ShardException.invalid("checkpoint holds an invalid job spec: "
          + String.join("; ", problems));
    }
    String name = Jobs.name(snap.spec().getJobName());
    synchronized (jobs) {
      if (jobs.get(name) != null) {
        throw ShardException.precondition("shard " + shardIndex + " already has job '" + name
            + "'");
      }
      Job j = jobs.create(name, snap.spec(), JobSpecs.fingerprint(snap.spec()),
          this::waitersFor);
      try {
        JobSnapshots.restoreInto(shardIndex, j, snap);
      } catch (ShardException | RuntimeException e) {
        jobs.end(j, Jobs.Ended.DELETED);
        throw e;
      }
      JobSnapshots.restored(shardIndex, j, from, System.currentTimeMillis());
    }
  }

  // ---------------------------------------------------------------------------------------
  // Status and inspection

  /** The status of the default (or only) job, and the list of every job. */
  public StatusResponse status() {
    return status("");
  }

  /**
   * The status of job {@code jobName} (empty: the default or only job), and the list of every
   * job; a job the shard does not hold reads as not initialised.
   */
  public StatusResponse status(String jobName) {
    Job j = named(jobName);
    return ShardStatus.of(shardIndex, j == null ? unattributed : j.metrics, j, jobs.all())
        .toBuilder().setIncarnation(incarnation.value())
        .setBytesHeld(jobs.bytesHeld()).setMaxBytes(budget.limit()).build();
  }

  /** A copy of a block's values (tests, checkpoints). */
  public float[] blockValues(int blockId) {
    Block b = owned(blockId);
    b.lock.lock();
    try {
      return b.values.clone();
    } finally {
      b.lock.unlock();
    }
  }

  /** A block's version (tests). */
  public long blockVersion(int blockId) {
    return owned(blockId).version();
  }

  private Block owned(int blockId) {
    Job j = soleJob();
    if (j == null) {
      throw new IllegalArgumentException("block " + blockId + " is not on shard " + shardIndex);
    }
    return j.blocks.owned(blockId);
  }
}
