package io.parasol.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.parasol.common.FloatCodec;
import io.parasol.common.MetricNames;
import io.parasol.proto.v1.BlockRead;
import io.parasol.proto.v1.HeartbeatRequest;
import io.parasol.proto.v1.InitRequest;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.PullChunk;
import io.parasol.proto.v1.PullRequest;
import io.parasol.proto.v1.PushHeader;
import io.parasol.proto.v1.PushKind;
import io.parasol.proto.v1.PushOutcome;
import io.parasol.proto.v1.PushResponse;
import io.parasol.proto.v1.ShardGrpc;
import io.parasol.proto.v1.StatusRequest;
import io.parasol.server.core.ShardCore;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Elastic workers over real gRPC on 127.0.0.1 (the in-process {@link LocalCluster}, one shard):
 * workers join a running job (indices num_workers..max_workers-1) and leave it (finished, or
 * their lease expired on the injected clock), in every mode. Sync and local rounds follow the
 * live set, a mid-round joiner counts from the next round, async counts a joiner's first push
 * as fresh, and an ssp joiner starts at the slowest live clock.
 */
class ElasticWorkersTest {
  private static final long LEASE_MS = 1_000;
  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private LocalCluster cluster;
  private ManagedChannel channel;
  private JobSpec spec;

  @AfterEach
  void tearDown() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  /** A one-shard job with one block of one float, η = 1, on a fresh cluster. */
  private void start(JobSpec.Builder b) throws Exception {
    spec = b.setLeaseMillis((int) LEASE_MS).build();
    cluster = LocalCluster.start(1, registry, now::get);
    channel = NettyChannelBuilder.forAddress("127.0.0.1", cluster.server(0).port())
        .usePlaintext().build();
    stub().init(InitRequest.newBuilder().setSpec(spec).setShard(0).build());
  }

  private ShardGrpc.ShardBlockingStub stub() {
    return ShardGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private ShardCore core() {
    return cluster.server(0).core();
  }

  private List<Integer> live() {
    return stub().status(StatusRequest.getDefaultInstance()).getLiveWorkersList();
  }

  private double liveGauge() {
    return registry.get(MetricNames.SHARD_LIVE_WORKERS).gauge().value();
  }

  private double leaseEvents(String event) {
    return registry.get(MetricNames.SHARD_LEASES).tag("event", event).counter().count();
  }

  /** Pulls block 0; returns the version read. */
  private long pull(int worker, long minVersion) {
    return unwrap(pullAsync(worker, minVersion, 0));
  }

  private static <T> T unwrap(CompletableFuture<T> f) {
    try {
      return f.join();
    } catch (java.util.concurrent.CompletionException e) {
      throw (RuntimeException) e.getCause();
    }
  }

  /** A pull that may wait (barrier or ssp bound); completes with the version read. */
  private CompletableFuture<Long> pullAsync(int worker, long minVersion, long clock) {
    CompletableFuture<Long> done = new CompletableFuture<>();
    ShardGrpc.newStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS).pull(
        PullRequest.newBuilder().setFingerprint(Specs.fp(spec)).setWorker(worker)
            .setMinVersion(minVersion).setClock(clock).build(),
        new StreamObserver<>() {
          private long version = -1;

          @Override
          public void onNext(PullChunk c) {
            version = c.getVersion();
          }

          @Override
          public void onError(Throwable t) {
            done.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {
            done.complete(version);
          }
        });
    return done;
  }

  /** Pushes {@code value} for block 0, computed at version {@code read}, as step {@code step}. */
  private PushResponse push(int worker, long seq, long step, long read, float value) {
    return push(0, worker, seq, step, read, value);
  }

  private PushResponse push(int block, int worker, long seq, long step, long read,
      float value) {
    PushKind kind = spec.getMode() == Mode.MODE_LOCAL ? PushKind.PUSH_MODEL
        : PushKind.PUSH_GRADIENT;
    PushHeader h = PushHeader.newBuilder().setFingerprint(Specs.fp(spec)).setWorker(worker)
        .setSequence(seq).setStep(step).setKind(kind)
        .addBlocks(BlockRead.newBuilder().setBlockId(block).setVersion(read)).build();
    CompletableFuture<PushResponse> done = new CompletableFuture<>();
    StreamObserver<io.parasol.proto.v1.PushMessage> out = ShardGrpc.newStub(channel)
        .withDeadlineAfter(10, TimeUnit.SECONDS).push(new StreamObserver<>() {
          @Override
          public void onNext(PushResponse r) {
            done.complete(r);
          }

          @Override
          public void onError(Throwable t) {
            done.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {}
        });
    out.onNext(Specs.headerMsg(h));
    out.onNext(Specs.chunkMsg(block, 0, FloatCodec.encode(new float[] {value})));
    out.onCompleted();
    return unwrap(done);
  }

  private void heartbeat(int worker, long clock, boolean leaving) {
    stub().heartbeat(HeartbeatRequest.newBuilder().setFingerprint(Specs.fp(spec))
        .setWorker(worker).setClock(clock).setLeaving(leaving).build());
  }

  /**
   * Lets the {@code renewing} workers renew their leases just before the others' end, then
   * moves the clock past the others' (whichever of this call and the shard's own lease timer
   * sees it first expires them; the renewing workers are never silent for a whole lease).
   */
  private void expireAllBut(List<Integer> renewing) {
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(LEASE_MS - 1));
    for (int w : renewing) {
      heartbeat(w, 0, false);
    }
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(2));
    core().expireLeases();
  }

