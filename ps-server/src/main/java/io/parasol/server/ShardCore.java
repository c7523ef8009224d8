package io.parasol.server;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Status;
import io.micrometer.core.instrument.MeterRegistry;
import io.parasol.common.ArrayPool;
import io.parasol.common.ChunkValues;
import io.parasol.common.FloatCodec;
import io.parasol.common.Initializer;
import io.parasol.common.JobSpecs;
import io.parasol.proto.v1.BlockRead;
import io.parasol.proto.v1.BlockSpec;
import io.parasol.proto.v1.BlockStatus;
import io.parasol.proto.v1.InitResponse;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.PullRequest;
import io.parasol.proto.v1.PushHeader;
import io.parasol.proto.v1.PushResponse;
import io.parasol.proto.v1.StatusResponse;
import io.parasol.proto.v1.ValueEncoding;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One shard's state and logic, without gRPC: the job, the blocks it owns, the update rule of the
 * job's mode, waiting pulls and per-worker bookkeeping.
 *
 * <p>Every method that takes client input validates all of it before changing anything and
 * reports refusals as {@link ShardException}s carrying the gRPC status code.
 *
 * <p>Locking: {@link #lock} guards the job reference, waiting pulls, worker clocks and the
 * dedupe table; each block's own lock guards its values, version and optimizer state. A thread
 * holding a block lock never takes {@link #lock}.
 */
public final class ShardCore {
  private static final Logger log = LoggerFactory.getLogger(ShardCore.class);

  private final int shardIndex;
  private final int expectedShards;
  private final LongSupplier nanoClock;
  private final ShardMetrics metrics;
  private final Executor callbacks;
  private final Object lock = new Object();

  @GuardedBy("lock")
  private Job job;

  @GuardedBy("lock")
  private final List<Waiter> waiters = new ArrayList<>();

  final AtomicLong pushesApplied = new AtomicLong();
  final AtomicLong pushesDroppedStale = new AtomicLong();
  final AtomicLong pushesDroppedLate = new AtomicLong();
  final AtomicLong pushesRejected = new AtomicLong();
  final AtomicLong pulls = new AtomicLong();
  final AtomicLong pushesDuplicate = new AtomicLong();
  final AtomicLong updatesApplied = new AtomicLong();
  private final AtomicLong stalenessSum = new AtomicLong();
  private final AtomicLong stalenessCount = new AtomicLong();
  private final AtomicLong stalenessMax = new AtomicLong();

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
    this(shardIndex, expectedShards, registry, callbacks, System::nanoTime);
  }

  /** As above, with the clock that leases are measured on (tests inject a fake one). */
  public ShardCore(int shardIndex, int expectedShards, MeterRegistry registry,
      Executor callbacks, LongSupplier nanoClock) {
    this.nanoClock = nanoClock;
    this.shardIndex = shardIndex;
    this.expectedShards = expectedShards;
    this.metrics = new ShardMetrics(registry, shardIndex);
    this.callbacks = callbacks;
  }

  public int shardIndex() {
    return shardIndex;
  }

  /** A block this shard owns. */
  static final class BlockState {
    final int id;
    final int length;
    /** η_i: the block's step size. */
    final float lr;
    final ReentrantLock lock = new ReentrantLock();

    @GuardedBy("lock")
    final float[] values;

    /** Written under {@link #lock}; read without it for waiting predicates. */
    volatile long version;

    @GuardedBy("lock")
    final BlockOptimizer optimizer;

    BlockState(int id, float[] values, float lr, BlockOptimizer optimizer) {
      this.id = id;
      this.length = values.length;
      this.values = values;
      this.lr = lr;
      this.optimizer = optimizer;
    }
  }

  /** An initialised job as this shard sees it. */
  static final class Job {
    final JobSpec spec;
    final String fingerprint;
    /** Indexed by global block id; null where another shard owns the block. */
    final BlockState[] blocks;
    final int[] ownedIds;
    final UpdateRule rule;
    /** ssp: steps each worker has completed (pushed). */
    final long[] clocks;
    final Dedupe dedupe;
    /** Set once, right after construction, before the job is published. */
    StalenessTracker tracker;
    /** Membership, guarded by the shard's lock: when each worker was last heard from. */
    final long[] lastSeen;
    final boolean[] live;
    /** Workers that said they finished: out of the live set until they push or heartbeat. */
    @GuardedBy("lock")
    final boolean[] left;
    /** A lock-free copy of {@link #live}, written under the shard's lock. */
    final java.util.concurrent.atomic.AtomicIntegerArray liveView;
    /** Pushes and pulls in flight per worker. */
    final java.util.concurrent.atomic.AtomicIntegerArray streams;
    final long leaseNanos;

    Job(JobSpec spec, String fingerprint, BlockState[] blocks, int[] ownedIds, UpdateRule rule) {
      this.spec = spec;
      this.fingerprint = fingerprint;
      this.blocks = blocks;
      this.ownedIds = ownedIds;
      this.rule = rule;
      this.clocks = new long[spec.getNumWorkers()];
      this.dedupe = new Dedupe(spec.getNumWorkers());
      this.lastSeen = new long[spec.getNumWorkers()];
      this.live = new boolean[spec.getNumWorkers()];
      this.left = new boolean[spec.getNumWorkers()];
      this.liveView = new java.util.concurrent.atomic.AtomicIntegerArray(spec.getNumWorkers());
      this.streams = new java.util.concurrent.atomic.AtomicIntegerArray(spec.getNumWorkers());
      this.leaseNanos = JobSpecs.leaseMillis(spec) * 1_000_000L;
    }

    /** Number of live workers; call under the shard's lock. */
    int liveCount() {
      int n = 0;
      for (boolean b : live) {
        if (b) {
          n++;
        }
      }
      return n;
    }
  }

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
      if (job != null) {
        if (job.fingerprint.equals(fp)) {
          return InitResponse.newBuilder().setFingerprint(fp).setCreated(false).build();
        }
        throw ShardException.precondition("shard " + shardIndex + " already serves job '"
            + job.spec.getJobName() + "' (fingerprint " + job.fingerprint
            + "); refusing a different spec with fingerprint " + fp);
      }
      job = createJob(spec, fp);
      log.info("shard {} initialised job '{}' mode={} blocks={} floats={} fingerprint={}",
          shardIndex, spec.getJobName(), spec.getMode(), job.ownedIds.length,
          ownedFloats(job), fp);
      return InitResponse.newBuilder().setFingerprint(fp).setCreated(true).build();
    }
  }

  private Job createJob(JobSpec spec, String fp) {
    BlockState[] blocks = new BlockState[spec.getBlocksCount()];
    List<Integer> owned = new ArrayList<>();
    for (BlockSpec b : spec.getBlocksList()) {
      if (b.getShard() != shardIndex) {
        continue;
      }
      float[] values = new float[b.getLength()];
      Initializer.fill(spec.getSeed(), b.getId(), b.getInit(), b.getInitScale(), values, 0,
          values.length);
      float lr = b.getLearningRate() > 0 ? b.getLearningRate() : spec.getLearningRate();
      blocks[b.getId()] = new BlockState(b.getId(), values, lr,
          BlockOptimizer.create(spec.getOptimizer(), b.getLength()));
      owned.add(b.getId());
    }
    int[] ownedIds = owned.stream().mapToInt(Integer::intValue).toArray();
    UpdateRule rule = switch (spec.getMode()) {
      case MODE_ASYNC, MODE_SSP -> new AsyncRule(spec, this);
      case MODE_SYNC, MODE_LOCAL -> new RoundRule(spec, blocks, metrics, this);
      default -> throw new IllegalStateException("validated mode " + spec.getMode());
    };
    Job j = new Job(spec, fp, blocks, ownedIds, rule);
    // Every worker starts live, with a full lease to show up in.
    java.util.Arrays.fill(j.live, true);
    for (int w = 0; w < j.live.length; w++) {
      j.liveView.set(w, 1);
    }
    java.util.Arrays.fill(j.lastSeen, nanoClock.getAsLong());
    io.micrometer.core.instrument.Gauge.builder(
            io.parasol.common.MetricNames.SHARD_LIVE_WORKERS, j, jj -> liveWorkers(jj).size())
        .description("Workers whose lease is current")
        .tag("shard", Integer.toString(shardIndex))
        .register(metrics.registry());
    j.tracker = metrics.bindBlocks(spec.getBlocksCount(), ownedIds, modeTag(spec.getMode()), j,
        (jj, id) -> jj.blocks[id].version);
    rule.bind(j);
    return j;
  }

  static String modeTag(Mode mode) {
    return mode.name().substring("MODE_".length()).toLowerCase(java.util.Locale.ROOT);
  }

  private static long ownedFloats(Job j) {
    long n = 0;
    for (int id : j.ownedIds) {
      n += j.blocks[id].length;
    }
    return n;
  }

  /** The job, after checking the caller's fingerprint. */
  Job job(String fingerprint) throws ShardException {
    Job j;
    synchronized (lock) {
      j = job;
    }
    if (j == null) {
      throw ShardException.precondition("shard " + shardIndex + " has no job yet; call Init");
    }
    if (!j.fingerprint.equals(fingerprint)) {
      String shown = fingerprint.length() > 40 ? fingerprint.substring(0, 40) + "..."
          : fingerprint;
      throw ShardException.precondition("fingerprint '" + shown
          + "' does not match the job on shard " + shardIndex + " (" + j.fingerprint + ")");
    }
    return j;
  }

  /** Most pushes plus pulls one worker may have in flight on a shard. */
  public static final int MAX_STREAMS_PER_WORKER = 16;

  /** Takes one of the worker's stream slots; RESOURCE_EXHAUSTED when it has none left. */
  static void acquireStream(Job j, int worker) throws ShardException {
    if (j.streams.incrementAndGet(worker) > MAX_STREAMS_PER_WORKER) {
      j.streams.decrementAndGet(worker);
      throw new ShardException(Status.Code.RESOURCE_EXHAUSTED, "worker " + worker + " already"
          + " has " + MAX_STREAMS_PER_WORKER + " pushes and pulls in flight on this shard");
    }
  }

  static void releaseStream(Job j, int worker) {
    j.streams.decrementAndGet(worker);
  }

  private static void checkWorker(Job j, int worker) throws ShardException {
    // uint32 on the wire: ids of 2^31 and more arrive negative.
    if (worker < 0 || worker >= j.spec.getNumWorkers()) {
      throw ShardException.invalid("worker " + Integer.toUnsignedString(worker)
          + " is out of range: the job has " + j.spec.getNumWorkers() + " workers");
    }
  }

  /** A uint64 version, step or clock from the wire; 2^63 and more are refused. */
  private static void checkCounter(String what, long v) throws ShardException {
    if (v < 0) {
      throw ShardException.invalid(what + " " + Long.toUnsignedString(v)
          + " is out of range (at most 2^63 - 1)");
    }
  }

  /** The blocks a pull or push names, validated: owned here, no duplicates. */
  static BlockState[] resolve(Job j, List<Integer> ids, int shardIndex) throws ShardException {
    if (ids.isEmpty()) {
      BlockState[] all = new BlockState[j.ownedIds.length];
      for (int i = 0; i < all.length; i++) {
        all[i] = j.blocks[j.ownedIds[i]];
      }
      return all;
    }
    if (ids.size() > j.ownedIds.length) {
      throw ShardException.invalid("request names " + ids.size() + " blocks; shard " + shardIndex
          + " owns " + j.ownedIds.length);
    }
    BlockState[] out = new BlockState[ids.size()];
    boolean[] seen = new boolean[j.blocks.length];
    for (int i = 0; i < out.length; i++) {
      int id = ids.get(i);
      if (id < 0 || id >= j.blocks.length) {
        throw new ShardException(Status.Code.NOT_FOUND,
            "unknown block " + Integer.toUnsignedString(id) + ": the job has " + j.blocks.length
                + " blocks");
      }
      if (j.blocks[id] == null) {
        throw new ShardException(Status.Code.NOT_FOUND,
            "block " + id + " is not on shard " + shardIndex);
      }
      if (seen[id]) {
        throw ShardException.invalid("block " + id + " is named twice");
      }
      seen[id] = true;
      out[i] = j.blocks[id];
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------
  // Pull

  /** A validated pull, ready to wait and then send. */
  public final class PullPlan {
    final Job job;
    final BlockState[] blocks;
    final long minVersion;
    final int worker;
    final long clock;
    final long created = System.nanoTime();
    /** How long the pull waited before it was released; set before its continuation runs. */
    volatile long waitedNanos;

    PullPlan(Job job, BlockState[] blocks, long minVersion, int worker, long clock) {
      this.job = job;
      this.blocks = blocks;
      this.minVersion = minVersion;
      this.worker = worker;
      this.clock = clock;
    }

    boolean ready() {
      for (BlockState b : blocks) {
        // In sync/local rounds, a worker waiting for a version its own contribution has not
        // gone into (it joined late, or this shard restarted from a checkpoint without it)
        // reads the current version and contributes to the open round instead of waiting.
        if (b.version < minVersion && job.rule.awaits(b, worker)) {
          return false;
        }
      }
      if (job.spec.getMode() == Mode.MODE_SSP) {
        synchronized (lock) {
          return clock <= slowestLiveClock(job) + job.spec.getStalenessBound();
        }
      }
      return true;
    }

    /** Number of blocks in the pull. */
    public int size() {
      return blocks.length;
    }

    private final java.util.concurrent.atomic.AtomicBoolean released =
        new java.util.concurrent.atomic.AtomicBoolean();

    /** Gives the worker's stream slot back; idempotent. */
    public void release() {
      if (released.compareAndSet(false, true)) {
        releaseStream(job, worker);
      }
    }

    /** Microseconds the pull waited at the shard. */
    public long waitedMicros() {
      return waitedNanos / 1000;
    }

    /**
     * Copies block {@code i} and its version under the block's lock and encodes it in float32
     * chunks of at most {@code chunkFloats} floats.
     */
    public EncodedBlock encode(int i, int chunkFloats) {
      return encode(i, chunkFloats, ValueEncoding.VALUE_ENCODING_FP32);
    }

    /**
     * Encodes block {@code i} at one version in {@code encoding}, in chunks of at most
     * {@code chunkFloats} values. The values are read under the block's lock into one pooled
     * buffer (float32: encoded straight into it; 16-bit: copied, then encoded outside the lock),
     * which the chunks wrap without copying; {@link EncodedBlock#release()} gives it back once
     * the chunks are sent.
     */
    public EncodedBlock encode(int i, int chunkFloats, ValueEncoding encoding) {
      BlockState b = blocks[i];
      int w = FloatCodec.bytesPerValue(encoding);
      byte[] buf = snapshotBytes.take(b.length * w);
      long version;
      if (encoding == ValueEncoding.VALUE_ENCODING_FP32) {
        b.lock.lock();
        try {
          version = b.version;
          FloatCodec.encodeInto(b.values, 0, b.length, encoding, buf, 0);
        } finally {
          b.lock.unlock();
        }
      } else {
        float[] copy = stagingFloats.take(b.length);
        b.lock.lock();
        try {
          version = b.version;
          System.arraycopy(b.values, 0, copy, 0, b.length);
        } finally {
          b.lock.unlock();
        }
        FloatCodec.encodeInto(copy, 0, b.length, encoding, buf, 0);
        stagingFloats.give(copy);
      }
      List<ByteString> chunks = new ArrayList<>((b.length + chunkFloats - 1) / chunkFloats);
      for (int off = 0; off < b.length; off += chunkFloats) {
        int n = Math.min(chunkFloats, b.length - off);
        chunks.add(UnsafeByteOperations.unsafeWrap(buf, off * w, n * w));
      }
      return new EncodedBlock(b.id, version, chunkFloats, chunks, encoding,
          () -> snapshotBytes.give(buf));
    }
  }

  /**
   * A block's values at one version, as wire chunks over a pooled buffer: call
   * {@link #release()} once they are sent (gRPC serialises a message when it is sent, so the
   * buffer is free again once the last {@code onNext} returned).
   */
  public record EncodedBlock(int blockId, long version, int chunkFloats, List<ByteString> chunks,
      ValueEncoding encoding, Runnable releaser) {
    /** Gives the buffer behind the chunks back to its pool; the chunks must not be used after. */
    public void release() {
      releaser.run();
    }
  }

  /** Pull snapshots: encoded block values, by byte length. */
  private final ArrayPool<byte[]> snapshotBytes = ArrayPool.bytes(4);

  /** Push staging (and 16-bit pull snapshots): float buffers, by block length. */
  private final ArrayPool<float[]> stagingFloats = ArrayPool.floats(8);

  /** Validates a pull request. */
  public PullPlan preparePull(PullRequest req) throws ShardException {
    Job j = job(req.getFingerprint());
    checkWorker(j, req.getWorker());
    checkCounter("min_version", req.getMinVersion());
    checkCounter("clock", req.getClock());
    touch(j, req.getWorker(), false);
    BlockState[] blocks = resolve(j, req.getBlockIdsList(), shardIndex);
    acquireStream(j, req.getWorker());
    return new PullPlan(j, blocks, req.getMinVersion(), req.getWorker(), req.getClock());
  }

  /** A waiting pull; cancel it when the caller goes away. */
  public interface Cancellable {
    void cancel();
  }

  private record Waiter(PullPlan plan, Runnable onReady) {}

  /**
   * Runs {@code onReady} (on the callback executor) once every block of the plan is at its
   * minimum version and, in ssp, the worker's clock is within the bound.
   */
  public Cancellable awaitPull(PullPlan plan, Runnable onReady) {
    Waiter w = new Waiter(plan, onReady);
    boolean advanced = false;
    synchronized (lock) {
      // A pull at clock c says the worker completed c steps (ssp), even on a shard it does
      // not push to.
      long[] clocks = plan.job.clocks;
      if (plan.clock > clocks[plan.worker]) {
        clocks[plan.worker] = plan.clock;
        advanced = true;
      }
    }
    if (advanced) {
      signal();
    }
    synchronized (lock) {
      if (!plan.ready()) {
        waiters.add(w);
        return () -> {
          synchronized (lock) {
            waiters.remove(w);
          }
        };
      }
    }
    released(plan);
    callbacks.execute(onReady);
    return () -> {};
  }

  /** Re-checks waiting pulls after versions or clocks changed. */
  void signal() {
    List<Waiter> ready = new ArrayList<>();
    synchronized (lock) {
      for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
        Waiter w = it.next();
        if (w.plan.ready()) {
          it.remove();
          ready.add(w);
        }
      }
    }
    for (Waiter w : ready) {
      released(w.plan);
      callbacks.execute(w.onReady);
    }
  }

  private void released(PullPlan plan) {
    plan.waitedNanos = System.nanoTime() - plan.created;
    pulls.incrementAndGet();
    metrics.pull(plan.waitedNanos);
  }

  /** Counts block value bytes sent by pulls. */
  void bytesOut(long n) {
    metrics.bytesOut(n);
  }

  /** Number of pulls waiting (for tests and status). */
  public int waitingPulls() {
    synchronized (lock) {
      return waiters.size();
    }
  }

  // ---------------------------------------------------------------------------------------
  // Push

  /** A validated push header with buffers that the chunks fill. */
  public final class PushPlan {
    final Job job;
    final PushHeader header;
    final BlockState[] blocks;
    final float[][] values;
    private final int[] received;
    private final int[] slotOf;

    PushPlan(Job job, PushHeader header, BlockState[] blocks) {
      this.job = job;
      this.header = header;
      this.blocks = blocks;
      this.values = new float[blocks.length][];
      this.received = new int[blocks.length];
      this.slotOf = new int[job.blocks.length];
      java.util.Arrays.fill(slotOf, -1);
      for (int i = 0; i < blocks.length; i++) {
        slotOf[blocks[i].id] = i;
      }
    }

    /** Takes one float32 chunk; chunks of a block must arrive in order and cover it exactly. */
    public void accept(int blockId, int offset, ByteString bytes) throws ShardException {
      accept(blockId, offset, ValueEncoding.VALUE_ENCODING_FP32, bytes);
    }

    /**
     * Takes one chunk of values in {@code encoding}; chunks of a block must arrive in order and
     * cover it exactly. The values are decoded straight into the block's pooled staging buffer
     * (no intermediate arrays) and checked for NaN and infinities while they are in cache.
     */
    public void accept(int blockId, int offset, ValueEncoding encoding, ByteString bytes)
        throws ShardException {
      accept(blockId, offset, encoding, ChunkValues.of(bytes));
    }

    /**
     * As above, for values still in the transport's receive buffers: they are decoded from
     * there straight into the staging buffer, each received piece checked while in cache.
     */
    public void accept(int blockId, int offset, ValueEncoding encoding, ChunkValues bytes)
        throws ShardException {
      try {
        acceptUncounted(blockId, offset, encoding, bytes);
      } catch (ShardException e) {
        refused(e);
        throw e;
      }
    }

    private void acceptUncounted(int blockId, int offset, ValueEncoding encoding,
        ChunkValues bytes) throws ShardException {
      if (blockId < 0 || blockId >= slotOf.length || slotOf[blockId] < 0) {
        throw ShardException.invalid("chunk for block " + Integer.toUnsignedString(blockId)
            + ", which the push header does not list");
      }
      int slot = slotOf[blockId];
      BlockState b = blocks[slot];
      int w = switch (encoding) {
        case VALUE_ENCODING_FP32, VALUE_ENCODING_BF16, VALUE_ENCODING_FP16 ->
            FloatCodec.bytesPerValue(encoding);
        default -> throw ShardException.invalid("chunk for block " + blockId
            + " has an unknown value encoding");
      };
      if (bytes.size() % w != 0) {
        throw ShardException.invalid("chunk for block " + blockId + " has " + bytes.size()
            + " bytes, not a whole number of " + (w == 4 ? "float32"
                : FloatCodec.encodingName(encoding)) + " values");
      }
      int n = bytes.size() / w;
      if (offset != received[slot]) {
        throw ShardException.invalid("chunk for block " + blockId + " starts at "
            + Integer.toUnsignedString(offset) + "; expected " + received[slot]
            + " (chunks must arrive in order without gaps)");
      }
      if (n == 0 || (long) offset + n > b.length) {
        throw ShardException.invalid("chunk for block " + blockId + " covers [" + offset + ", "
            + ((long) offset + n) + ") but the block has " + b.length + " values");
      }
      if (values[slot] == null) {
        values[slot] = stagingFloats.take(b.length);
      }
      metrics.bytesIn(bytes.size());
      if (!bytes.decodeTo(encoding, values[slot], offset, true)) {
        throw ShardException.invalid("chunk for block " + blockId + " holds NaN or infinite"
            + " values");
      }
      received[slot] += n;
    }

    private final java.util.concurrent.atomic.AtomicBoolean released =
        new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * Gives the worker's stream slot and the staging buffers back (after the push was applied,
     * or when it ends early); idempotent.
     */
    public void release() {
      if (released.compareAndSet(false, true)) {
        releaseStream(job, header.getWorker());
        for (int i = 0; i < values.length; i++) {
          stagingFloats.give(values[i]);
          values[i] = null;
        }
      }
    }

    /** Checks that every listed block arrived whole. */
    void checkComplete() throws ShardException {
      for (int i = 0; i < blocks.length; i++) {
        if (received[i] != blocks[i].length) {
          throw ShardException.invalid("push ended with block " + blocks[i].id + " at "
              + received[i] + " of " + blocks[i].length + " values");
        }
      }
    }
  }

  /** Validates a push header; a refusal is counted. */
  public PushPlan preparePush(PushHeader h) throws ShardException {
    try {
      return preparePushUncounted(h);
    } catch (ShardException e) {
      refused(e);
      throw e;
    }
  }

  private PushPlan preparePushUncounted(PushHeader h) throws ShardException {
    Job j = job(h.getFingerprint());
    checkWorker(j, h.getWorker());
    touch(j, h.getWorker(), true);
    if (h.getBlocksCount() == 0) {
      throw ShardException.invalid("push names no blocks");
    }
    List<Integer> ids = h.getBlocksList().stream().map(BlockRead::getBlockId)
        .collect(Collectors.toList());
    BlockState[] blocks = resolve(j, ids, shardIndex);
    checkCounter("step", h.getStep());
    for (BlockRead r : h.getBlocksList()) {
      checkCounter("version read of block " + r.getBlockId(), r.getVersion());
    }
    if (h.getSeenCount() > j.blocks.length) {
      throw ShardException.invalid("push reports " + h.getSeenCount() + " seen blocks; the job"
          + " has " + j.blocks.length);
    }
    for (BlockRead r : h.getSeenList()) {
      if (r.getBlockId() < 0 || r.getBlockId() >= j.blocks.length) {
        throw ShardException.invalid("push reports a version of unknown block "
            + Integer.toUnsignedString(r.getBlockId()));
      }
      checkCounter("version seen of block " + r.getBlockId(), r.getVersion());
    }
    j.rule.checkHeader(h, blocks);
    acquireStream(j, h.getWorker());
    return new PushPlan(j, h, blocks);
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
    Dedupe.Entry prior = plan.job.dedupe.begin(h.getWorker(), h.getSequence());
    if (prior != null) {
      pushesDuplicate.incrementAndGet();
      metrics.push(ShardMetrics.Outcome.DUPLICATE);
      return prior.await();
    }
    long[] read = readVersions(plan.job, h);
    plan.job.tracker.observe(read);
    PushResponse resp;
    try {
      resp = plan.job.rule.apply(h, plan.blocks, plan.values, read);
    } catch (ShardException e) {
      plan.job.dedupe.fail(h.getWorker(), h.getSequence(), e);
      refused(e);
      throw e;
    } catch (RuntimeException e) {
      // Never leave a retry of this sequence waiting on an attempt that died.
      plan.job.dedupe.fail(h.getWorker(), h.getSequence(), new ShardException(
          Status.Code.INTERNAL, "push failed on shard " + shardIndex));
      throw e;
    }
    plan.job.dedupe.finish(h.getWorker(), h.getSequence(), resp);
    synchronized (lock) {
      long[] clocks = plan.job.clocks;
      clocks[h.getWorker()] = Math.max(clocks[h.getWorker()], h.getStep() + 1);
    }
    signal();
    return resp;
  }

  /**
   * Counts a refused push: ABORTED is a late contribution to a round that is over (dropped
   * late), anything else a rejection.
   */
  void refused(ShardException e) {
    if (e.code() == Status.Code.ABORTED) {
      pushesDroppedLate.incrementAndGet();
      metrics.push(ShardMetrics.Outcome.DROPPED_LATE);
    } else {
      pushesRejected.incrementAndGet();
      metrics.push(ShardMetrics.Outcome.REJECTED);
    }
  }

  /** The versions a push says its worker read, by block id; -1 where it says nothing. */
  private static long[] readVersions(Job j, PushHeader h) {
    long[] read = new long[j.blocks.length];
    java.util.Arrays.fill(read, -1);
    for (BlockRead r : h.getSeenList()) {
      read[r.getBlockId()] = r.getVersion();
    }
    for (BlockRead r : h.getBlocksList()) {
      read[r.getBlockId()] = r.getVersion();
    }
    return read;
  }

  /** Records the staleness and AoI of one applied or accepted gradient. */
  void recordStaleness(Job j, int blockId, long tau, long[] read) {
    j.tracker.record(blockId, tau, read, id -> j.blocks[id].version);
    stalenessSum.addAndGet(tau);
    stalenessCount.incrementAndGet();
    stalenessMax.accumulateAndGet(tau, Math::max);
  }

  /** Records one applied update of a block (its version went up by one). */
  void recordUpdate(Job j, int blockId) {
    updatesApplied.incrementAndGet();
    metrics.updated(blockId);
    j.tracker.applied(blockId);
  }

  /** The job's staleness tracker (null before Init). */
  public StalenessTracker tracker() {
    synchronized (lock) {
      return job == null ? null : job.tracker;
    }
  }

  /** Records a checkpoint written. */
  void checkpointed(long nanos, long bytes) {
    metrics.checkpoint(nanos, bytes);
  }

  ShardMetrics metrics() {
    return metrics;
  }


  // ---------------------------------------------------------------------------------------
  // Membership: leases

  /** The smallest clock among live workers (this worker's own if none is live). */
  @GuardedBy("lock")
  private static long slowestLiveClock(Job j) {
    long min = Long.MAX_VALUE;
    for (int w = 0; w < j.clocks.length; w++) {
      if (j.live[w]) {
        min = Math.min(min, j.clocks[w]);
      }
    }
    return min == Long.MAX_VALUE ? Long.MAX_VALUE / 2 : min;
  }

  /**
   * Renews a worker's lease; a worker that had expired rejoins. A worker that left (finished)
   * rejoins only by pushing or heartbeating ({@code active}), not by reading the model.
   */
  private void touch(Job j, int worker, boolean active) {
    boolean rejoined = false;
    synchronized (lock) {
      j.lastSeen[worker] = nanoClock.getAsLong();
      if (j.left[worker] && !active) {
        return;
      }
      j.left[worker] = false;
      if (!j.live[worker]) {
        j.live[worker] = true;
        j.liveView.set(worker, 1);
        rejoined = true;
      }
    }
    if (rejoined) {
      log.info("shard {}: worker {} rejoined ({} live)", shardIndex, worker, liveWorkers(j));
      metrics.membership(true);
      j.rule.membershipChanged();
      signal();
    }
  }

  /** Answers a heartbeat: renews the lease (and the ssp clock) and lists the live workers. */
  public io.parasol.proto.v1.HeartbeatResponse heartbeat(
      io.parasol.proto.v1.HeartbeatRequest req) throws ShardException {
    Job j = job(req.getFingerprint());
    checkWorker(j, req.getWorker());
    checkCounter("clock", req.getClock());
    if (req.getLeaving()) {
      leave(j, req.getWorker());
    } else {
      touch(j, req.getWorker(), true);
    }
    boolean advanced = false;
    synchronized (lock) {
      if (req.getClock() > j.clocks[req.getWorker()]) {
        j.clocks[req.getWorker()] = req.getClock();
        advanced = true;
      }
    }
    if (advanced) {
      signal();
    }
    return io.parasol.proto.v1.HeartbeatResponse.newBuilder()
        .setLeaseMillis((int) JobSpecs.leaseMillis(j.spec))
        .addAllLiveWorkers(liveWorkers(j)).build();
  }

  /**
   * A worker that finished its steps leaves the live set at once, instead of holding rounds
   * and ssp bounds for a lease and then expiring.
   */
  private void leave(Job j, int worker) {
    boolean wasLive;
    synchronized (lock) {
      wasLive = j.live[worker];
      j.live[worker] = false;
      j.liveView.set(worker, 0);
      j.left[worker] = true;
    }
    if (wasLive) {
      log.info("shard {}: worker {} finished and left; live workers now {}", shardIndex, worker,
          liveWorkers(j));
      metrics.left();
      j.rule.membershipChanged();
      signal();
    }
  }

  /** The live workers, ascending. */
  List<Integer> liveWorkers(Job j) {
    List<Integer> out = new ArrayList<>();
    synchronized (lock) {
      for (int w = 0; w < j.live.length; w++) {
        if (j.live[w]) {
          out.add(w);
        }
      }
    }
    return out;
  }

  /** Whether a worker is live, for the rules; takes no lock (rules call it under theirs). */
  boolean isLive(Job j, int worker) {
    return j.liveView.get(worker) != 0;
  }

  /**
   * Expires the leases of workers not heard from for longer than the job's lease; rounds and
   * ssp bounds then go on without them. Called periodically by the server, directly by tests.
   * Returns the workers that expired.
   */
  public List<Integer> expireLeases() {
    Job j;
    synchronized (lock) {
      j = job;
    }
    if (j == null) {
      return List.of();
    }
    List<Integer> expired = new ArrayList<>();
    long now = nanoClock.getAsLong();
    synchronized (lock) {
      for (int w = 0; w < j.live.length; w++) {
        if (j.live[w] && now - j.lastSeen[w] > j.leaseNanos) {
          j.live[w] = false;
          j.liveView.set(w, 0);
          expired.add(w);
        }
      }
    }
    if (!expired.isEmpty()) {
      for (int w : expired) {
        log.warn("shard {}: worker {} lease expired (silent for more than {} ms); live workers"
            + " now {}", shardIndex, w, j.leaseNanos / 1_000_000, liveWorkers(j));
        metrics.membership(false);
      }
      j.rule.membershipChanged();
      signal();
    }
    return expired;
  }

  /** Why a pull is still waiting, for the status that ends it at its deadline. */
  public String describeWait(PullPlan plan) {
    StringBuilder sb = new StringBuilder();
    for (BlockState b : plan.blocks) {
      if (b.version < plan.minVersion) {
        sb.append("block ").append(b.id).append(" is at version ").append(b.version)
            .append(", the pull needs ").append(plan.minVersion).append("; ")
            .append(plan.job.rule.describeRound(b)).append("; live workers ")
            .append(liveWorkers(plan.job));
        return sb.toString();
      }
    }
    if (plan.job.spec.getMode() == Mode.MODE_SSP) {
      long slowest;
      synchronized (lock) {
        slowest = slowestLiveClock(plan.job);
      }
      return "worker " + plan.worker + " at clock " + plan.clock + " leads the slowest live"
          + " worker (clock " + slowest + ") by more than the staleness bound "
          + plan.job.spec.getStalenessBound();
    }
    return "the pull was ready";
  }

  // ---------------------------------------------------------------------------------------
  // Checkpoints

  /**
   * A consistent copy of every block (values, version and optimizer state under the block's
   * lock) and the worker clocks; null before Init. Open sync/local rounds are not part of it.
   */
  public Checkpoints.Snapshot snapshot() {
    Job j;
    synchronized (lock) {
      j = job;
    }
    return j == null ? null : j.rule.exclusive(() -> snapshotOf());
  }

  private Checkpoints.Snapshot snapshotOf() {
    Job j;
    long[] clocks;
    synchronized (lock) {
      j = job;
      if (j == null) {
        return null;
      }
      clocks = j.clocks.clone();
    }
    List<Checkpoints.BlockState> blocks = new ArrayList<>(j.ownedIds.length);
    for (int id : j.ownedIds) {
      BlockState b = j.blocks[id];
      b.lock.lock();
      try {
        float[][] state = b.optimizer.state();
        float[][] copy = new float[state.length][];
        for (int k = 0; k < state.length; k++) {
          copy[k] = state[k].clone();
        }
        blocks.add(new Checkpoints.BlockState(id, b.version, b.values.clone(),
            b.optimizer.steps(), copy));
      } finally {
        b.lock.unlock();
      }
    }
    return new Checkpoints.Snapshot(j.spec, clocks, blocks);
  }

  /** Restores a checkpoint into a shard that has no job yet. */
  public void restore(Checkpoints.Snapshot snap) throws ShardException {
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
      if (snap.blocks().size() != j.ownedIds.length) {
        throw ShardException.invalid("checkpoint holds " + snap.blocks().size()
            + " blocks; shard " + shardIndex + " owns " + j.ownedIds.length);
      }
      for (Checkpoints.BlockState saved : snap.blocks()) {
        BlockState b = saved.id() >= 0 && saved.id() < j.blocks.length ? j.blocks[saved.id()]
            : null;
        if (b == null || saved.values().length != b.length) {
          throw ShardException.invalid("checkpoint block " + saved.id()
              + " does not match the job's layout on shard " + shardIndex);
        }
        float[][] state = b.optimizer.state();
        if (saved.optimizerState().length != state.length) {
          throw ShardException.invalid("checkpoint block " + saved.id()
              + " has optimizer state of another optimizer");
        }
        System.arraycopy(saved.values(), 0, b.values, 0, b.length);
        for (int k = 0; k < state.length; k++) {
          System.arraycopy(saved.optimizerState()[k], 0, state[k], 0, state[k].length);
        }
        b.optimizer.setSteps(saved.optimizerSteps());
        b.version = saved.version();
      }
      System.arraycopy(snap.clocks(), 0, j.clocks, 0,
          Math.min(snap.clocks().length, j.clocks.length));
      job = j;
      log.info("shard {} restored job '{}' from a checkpoint: versions {}", shardIndex,
          snap.spec().getJobName(), versions(j));
    }
  }

  private static String versions(Job j) {
    StringBuilder sb = new StringBuilder("{");
    for (int id : j.ownedIds) {
      if (sb.length() > 1) {
        sb.append(", ");
      }
      sb.append(id).append('=').append(j.blocks[id].version);
    }
    return sb.append('}').toString();
  }

  // ---------------------------------------------------------------------------------------
  // Status and inspection

  public StatusResponse status() {
    Job j;
    synchronized (lock) {
      j = job;
    }
    StatusResponse.Builder b = StatusResponse.newBuilder()
        .setShard(shardIndex)
        .setPushesApplied(pushesApplied.get())
        .setPushesDroppedStale(pushesDroppedStale.get())
        .setPushesDroppedLate(pushesDroppedLate.get())
        .setPushesRejected(pushesRejected.get())
        .setPulls(pulls.get())
        .setPushesDuplicate(pushesDuplicate.get())
        .setUpdatesApplied(updatesApplied.get())
        .setStalenessSum(stalenessSum.get())
        .setStalenessCount(stalenessCount.get())
        .setStalenessMax(stalenessMax.get());
    if (j != null) {
      b.setInitialised(true)
          .setFingerprint(j.fingerprint)
          .setJobName(j.spec.getJobName())
          .setMode(j.spec.getMode())
          .setNumWorkers(j.spec.getNumWorkers());
      for (long c : j.tracker.stalenessHistogram()) {
        b.addStalenessCounts(c);
      }
      b.addAllLiveWorkers(liveWorkers(j));
      for (int id : j.ownedIds) {
        BlockState s = j.blocks[id];
        b.addBlocks(BlockStatus.newBuilder().setId(id).setLength(s.length)
            .setVersion(s.version));
      }
    }
    return b.build();
  }

  /** A copy of a block's values (tests, checkpoints). */
  public float[] blockValues(int blockId) {
    Job j;
    synchronized (lock) {
      j = job;
    }
    if (j == null || blockId < 0 || blockId >= j.blocks.length || j.blocks[blockId] == null) {
      throw new IllegalArgumentException("block " + blockId + " is not on shard " + shardIndex);
    }
    BlockState b = j.blocks[blockId];
    b.lock.lock();
    try {
      return b.values.clone();
    } finally {
      b.lock.unlock();
    }
  }

  /** A block's version (tests). */
  public long blockVersion(int blockId) {
    Job j;
    synchronized (lock) {
      j = job;
    }
    if (j == null || blockId < 0 || blockId >= j.blocks.length || j.blocks[blockId] == null) {
      throw new IllegalArgumentException("block " + blockId + " is not on shard " + shardIndex);
    }
    return j.blocks[blockId].version;
  }
}
