package io.parasol.server.robustness;

import io.parasol.server.core.ShardCore;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.parasol.common.FloatCodec;
import io.parasol.common.JobSpecs;
import io.parasol.proto.v1.BlockChunk;
import io.parasol.proto.v1.BlockRead;
import io.parasol.proto.v1.BlockSpec;
import io.parasol.proto.v1.HeartbeatRequest;
import io.parasol.proto.v1.InitKind;
import io.parasol.proto.v1.InitRequest;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.PullRequest;
import io.parasol.proto.v1.PushHeader;
import io.parasol.proto.v1.PushKind;
import io.parasol.proto.v1.PushMessage;
import io.parasol.proto.v1.ShardGrpc;
import io.parasol.server.ShardServer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * One request each for what {@link FuzzTest} found: the smallest request that breaks the
 * shard's contract for bad input (refused with a precise status that is neither INTERNAL nor
 * UNKNOWN, nothing changed). Each test states the status the README promises.
 *
 * <p>Most findings are uint32/uint64 protobuf fields compared as signed Java ints and longs:
 * values of 2^31 (2^63) and above read as negative and slip past range checks.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FuzzFindingsTest {
  private static final int[] LENGTHS = {4, 3};
  private static final int WORKERS = 2;

  private final List<ShardServer> servers = new ArrayList<>();
  private final List<ManagedChannel> channels = new ArrayList<>();
  private final ExecutorService background = Executors.newFixedThreadPool(2);
  private ShardServer server;
  private Wire wire;
  private JobSpec spec;
  private String fp;

  @AfterEach
  void stop() throws Exception {
    background.shutdownNow();
    background.awaitTermination(10, TimeUnit.SECONDS);
    for (ManagedChannel c : channels) {
      c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    for (ShardServer s : servers) {
      s.stop(5, TimeUnit.SECONDS);
    }
  }

  private void startShard() throws Exception {
    server = ShardServer.forAddress("127.0.0.1", 0, 0, null).start();
    servers.add(server);
    ManagedChannel c = Wire.channelTo(server.port());
    channels.add(c);
    wire = new Wire(c);
  }

  private static JobSpec.Builder specBuilder(Mode mode) {
    JobSpec.Builder b = JobSpec.newBuilder().setJobName("findings").setMode(mode)
        .setNumShards(1).setNumWorkers(WORKERS).setLearningRate(0.1f).setSeed(3)
        .setLeaseMillis(3_600_000);
    for (int i = 0; i < LENGTHS.length; i++) {
      b.addBlocks(BlockSpec.newBuilder().setId(i).setName("b" + i).setLength(LENGTHS[i])
          .setShard(0).setInit(InitKind.INIT_UNIFORM).setInitScale(1f));
    }
    return b;
  }

  private void startJob(Mode mode) throws Exception {
    startShard();
    spec = specBuilder(mode).build();
    assertThat(wire.init(InitRequest.newBuilder().setSpec(spec).setShard(0).build()).status()
        .getCode()).isEqualTo(Status.Code.OK);
    fp = JobSpecs.fingerprint(spec);
  }

  private static PushHeader.Builder header(String fp, int worker, long seq, long step,
      long read) {
    return PushHeader.newBuilder().setFingerprint(fp).setWorker(worker).setSequence(seq)
        .setStep(step).setKind(PushKind.PUSH_GRADIENT)
        .addBlocks(BlockRead.newBuilder().setBlockId(0).setVersion(read));
  }

  private static List<PushMessage> push(PushHeader.Builder h) {
    return List.of(PushMessage.newBuilder().setHeader(h).build(),
        PushMessage.newBuilder().setChunk(BlockChunk.newBuilder().setBlockId(0)
            .setValues(FloatCodec.encode(new float[] {1f, 1f, 1f, 1f}))).build());
  }

  private Status send(List<PushMessage> msgs) throws InterruptedException {
    return wire.push(msgs, -1, Wire.DEADLINE_MS).status();
  }

  private int[] block0() {
    float[] v = server.core().blockValues(0);
    int[] bits = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      bits[i] = Float.floatToRawIntBits(v[i]);
    }
    return bits;
  }

  // ---------------------------------------------------------------------------------------
  // Worker ids of 2^31 and above pass checkWorker (worker >= num_workers, signed) and index
  // the per-worker arrays with a negative number in ShardCore.touch.

  @Test
  void push_workerAtOrAbove2pow31_invalidArgument() throws Exception {
    startJob(Mode.MODE_ASYNC);
    Status s = send(push(header(fp, 0x8000_0000, 1, 0, 0)));
    assertThat(s.getCode()).as("push from worker 2147483648: %s", s)
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
  }

  @Test
  void pull_workerAtOrAbove2pow31_invalidArgument() throws Exception {
    startJob(Mode.MODE_ASYNC);
    Status s = wire.pull(PullRequest.newBuilder().setFingerprint(fp).setWorker(-1).build(),
        Wire.DEADLINE_MS).status();
    assertThat(s.getCode()).as("pull by worker 4294967295: %s", s)
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
  }

  @Test
  void heartbeat_workerAtOrAbove2pow31_invalidArgument() throws Exception {
    startJob(Mode.MODE_ASYNC);
    Status s = wire.heartbeat(HeartbeatRequest.newBuilder().setFingerprint(fp)
        .setWorker(0xF000_0000).build()).status();
    assertThat(s.getCode()).as("heartbeat from worker 4026531840: %s", s)
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
  }

  // ---------------------------------------------------------------------------------------
  // Async: AsyncRule.checkHeader compares the claimed read version with the block's version as
  // signed longs, so a claim of 2^63 or more passes and the gradient is applied with a
  // staleness that overflowed.

  @Test
  void push_asyncReadVersionAtOrAbove2pow63_invalidArgumentAndBlockUnchanged() throws Exception {
    startJob(Mode.MODE_ASYNC);
    int[] before = block0();
    Status s = send(push(header(fp, 0, 1, 0, -1L)));
    assertThat(s.getCode()).as("push claiming version 18446744073709551615 of a block at"
        + " version 0: %s", s).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(server.core().blockVersion(0)).isZero();
    assertThat(block0()).isEqualTo(before);
  }

  /**
   * Once the block is past version 64, a claim of 2^63 makes the staleness histogram index
   * (int) min(version - 2^63, 64) = version: an ArrayIndexOutOfBoundsException after the
   * gradient was applied and the version raised, so the push answers INTERNAL and still
   * changed the block, and pushes_applied misses it.
   */
  @Test
  void push_asyncReadVersion2pow63OnBlockPastVersion64_refusedAndBlockUnchanged()
      throws Exception {
    startJob(Mode.MODE_ASYNC);
    for (int k = 0; k < 70; k++) {
      assertThat(send(push(header(fp, 0, 1 + k, 0, k))).getCode()).isEqualTo(Status.Code.OK);
    }
    int[] before = block0();
    long version = server.core().blockVersion(0);
    Status s = send(push(header(fp, 1, 1_000, 0, Long.MIN_VALUE)));
    assertThat(s.getCode()).as("push claiming version 9223372036854775808 of a block at"
        + " version %d: %s", version, s).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(server.core().blockVersion(0)).isEqualTo(version);
    assertThat(block0()).isEqualTo(before);
  }

  /**
   * After the push above fails with an unexpected exception inside the update rule, its
   * (worker, sequence) stays registered in the dedupe table without an outcome, so a retry of
   * the same push (what a client does after losing the answer) blocks a server thread in
   * Dedupe.Entry.await forever and ends only at the client's deadline. The blocked server
   * thread cannot be stopped: Entry.await ignores interrupts.
   */
  @Test
  void push_retryOfPushThatFailedUnexpectedly_isAnsweredBeforeItsDeadline() throws Exception {
    startJob(Mode.MODE_ASYNC);
    for (int k = 0; k < 70; k++) {
      assertThat(send(push(header(fp, 0, 1 + k, 0, k))).getCode()).isEqualTo(Status.Code.OK);
    }
    List<PushMessage> bad = push(header(fp, 1, 1_000, 0, Long.MIN_VALUE));
    Status first = send(bad);
    Status retry = wire.push(bad, -1, 2_000).status();
    assertThat(retry.getCode()).as("first attempt: %s; retry: %s", first, retry)
        .isNotEqualTo(Status.Code.DEADLINE_EXCEEDED);
  }

  /**
   * A valid push whose {@code seen} list (versions read of blocks on other shards) names a
   * block id of 2^31 or more: ShardCore.readVersions skips ids at or above the number of
   * blocks but indexes its array with the negative int, after the dedupe table registered the
   * push. Either answer is fine (refused, or applied with the unknown id ignored, as ids below
   * 2^31 are), but not INTERNAL.
   */
  @Test
  void push_seenBlockIdAtOrAbove2pow31_refusedOrIgnoredNotInternal() throws Exception {
    startJob(Mode.MODE_ASYNC);
    int[] before = block0();
    Status s = send(push(header(fp, 0, 1, 0, 0)
        .addSeen(BlockRead.newBuilder().setBlockId(0xFFFF_FFFF).setVersion(0))));
    assertThat(s.getCode()).as("push with seen block 4294967295: %s", s)
        .isIn(Status.Code.OK, Status.Code.INVALID_ARGUMENT, Status.Code.NOT_FOUND);
    if (s.isOk()) {
      assertThat(server.core().blockVersion(0)).isEqualTo(1);
    } else {
      assertThat(server.core().blockVersion(0)).isZero();
      assertThat(block0()).isEqualTo(before);
    }
  }

  @Test
  void pull_minVersionAtOrAbove2pow63_invalidArgument() throws Exception {
    startJob(Mode.MODE_ASYNC);
    Status s = wire.pull(PullRequest.newBuilder().setFingerprint(fp).addBlockIds(0)
        .setMinVersion(-1L).build(), 500).status();
    assertThat(s.getCode()).as("pull of block 0 at min_version 18446744073709551615 (block at"
        + " version 0): %s", s).isEqualTo(Status.Code.INVALID_ARGUMENT);
  }

  /**
   * Sync: RoundRule.check compares the step with the version as signed longs, so a step of
   * 2^63 or more (which has not started) is called "over": ABORTED instead of
   * FAILED_PRECONDITION, and counted as a late push (pushes_dropped_late, late_pushes).
   */
  @Test
  void push_syncStepAtOrAbove2pow63_invalidArgumentNotCountedLate() throws Exception {
    startJob(Mode.MODE_SYNC);
    long late = wire.status().getPushesDroppedLate();
    Status s = send(push(header(fp, 0, 1, -1L, 0)));
    assertThat(s.getCode()).as("push for step 18446744073709551615 of a block at version 0:"
        + " %s", s).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(wire.status().getPushesDroppedLate()).isEqualTo(late);
  }

  // ---------------------------------------------------------------------------------------
  // Init on a shard without a job: JobSpecs.problems compares uint32 fields as signed ints.

  private void assertInitRefused(JobSpec bad, String what) throws Exception {
    startShard();
    Status s = wire.init(InitRequest.newBuilder().setSpec(bad).setShard(0).build()).status();
    boolean initialised = wire.status().getInitialised();
    assertThat(s.getCode()).as("Init with %s: %s (shard initialised: %s)", what, s,
        initialised).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(initialised).isFalse();
  }

  @Test
  void init_blockShardAtOrAbove2pow31_invalidArgument() throws Exception {
    JobSpec.Builder b = specBuilder(Mode.MODE_ASYNC);
    b.getBlocksBuilder(1).setShard(0x8000_0000);
    assertInitRefused(b.build(), "block 1 on shard 2147483648 of 1");
  }

  @Test
  void init_quorumAtOrAbove2pow31_invalidArgument() throws Exception {
    assertInitRefused(specBuilder(Mode.MODE_SYNC).setQuorum(0x8000_0000).build(),
        "quorum 2147483648 of 2 workers");
  }

  @Test
  void init_blockLengthAtOrAbove2pow31_invalidArgument() throws Exception {
    JobSpec.Builder b = specBuilder(Mode.MODE_ASYNC);
    b.getBlocksBuilder(1).setLength(0x8000_0001);
    assertInitRefused(b.build(), "a block of 2147483649 floats");
  }

  @Test
  void init_numWorkersAndQuorumAtOrAbove2pow31_invalidArgument() throws Exception {
    assertInitRefused(specBuilder(Mode.MODE_ASYNC).setNumWorkers(-2).setQuorum(-2).build(),
        "num_workers = quorum = 4294967294");
  }

  // ---------------------------------------------------------------------------------------
  // Status descriptions echo the caller's fingerprint in full. Above ~10 KiB the trailers
  // exceed what the gRPC client accepts: the client sees a connection error ("http2
  // exception", INTERNAL) that also fails every other call in flight on the same channel.

  @Test
  void pull_longWrongFingerprint_failedPreconditionAndOtherCallsUnharmed() throws Exception {
    startJob(Mode.MODE_ASYNC);
    // A pull that waits (no push will reach version 1) on the same channel.
    CompletableFuture<Status> waiting = CompletableFuture.supplyAsync(() -> wire.pull(
        PullRequest.newBuilder().setFingerprint(fp).addBlockIds(1).setMinVersion(1).build(),
        3_000).status(), background);
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (server.core().waitingPulls() == 0 && System.nanoTime() < end) {
      Thread.onSpinWait();
    }
    assertThat(server.core().waitingPulls()).isEqualTo(1);
    Status s = wire.pull(PullRequest.newBuilder().setFingerprint("f".repeat(20_000)).build(),
        Wire.DEADLINE_MS).status();
    Status other = waiting.get(Wire.DEADLINE_MS, TimeUnit.MILLISECONDS);
    SoftAssertions.assertSoftly(soft -> {
      soft.assertThat(s.getCode()).as("pull with a 20,000-character fingerprint: %s (cause %s)",
          s, s.getCause()).isEqualTo(Status.Code.FAILED_PRECONDITION);
      soft.assertThat(other.getCode()).as("the other pull on the channel: %s (cause %s)", other,
          other.getCause()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    });
  }

  // ---------------------------------------------------------------------------------------
  // A Push message that is not protobuf: grpc-java closes the call with UNKNOWN ("Application
  // error processing RPC") when the request marshaller throws.

  @Test
  void push_unparseableMessage_invalidArgument() throws Exception {
    startJob(Mode.MODE_ASYNC);
    Status s = wire.rawPush(List.of(new byte[] {0x00}), Wire.DEADLINE_MS).status();
    assertThat(s.getCode()).as("push of the single byte 0x00 (tag 0): %s", s)
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
  }

  // ---------------------------------------------------------------------------------------
  // Requests of the other methods that are not protobuf: the same lenient parsing answers
  // INVALID_ARGUMENT for every method, and seeded random bytes never get UNKNOWN or INTERNAL.

  private static final List<String[]> METHODS = List.of(
      new String[] {ShardGrpc.getInitMethod().getFullMethodName(), "UNARY"},
      new String[] {ShardGrpc.getPullMethod().getFullMethodName(), "SERVER_STREAMING"},
      new String[] {ShardGrpc.getStatusMethod().getFullMethodName(), "UNARY"},
      new String[] {ShardGrpc.getHeartbeatMethod().getFullMethodName(), "UNARY"},
      new String[] {ShardGrpc.getPushPullMethod().getFullMethodName(), "BIDI_STREAMING"},
      new String[] {"grpc.health.v1.Health/Check", "UNARY"});

  @Test
  void everyMethod_unparseableRequest_invalidArgument() throws Exception {
    startJob(Mode.MODE_ASYNC);
    for (String[] m : METHODS) {
      // Tag 0 is never valid protobuf.
      Status s = wire.rawCall(m[0], io.grpc.MethodDescriptor.MethodType.valueOf(m[1]),
          new byte[] {0x00}, Wire.DEADLINE_MS).status();
      assertThat(s.getCode()).as("%s with the single byte 0x00: %s", m[0], s)
          .isEqualTo(Status.Code.INVALID_ARGUMENT);
      // PushPull's messages are Push's, refused by the push path as Push's are.
      assertThat(s.getDescription()).as("%s", m[0]).contains(m[0].endsWith("/PushPull")
          ? "is not a valid parasol.v1.PushMessage" : "does not parse as");
    }
  }

  @Test
  void everyMethod_randomBytes_preciseCodesAndNothingChanges() throws Exception {
    startJob(Mode.MODE_ASYNC);
    String before = server.core().status().getBlocksList().toString();
    java.util.SplittableRandom r = new java.util.SplittableRandom(20261205);
    for (String[] m : METHODS) {
      for (int i = 0; i < 40; i++) {
        byte[] b = new byte[1 + r.nextInt(64)];
        for (int k = 0; k < b.length; k++) {
          b[k] = (byte) r.nextInt(256);
        }
        Status s = wire.rawCall(m[0], io.grpc.MethodDescriptor.MethodType.valueOf(m[1]), b,
            2_000).status();
        assertThat(s.getCode()).as("%s with %d random bytes: %s", m[0], b.length, s)
            .isNotIn(Status.Code.UNKNOWN, Status.Code.INTERNAL);
      }
    }
    assertThat(server.core().status().getBlocksList().toString()).as("the shard's blocks")
        .isEqualTo(before);
  }

  // ---------------------------------------------------------------------------------------
  // An Init larger than the shard may hold: refused before anything is allocated.

  private static JobSpec bigSpec(int blocks, int length, io.parasol.proto.v1.OptimizerKind opt) {
    JobSpec.Builder b = JobSpec.newBuilder().setJobName("big").setMode(Mode.MODE_ASYNC)
        .setNumShards(1).setNumWorkers(1).setLearningRate(0.1f).setSeed(3)
        .setOptimizer(io.parasol.proto.v1.OptimizerSpec.newBuilder().setKind(opt));
    for (int i = 0; i < blocks; i++) {
      b.addBlocks(BlockSpec.newBuilder().setId(i).setName("b" + i).setLength(length)
          .setShard(0).setInit(InitKind.INIT_ZEROS));
    }
    return b.build();
  }

  @Test
  void init_largerThanTheShardMayHold_resourceExhaustedAndNothingAllocated() throws Exception {
    startShard();
    server.core().maxBytes(64L << 20);
    // 2^30 floats with Adam: at least 16,512 MiB by the budget's count (block, two state
    // arrays, a push's staging: 16 GiB; a pull's snapshot: two blocks of 64 MiB), more where
    // G1 rounds the arrays up to whole regions; refused without allocating.
    JobSpec huge = bigSpec(64, 1 << 24, io.parasol.proto.v1.OptimizerKind.OPTIMIZER_ADAM);
    Status s = wire.init(InitRequest.newBuilder().setSpec(huge).setShard(0).build()).status();
    assertThat(s.getCode()).as("%s", s).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(s.getDescription()).contains("may hold 64.0 MiB").contains("--max-bytes");
    java.util.regex.Matcher needs = java.util.regex.Pattern.compile("needs ([0-9,]+\\.[0-9])"
        + " MiB").matcher(s.getDescription());
    assertThat(needs.find()).as("%s", s.getDescription()).isTrue();
    assertThat(Double.parseDouble(needs.group(1).replace(",", ""))).isGreaterThanOrEqualTo(16_512);
    assertThat(server.core().status().getBlocksCount()).as("no job").isZero();
    // A job that fits (1 Mi floats, SGD: 8 MiB) is then declared as usual.
    JobSpec fits = bigSpec(4, 1 << 18, io.parasol.proto.v1.OptimizerKind.OPTIMIZER_SGD);
    assertThat(wire.init(InitRequest.newBuilder().setSpec(fits).setShard(0).build()).status()
        .getCode()).isEqualTo(Status.Code.OK);
  }
}