  private static Status.Code code(Runnable call) {
    try {
      call.run();
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  // ---------------------------------------------------------------------------------------

  @Test
  void sync_joinerCountsFromTheNextStep_andLeaversNoLongerHoldSteps() throws Exception {
    start(Specs.spec(Mode.MODE_SYNC, 2, 1f, 1).setMaxWorkers(4));
    assertThat(live()).containsExactly(0, 1);
    assertThat(liveGauge()).isEqualTo(2);

    // Worker 2 joins while step 0 has no contribution yet: step 0 waits for it (m = 3).
    assertThat(pull(2, 0)).isZero();
    assertThat(live()).containsExactly(0, 1, 2);
    assertThat(liveGauge()).isEqualTo(3);
    assertThat(leaseEvents("joined")).isEqualTo(1);
    push(0, 1, 0, 0, 1f);
    push(1, 1, 0, 0, 2f);
    assertThat(core().blockVersion(0)).isZero();
    float x0 = core().blockValues(0)[0];
    assertThat(push(2, 1, 0, 0, 3f).getOutcome()).isEqualTo(PushOutcome.PUSH_APPLIED);
    assertThat(core().blockVersion(0)).isEqualTo(1);
    assertThat(core().blockValues(0)[0]).isEqualTo(x0 - 2f); // mean of 1, 2, 3

    // Worker 3 joins after step 1 got a gradient: step 1 does not wait for it.
    push(0, 2, 1, 1, 1f);
    assertThat(pull(3, 0)).isEqualTo(1);
    assertThat(live()).containsExactly(0, 1, 2, 3);
    push(1, 2, 1, 1, 1f);
    assertThat(core().blockVersion(0)).isEqualTo(1);
    push(2, 2, 1, 1, 1f);
    assertThat(core().blockVersion(0)).isEqualTo(2);
    // Its gradient for step 1 comes too late; it pulls again and counts from step 2 on.
    assertThat(code(() -> push(3, 1, 1, 1, 1f))).isEqualTo(Status.Code.ABORTED);
    assertThat(pull(3, 2)).isEqualTo(2);
    for (int w = 0; w < 3; w++) {
      push(w, 3, 2, 2, 1f);
    }
    assertThat(core().blockVersion(0)).isEqualTo(2);
    push(3, 2, 2, 2, 1f);
    assertThat(core().blockVersion(0)).isEqualTo(3);

    // Worker 1 finishes: step 3 needs 0, 2 and 3. Worker 3 goes silent: its lease expires and
    // step 3 completes with 0 and 2.
    heartbeat(1, 0, true);
    assertThat(liveGauge()).isEqualTo(3);
    push(0, 4, 3, 3, 1f);
    push(2, 4, 3, 3, 1f);
    assertThat(core().blockVersion(0)).isEqualTo(3);
    expireAllBut(List.of(0, 2));
    assertThat(live()).containsExactly(0, 2);
    assertThat(liveGauge()).isEqualTo(2);
    assertThat(core().blockVersion(0)).isEqualTo(4);
  }

  @Test
  void workerBeyondMaxWorkers_isRefusedWithTheRange() throws Exception {
    start(Specs.spec(Mode.MODE_SYNC, 2, 1f, 1).setMaxWorkers(3));
    assertThatThrownBy(() -> pull(3, 0)).isInstanceOfSatisfying(StatusRuntimeException.class,
        e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains("worker 3 is out of range")
              .contains("max_workers 3");
        });
    assertThat(live()).containsExactly(0, 1);
  }

  @Test
  void withoutMaxWorkers_theJobIsAsBefore_andAJoinerIsRefused() throws Exception {
    start(Specs.spec(Mode.MODE_SYNC, 2, 1f, 1));
    assertThat(code(() -> heartbeat(2, 0, false))).isEqualTo(Status.Code.INVALID_ARGUMENT);
    push(0, 1, 0, 0, 1f);
    assertThat(core().blockVersion(0)).isZero();
    push(1, 1, 0, 0, 1f);
    assertThat(core().blockVersion(0)).isEqualTo(1);
  }

  @Test
  void local_roundsAverageTheLiveModels_joinerFromTheNextRound() throws Exception {
    start(Specs.spec(Mode.MODE_LOCAL, 2, 1f, 1).setLocalSteps(1).setMaxWorkers(3));
    // Worker 2 joins once round 0 has worker 0's model: round 0 closes without it.
    push(0, 1, 0, 0, 4f);
    assertThat(pull(2, 0)).isZero();
    assertThat(live()).containsExactly(0, 1, 2);
    push(1, 1, 0, 0, 2f);
    assertThat(core().blockVersion(0)).isEqualTo(1);
    assertThat(core().blockValues(0)[0]).isEqualTo(3f);
    // Round 1 averages all three models.
    push(0, 2, 1, 1, 2f);
    push(1, 2, 1, 1, 4f);
    assertThat(core().blockVersion(0)).isEqualTo(1);
    push(2, 1, 1, 1, 9f);
    assertThat(core().blockVersion(0)).isEqualTo(2);
    assertThat(core().blockValues(0)[0]).isEqualTo(5f);
    // Worker 0 leaves: round 2 is the mean of workers 1 and 2.
    heartbeat(0, 0, true);
    push(1, 3, 2, 2, 1f);
    assertThat(core().blockVersion(0)).isEqualTo(2);
    push(2, 2, 2, 2, 3f);
    assertThat(core().blockVersion(0)).isEqualTo(3);
    assertThat(core().blockValues(0)[0]).isEqualTo(2f);
    // Worker 2 goes silent and expires: round 3 is worker 1's model alone.
    expireAllBut(List.of(1));
    assertThat(live()).containsExactly(1);
    push(1, 4, 3, 3, 7f);
    assertThat(core().blockVersion(0)).isEqualTo(4);
    assertThat(core().blockValues(0)[0]).isEqualTo(7f);
  }

  /** The first round from {@code from} whose sample (4 indices, half each round) holds 0 or 1. */
  private long nextRoundWithALiveSample(long from) {
    long r = from;
    while (!io.parasol.common.Participation.includes(spec.getSeed(), r, 4, 0.5f, 0)
        && !io.parasol.common.Participation.includes(spec.getSeed(), r, 4, 0.5f, 1)) {
      r++;
    }
    return r;
  }

  @Test
  void local_partialParticipation_roundsSamplingOnlyAbsentIndicesAreSkipped() throws Exception {
    // Rounds sample 2 of the 4 indices; only workers 0 and 1 exist. A round that samples
    // only 2 and 3 has no one to close it: the shard skips it (values kept, version on).
    start(Specs.spec(Mode.MODE_LOCAL, 2, 1f, 1).setLocalSteps(1).setMaxWorkers(4)
        .setParticipation(0.5f));
    heartbeat(0, 0, false);
    heartbeat(1, 0, false);
    assertThat(live()).containsExactly(0, 1);
    long v = core().blockVersion(0);
    assertThat(v).as("joining skips an empty round 0").isEqualTo(nextRoundWithALiveSample(0));
    long[] seq = {1, 1};
    int skipped = 0;
    for (int round = 0; round < 30; round++) {
      float before = core().blockValues(0)[0];
      float model = round + 1f;
      for (int w = 0; w < 2; w++) {
        final int k = w;
        final long step = v;
        if (io.parasol.common.Participation.includes(spec.getSeed(), step, 4, 0.5f, k)) {
          push(k, seq[k]++, step, step, model);
        } else {
          // Left out of this round: it has nothing to give to it.
          assertThat(code(() -> push(k, seq[k]++, step, step, model)))
              .isEqualTo(Status.Code.FAILED_PRECONDITION);
        }
      }
      long next = nextRoundWithALiveSample(v + 1);
      skipped += (int) (next - v - 1);
      assertThat(core().blockVersion(0)).as("after round %d", v).isEqualTo(next);
      assertThat(core().blockValues(0)[0]).as("round %d's mean", v).isEqualTo(model)
          .isNotEqualTo(before);
      assertThat(pull(0, next)).isEqualTo(next);
      v = next;
    }
    assertThat(skipped).as("rounds that sampled only absent indices").isPositive();
    assertThat(registry.get(MetricNames.SHARD_UPDATES).functionCounters().stream()
        .mapToDouble(c -> c.count()).sum()).as("a skipped round applies no update")
        .isEqualTo(30.0);
  }

  @Test
  void async_joinerReadsTheCurrentVersion_andItsFirstPushIsNotStale() throws Exception {
    start(Specs.spec(Mode.MODE_ASYNC, 1, 1f, 1).setMaxWorkers(2));
    for (int s = 0; s < 5; s++) {
      push(0, s + 1, s, s, 1f);
    }
    assertThat(core().blockVersion(0)).isEqualTo(5);
    long read = pull(1, 0);
    assertThat(read).isEqualTo(5);
    assertThat(live()).containsExactly(0, 1);
    PushResponse r = push(1, 1, 0, read, 1f);
    assertThat(r.getOutcome()).isEqualTo(PushOutcome.PUSH_APPLIED);
    assertThat(r.getBlocks(0).getStaleness()).isZero();
    assertThat(stub().status(StatusRequest.getDefaultInstance()).getStalenessMax()).isZero();
    // Worker 0 leaves; pushes of the one left go on, one update each.
    heartbeat(0, 0, true);
    assertThat(live()).containsExactly(1);
    assertThat(liveGauge()).isEqualTo(1);
    push(1, 2, 1, 6, 1f);
    assertThat(core().blockVersion(0)).isEqualTo(7);
    // And worker 1 expires: nobody is live, the model stays readable.
    expireAllBut(List.of());
    assertThat(live()).isEmpty();
    assertThat(pull(0, 0)).isEqualTo(7);
  }

  @Test
  void dasgd_joinerPushesItsBlocksOnlyAsAnyAsyncWorker() throws Exception {
    // Coordinate-wise async: the shard runs it as async; a joiner owns blocks like any worker.
    start(Specs.spec(Mode.MODE_ASYNC, 2, 1f, 1, 1).setMaxWorkers(3));
    assertThat(pull(2, 0)).isZero();
    assertThat(live()).containsExactly(0, 1, 2);
    assertThat(push(1, 2, 1, 0, 0, 1f).getBlocks(0).getStaleness()).isZero();
    assertThat(core().blockVersion(1)).isEqualTo(1);
    assertThat(core().blockVersion(0)).isZero();
  }

  @Test
  void ssp_joinerStartsAtTheSlowestLiveClock_andNeitherHoldsBackNorRunsAhead()
      throws Exception {
    start(Specs.spec(Mode.MODE_SSP, 2, 1f, 1).setStalenessBound(1).setMaxWorkers(3));
    heartbeat(0, 10, false);
    heartbeat(1, 10, false);
    // Worker 2 joins with its own clock 0: at the job's clock 10 it is not behind.
    assertThat(pullAsync(2, 0, 0).get(10, TimeUnit.SECONDS)).isZero();
    assertThat(pullAsync(0, 0, 11).get(10, TimeUnit.SECONDS)).isZero();
    // Worker 0 at 12 leads the slowest (10) by 2 > 1: it waits for workers 1 and 2.
    CompletableFuture<Long> ahead = pullAsync(0, 0, 12);
    heartbeat(1, 11, false);
    assertThat(ahead).isNotDone();
    heartbeat(2, 1, false); // its 11th clock
    assertThat(ahead.get(10, TimeUnit.SECONDS)).isZero();
    // The joiner cannot run ahead either: its own clock 3 is the job's 13.
    CompletableFuture<Long> joinerAhead = pullAsync(2, 0, 3);
    // Worker 1 leaves: the slowest live is now worker 0 (clock 12), and the joiner may read.
    heartbeat(1, 11, true);
    assertThat(joinerAhead.get(10, TimeUnit.SECONDS)).isZero();
    // Worker 0 expires: the joiner is alone and unbounded.
    expireAllBut(List.of(2));
    assertThat(live()).containsExactly(2);
    assertThat(pullAsync(2, 0, 50).get(10, TimeUnit.SECONDS)).isZero();
  }
}
