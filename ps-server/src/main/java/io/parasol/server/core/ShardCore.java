package io.parasol.server.core;

import io.grpc.Status;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.parasol.common.JobSpecs;
import io.parasol.common.MetricNames;
import io.parasol.common.Refusals;
import io.parasol.proto.v1.BlockRead;
import io.parasol.proto.v1.HeartbeatRequest;
import io.parasol.proto.v1.HeartbeatResponse;
import io.parasol.proto.v1.InitResponse;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.PullRequest;
import io.parasol.proto.v1.PushHeader;
import io.parasol.proto.v1.PushResponse;
import io.parasol.proto.v1.StatusResponse;
import io.parasol.server.checkpoint.Checkpoints;
import io.parasol.server.checkpoint.Checkpoints.Snapshot;
import io.parasol.server.clock.Ticker;
import io.parasol.server.consistency.ConsistencyRule;
import io.parasol.server.consistency.RuleContext;
import io.parasol.server.metrics.ShardMetrics;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One shard's state and logic without gRPC: a thin front over the job's parts ({@link
 * BlockStore}, {@link Membership}, {@link PullWaiters}, push staging in {@link PushPlan},
 * {@link Dedupe}, {@link StalenessTracker}, the mode's {@link ConsistencyRule}) and the
 * shard's {@link ShardMetrics}.
 *
 * <p>Every method that takes client input validates all of it before changing anything and
 * reports refusals as {@link ShardException}s carrying the gRPC status code.
 *
 * <p>Thread safety: every public method may be called concurrently. {@link #lock} guards only
 * the job reference (set once by Init or a restore); each part guards its own state.
 */
public final class ShardCore {
  private static final Logger log = LoggerFactory.getLogger(ShardCore.class);

  /** Most pushes plus pulls one worker may have in flight on a shard. */
  public static final int MAX_STREAMS_PER_WORKER = Job.MAX_STREAMS_PER_WORKER;

  private final int shardIndex;
  private final int expectedShards;
  private final Ticker ticker;
  private final ShardMetrics metrics;
  private final MeterRegistry registry;
  private final PullWaiters waiters;
  private final Buffers buffers = new Buffers();
  private final Object lock = new Object();
  private final Incarnation incarnation;
  private volatile Job job;
  /** The heap a job's blocks, optimizer state and staging may take; checked before Init. */
  private final MemoryBudget budget = new MemoryBudget();
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
    this.metrics = new ShardMetrics(shardIndex);
    metrics.bindTo(this.registry);
    this.waiters = new PullWaiters(callbacks, metrics, ticker);
  }

  /** The most bytes a job may take on this shard (see {@link MemoryBudget}); 0: the default. */
  public void maxBytes(long bytes) {
    budget.limit(bytes);
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

  /** Declares the job; idempotent for the same spec. */
  public InitResponse init(JobSpec spec, int claimedShard) throws ShardException {
    List<String> problems = JobSpecs.problems(spec);
    if (!problems.isEmpty()) {
      throw ShardException.invalid("invalid job spec: " + String.join("; ", problems));
    }
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
    synchronized (lock) {
      Job j = job;
      if (j != null) {
        if (j.fingerprint.equals(fp)) {
          return InitResponse.newBuilder().setFingerprint(fp).setCreated(false)
              .setIncarnation(incarnation.value()).build();
        }
        throw ShardException.precondition("shard " + shardIndex + " already serves job '"
            + j.spec.getJobName() + "' with other settings: "
            + JobSpecs.differencesLine(j.spec, spec)
            + " (the job's vs this worker's; fingerprint " + j.fingerprint + " vs " + fp
            + "); give every worker of a job the same job flags");
      }
      budget.check(spec, shardIndex);
      j = createJob(spec, fp);
      job = j;
      log.info("shard {} initialised job '{}' mode={} blocks={} floats={} fingerprint={}",
          shardIndex, spec.getJobName(), spec.getMode(), j.blocks.ownedIds.length,
          j.blocks.ownedFloats(), fp);
      return InitResponse.newBuilder().setFingerprint(fp).setCreated(true)
          .setIncarnation(incarnation.value()).build();
    }
  }

  private Job createJob(JobSpec spec, String fp) {
    BlockStore blocks = BlockStore.create(spec, shardIndex);
    Membership members = new Membership(spec.getNumWorkers(), JobSpecs.maxWorkers(spec),
        JobSpecs.leaseMillis(spec) * 1_000_000L, ticker);
    StalenessTracker tracker = new StalenessTracker(blocks, registry,
        Integer.toString(shardIndex), spec.getMode());
    Job j = new Job(spec, fp, blocks, members, tracker);
    buffers.limit(budget.limit() - MemoryBudget.persistent(spec, shardIndex));
    j.rule = ConsistencyRule.create(spec, blocks.byId, new JobContext(j, metrics, waiters, ticker));
    Gauge.builder(MetricNames.SHARD_LIVE_WORKERS, j, jj -> jj.members.liveWorkers().size())
        .description("Workers whose lease is current")
        .tag("shard", Integer.toString(shardIndex))
        .register(registry);
    metrics.jobMeters(blocks.ownedIds, spec.getMode(), j, (jj, id) -> jj.blocks.version(id),
        tracker::updates).bindTo(registry);
    return j;
  }

  /** The job, after checking the caller's fingerprint. */
  private Job job(String fingerprint) throws ShardException {
    Job j = job;
    if (j == null) {
      throw incarnation.stamp(new ShardException(Status.Code.FAILED_PRECONDITION,
          "shard " + shardIndex + " has no job yet; call Init", Refusals.JOB_UNKNOWN));
    }
    if (!j.fingerprint.equals(fingerprint)) {
      String shown = fingerprint.length() > 40 ? fingerprint.substring(0, 40) + "..."
          : fingerprint;
      throw ShardException.precondition("fingerprint '" + shown
          + "' does not match the job on shard " + shardIndex + " (" + j.fingerprint + ")");
    }
    return j;
  }

  // ---------------------------------------------------------------------------------------
  // Pull

  /** Validates a pull request. */
  public PullPlan preparePull(PullRequest req) throws ShardException {
    Job j = job(req.getFingerprint());
    RequestChecks.worker(j, req.getWorker());
    RequestChecks.counter("min_version", req.getMinVersion());
    RequestChecks.counter("clock", req.getClock());
    touch(j, req.getWorker(), false);
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
   * minimum version and the mode lets the worker read (ssp: its clock is within the bound).
   */
  public Cancellable awaitPull(PullPlan plan, Runnable onReady) {
    // A pull at clock c says the worker completed c steps (ssp), even on a shard it does not
    // push to.
    if (plan.job.members.advanceClock(plan.worker, plan.clock)) {
      waiters.signal();
    }
    return waiters.await(plan, onReady);
  }

  /** Why a pull is still waiting, for the status that ends it at its deadline. */
  public String describeWait(PullPlan plan) {
    return plan.describeWait();
  }

  /** Counts block value bytes sent by pulls. */
  public void bytesOut(long n) {
    metrics.bytesOut(n);
  }

  /** Number of pulls waiting (for tests and status). */
  public int waitingPulls() {
    return waiters.size();
  }

  // ---------------------------------------------------------------------------------------
  // Push

  /** Validates a push header; a refusal is counted. */
  public PushPlan preparePush(PushHeader h) throws ShardException {
    try {
      return preparePushUncounted(h);
    } catch (ShardException e) {
      refused(e);
      throw incarnation.stamp(e);
    }
  }

  private PushPlan preparePushUncounted(PushHeader h) throws ShardException {
    Job j = job(h.getFingerprint());
    RequestChecks.worker(j, h.getWorker());
    incarnation.checkPush(h);
    touch(j, h.getWorker(), true);
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
    j.rule.checkHeader(h, blocks);
    j.acquireStream(h.getWorker());
    return new PushPlan(j, h, blocks, metrics, buffers);
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
    try {
      plan.checkComplete();
    } catch (ShardException e) {
      refused(e);
      throw e;
    }
    PushHeader h = plan.header;
    Job j = plan.job;
    Dedupe.Entry prior = j.dedupe.begin(h.getWorker(), h.getSequence());
    if (prior != null) {
      metrics.push(ShardMetrics.Outcome.DUPLICATE);
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
      refused(e);
      throw e;
    } catch (RuntimeException e) {
      // Never leave a retry of this sequence waiting on an attempt that died.
      j.dedupe.fail(h.getWorker(), h.getSequence(), new ShardException(
          Status.Code.INTERNAL, "push failed on shard " + shardIndex));
      throw e;
    }
    j.dedupe.finish(h.getWorker(), h.getSequence(), resp);
    j.members.advanceClock(h.getWorker(), h.getStep() + 1);
    waiters.signal();
    return resp;
  }

  /**
   * Counts a refused push: ABORTED is a late contribution to a round that is over (dropped
   * late), anything else a rejection.
   */
  public void refused(ShardException e) {
    countRefusal(metrics, e);
  }

  static void countRefusal(ShardMetrics metrics, ShardException e) {
    metrics.push(e.code() == Status.Code.ABORTED ? ShardMetrics.Outcome.DROPPED_LATE
        : ShardMetrics.Outcome.REJECTED);
  }

  /** The job's staleness tracker (null before Init). */
  public StalenessTracker tracker() {
    Job j = job;
    return j == null ? null : j.tracker;
  }

  /** Records a checkpoint written. */
  public void checkpointed(long nanos, long bytes) {
    metrics.checkpoint(nanos, bytes);
  }

  /** Block updates applied so far (the checkpoint trigger). */
  public long updatesApplied() {
    return metrics.updatesApplied();
  }

  // ---------------------------------------------------------------------------------------
  // Membership: leases

  /**
   * Renews a worker's lease; a worker that had expired rejoins. A worker that left (finished)
   * rejoins only by pushing or heartbeating ({@code active}), not by reading the model.
   */
  private void touch(Job j, int worker, boolean active) {
    Membership.Change change = j.members.touch(worker, active);
    if (change != Membership.Change.NONE) {
      log.info("shard {}: worker {} {} ({} live)", shardIndex, worker,
          change == Membership.Change.JOINED ? "joined" : "rejoined", j.members.liveWorkers());
      if (change == Membership.Change.JOINED) {
        metrics.joined();
      } else {
        metrics.membership(true);
      }
      j.rule.workerJoined(worker);
      j.rule.membershipChanged();
      waiters.signal();
    }
  }

  /** Answers a heartbeat: renews the lease (and the ssp clock) and lists the live workers. */
  public HeartbeatResponse heartbeat(HeartbeatRequest req) throws ShardException {
    Job j = job(req.getFingerprint());
    RequestChecks.worker(j, req.getWorker());
    RequestChecks.counter("clock", req.getClock());
    if (req.getLeaving()) {
      if (j.members.leave(req.getWorker())) {
        // A worker that finished its steps leaves the live set at once, instead of holding
        // rounds and ssp bounds for a lease and then expiring.
        log.info("shard {}: worker {} finished and left; live workers now {}", shardIndex,
            req.getWorker(), j.members.liveWorkers());
        metrics.left();
        j.rule.membershipChanged();
        waiters.signal();
      }
    } else {
      touch(j, req.getWorker(), true);
    }
    if (j.members.advanceClock(req.getWorker(), req.getClock())) {
      waiters.signal();
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
    Job j = job;
    if (j == null) {
      return List.of();
    }
    List<Integer> expired = j.members.expire();
    dropped(j, expired, "lease expired (silent for more than "
        + j.members.leaseNanos() / 1_000_000 + " ms)");
    return expired;
  }

  /**
   * The worker's last connection to this shard closed (the transport says so at once, where a
   * killed worker's lease would take its full length): it leaves the live set now.
   */
  public void connectionLost(int worker) {
    Job j = job;
    if (j != null && worker >= 0 && worker < j.members.capacity()
        && j.members.suspect(worker)) {
      dropped(j, List.of(worker), "connection closed");
    }
    connectionLostListener.accept(worker);
  }

  /** Called after each {@link #connectionLost} was handled (tests wait on it). */
  public void onConnectionLost(java.util.function.IntConsumer listener) {
    connectionLostListener = listener;
  }

  private void dropped(Job j, List<Integer> workers, String why) {
    if (workers.isEmpty()) {
      return;
    }
    for (int w : workers) {
      log.warn("shard {}: worker {} {}; live workers now {}", shardIndex, w, why,
          j.members.liveWorkers());
      metrics.membership(false);
    }
    j.rule.membershipChanged();
    waiters.signal();
  }

  // ---------------------------------------------------------------------------------------
  // Checkpoints

  /**
   * A consistent copy of every block (values, version and optimizer state under the block's
   * lock) and the worker clocks; null before Init. Open sync/local rounds are not part of it.
   */
  public Snapshot snapshot() {
    Job j = job;
    return j == null ? null : j.rule.exclusive(() -> snapshotOf(j));
  }

  private static Snapshot snapshotOf(Job j) {
    long[] clocks = j.members.clocks();
    List<Checkpoints.BlockState> blocks = new ArrayList<>(j.blocks.ownedIds.length);
    for (int id : j.blocks.ownedIds) {
      Block b = j.blocks.byId[id];
      b.lock.lock();
      try {
        float[][] state = b.optimizer.state();
        float[][] copy = new float[state.length][];
        for (int k = 0; k < state.length; k++) {
          copy[k] = state[k].clone();
        }
        blocks.add(new Checkpoints.BlockState(id, b.version(), b.values.clone(),
            b.optimizer.steps(), copy));
      } finally {
        b.lock.unlock();
      }
    }
    return new Snapshot(j.spec, clocks, blocks);
  }

  /** Restores a checkpoint into a shard that has no job yet. */
  public void restore(Snapshot snap) throws ShardException {
    List<String> problems = JobSpecs.problems(snap.spec());
    if (!problems.isEmpty()) {
      throw ShardException.invalid("checkpoint holds an invalid job spec: "
          + String.join("; ", problems));
    }
    synchronized (lock) {
      if (job != null) {
        throw ShardException.precondition("shard " + shardIndex + " already has a job");
      }
      Job j = createJob(snap.spec(), JobSpecs.fingerprint(snap.spec()));
      if (snap.blocks().size() != j.blocks.ownedIds.length) {
        throw ShardException.invalid("checkpoint holds " + snap.blocks().size()
            + " blocks; shard " + shardIndex + " owns " + j.blocks.ownedIds.length);
      }
      for (Checkpoints.BlockState saved : snap.blocks()) {
        Block b = saved.id() >= 0 && saved.id() < j.blocks.numBlocks()
            ? j.blocks.byId[saved.id()] : null;
        if (b == null || saved.values().length != b.length) {
          throw ShardException.invalid("checkpoint block " + saved.id()
              + " does not match the job's layout on shard " + shardIndex);
        }
        float[][] state = b.optimizer.state();
        if (saved.optimizerState().length != state.length) {
          throw ShardException.invalid("checkpoint block " + saved.id()
              + " has optimizer state of another optimizer");
        }
        b.lock.lock();
        try {
          System.arraycopy(saved.values(), 0, b.values, 0, b.length);
          for (int k = 0; k < state.length; k++) {
            System.arraycopy(saved.optimizerState()[k], 0, state[k], 0, state[k].length);
          }
          b.optimizer.setSteps(saved.optimizerSteps());
          b.restoreVersion(saved.version());
        } finally {
          b.lock.unlock();
        }
      }
      j.members.restoreClocks(snap.clocks());
      job = j;
      log.info("shard {} restored job '{}' from a checkpoint: versions {}", shardIndex,
          snap.spec().getJobName(), j.blocks.versions());
    }
  }

  // ---------------------------------------------------------------------------------------
  // Status and inspection

  public StatusResponse status() {
    return ShardStatus.of(shardIndex, metrics, job).toBuilder()
        .setIncarnation(incarnation.value()).build();
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
    Job j = job;
    if (j == null) {
      throw new IllegalArgumentException("block " + blockId + " is not on shard " + shardIndex);
    }
    return j.blocks.owned(blockId);
  }
}
