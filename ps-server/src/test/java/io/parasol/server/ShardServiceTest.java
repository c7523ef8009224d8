package io.parasol.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.parasol.common.FloatCodec;
import io.parasol.common.Refusals;
import io.parasol.proto.v1.DeleteRequest;
import io.parasol.proto.v1.InitRequest;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.PullChunk;
import io.parasol.proto.v1.PullRequest;
import io.parasol.proto.v1.PushHeader;
import io.parasol.proto.v1.PushKind;
import io.parasol.proto.v1.PushMessage;
import io.parasol.proto.v1.PushResponse;
import io.parasol.proto.v1.ShardGrpc;
import io.parasol.proto.v1.StatusRequest;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Shard service over real gRPC on 127.0.0.1: each bad input gets its precise status and
 * leaves every block bit-identical.
 */
class ShardServiceTest {
  private static final long DEADLINE_MS = 10_000;

  private ShardServer server;
  private ManagedChannel channel;
  private ShardGrpc.ShardBlockingStub blocking;
  private ShardGrpc.ShardStub async;
  private JobSpec spec;
  private String fp;

  /**
   * The shard's timer executor, except that one-shot tasks (a waiting pull's deadline answer)
   * are captured for the test to run, instead of racing the client's own deadline.
   */
  private static final class CapturingTimer extends ScheduledThreadPoolExecutor {
    final BlockingQueue<Runnable> deadlineTasks = new LinkedBlockingQueue<>();

    CapturingTimer() {
      super(1);
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable task, long delay, TimeUnit unit) {
      deadlineTasks.add(task);
      return super.schedule(() -> { }, 1, TimeUnit.DAYS);
    }
  }

  private final CapturingTimer timer = new CapturingTimer();

  @BeforeEach
  void start() throws Exception {
    server = new ShardServer(NettyServerBuilder.forAddress(
        new java.net.InetSocketAddress("127.0.0.1", 0)), 0, 0, null,
        io.parasol.server.clock.Ticker.system(), timer).start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    blocking = ShardGrpc.newBlockingStub(channel);
    async = ShardGrpc.newStub(channel);
    spec = Specs.spec(Mode.MODE_SYNC, 2, 0.1f, 4, 3).build();
    fp = blocking.withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS)
        .init(InitRequest.newBuilder().setSpec(spec).setShard(0).build()).getFingerprint();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.stop(5, TimeUnit.SECONDS);
  }

  private ShardGrpc.ShardBlockingStub b() {
    return blocking.withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS);
  }

  /** The push's outcome: the response, or the status it failed with. */
  private Object push(PushMessage... msgs) throws Exception {
    CompletableFuture<Object> done = new CompletableFuture<>();
    StreamObserver<PushMessage> req = async.withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS)
        .push(new StreamObserver<>() {
          PushResponse resp;

          @Override
          public void onNext(PushResponse r) {
            resp = r;
          }

          @Override
          public void onError(Throwable t) {
            done.complete(Status.fromThrowable(t));
          }

          @Override
          public void onCompleted() {
            done.complete(resp);
          }
        });
    for (PushMessage m : msgs) {
      req.onNext(m);
    }
    req.onCompleted();
    return done.get(DEADLINE_MS, TimeUnit.MILLISECONDS);
  }

  private float[][] snapshot() {
    return new float[][] {server.core().blockValues(0), server.core().blockValues(1)};
  }

  private void assertUnchanged(float[][] before) {
    float[][] now = snapshot();
    for (int i = 0; i < before.length; i++) {
      assertThat(floatBits(now[i])).isEqualTo(floatBits(before[i]));
      assertThat(server.core().blockVersion(i)).isZero();
    }
  }

  private static int[] floatBits(float[] v) {
    int[] out = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = Float.floatToRawIntBits(v[i]);
    }
    return out;
  }

  private static void assertStatus(Object outcome, Status.Code code, String fragment) {
    assertThat(outcome).isInstanceOf(Status.class);
    Status s = (Status) outcome;
    assertThat(s.getCode()).isEqualTo(code);
    assertThat(s.getDescription()).contains(fragment);
  }

  private PushHeader.Builder header(int block) {
    return Specs.header(spec, 0, 1, 0, PushKind.PUSH_GRADIENT, block, 0).toBuilder();
  }

  @Test
  void health_reportsServing() {
    HealthCheckResponse r = HealthGrpc.newBlockingStub(channel)
        .withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS)
        .check(HealthCheckRequest.newBuilder().setService(ShardGrpc.SERVICE_NAME).build());
    assertThat(r.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
  }

  @Test
  void init_sameSpecIsIdempotent() {
    var r = b().init(InitRequest.newBuilder().setSpec(spec).setShard(0).build());
    assertThat(r.getFingerprint()).isEqualTo(fp);
    assertThat(r.getCreated()).isFalse();
  }

  @Test
  void init_differentSpec_failedPrecondition() {
    float[][] before = snapshot();
    JobSpec other = spec.toBuilder().setLearningRate(0.2f).setNumWorkers(3).build();
    StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(
        StatusRuntimeException.class,
        () -> b().init(InitRequest.newBuilder().setSpec(other).setShard(0).build()));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(e.getStatus().getDescription()).contains("already serves job")
        .contains("lr 0.1 vs 0.2").contains("workers " + spec.getNumWorkers() + " vs 3");
    assertUnchanged(before);
  }

  @Test
  void init_differentLrSchedule_failedPreconditionNamingTheFlag() {
    float[][] before = snapshot();
    JobSpec other = spec.toBuilder().setLrSchedule(io.parasol.proto.v1.LrSchedule.newBuilder()
        .setKind(io.parasol.proto.v1.LrScheduleKind.LR_SCHEDULE_COSINE).setHorizon(938))
        .build();
    StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(
        StatusRuntimeException.class,
        () -> b().init(InitRequest.newBuilder().setSpec(other).setShard(0).build()));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(e.getStatus().getDescription()).contains("already serves job")
        .contains("lr-schedule").contains("constant vs cosine over 938 updates");
    assertUnchanged(before);
  }

  @Test
  void init_invalidSpec_invalidArgument() {
    JobSpec bad = spec.toBuilder().setLearningRate(Float.NaN).setNumWorkers(0).build();
    StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(
        StatusRuntimeException.class,
        () -> b().init(InitRequest.newBuilder().setSpec(bad).setShard(0).build()));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(e.getStatus().getDescription()).contains("learning_rate").contains("num_workers");
  }

  @Test
  void pull_returnsEveryBlockWithItsVersion() {
    Iterator<PullChunk> it = b().pull(PullRequest.newBuilder().setFingerprint(fp).build());
    List<PullChunk> chunks = new ArrayList<>();
    it.forEachRemaining(chunks::add);
    assertThat(chunks).hasSize(2);
    assertThat(FloatCodec.decode(chunks.get(0).getChunk().getValues()))
        .isEqualTo(server.core().blockValues(0));
    assertThat(chunks.get(1).getVersion()).isZero();
  }

  @Test
  void pull_unknownBlock_notFound() {
    StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(
        StatusRuntimeException.class,
        () -> b().pull(PullRequest.newBuilder().setFingerprint(fp).addBlockIds(9).build())
            .hasNext());
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(e.getStatus().getDescription()).contains("unknown block 9");
  }

  @Test
  void pull_wrongFingerprint_failedPrecondition() {
    StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(
        StatusRuntimeException.class,
        () -> b().pull(PullRequest.newBuilder().setFingerprint("nope").build()).hasNext());
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(e.getStatus().getDescription()).contains("fingerprint");
  }

  @Test
  void pull_barrierEndsAtTheDeadlineAndSaysWhy() throws Exception {
    for (int block = 0; block < 2; block++) {
      float[] g = new float[block == 0 ? 4 : 3];
      assertThat(push(Specs.headerMsg(header(block).setSequence(block + 1).build()),
          Specs.chunkMsg(block, 0, g))).isInstanceOf(PushResponse.class);
    }
    // The pull waits at the barrier; the shard schedules its answer for just before the
    // caller's deadline. The test runs that task itself once the shard scheduled it: the
    // client's own (long) deadline never races it, however loaded the machine is.
    java.util.concurrent.Future<StatusRuntimeException> pulled =
        java.util.concurrent.Executors.newSingleThreadExecutor().submit(() ->
            org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                () -> blocking.withDeadlineAfter(60, TimeUnit.SECONDS).pull(PullRequest
                    .newBuilder().setFingerprint(fp).setMinVersion(1).build()).hasNext()));
    Runnable answer = timer.deadlineTasks.poll(60, TimeUnit.SECONDS);
    assertThat(answer).as("the shard scheduled the pull's deadline answer").isNotNull();
    answer.run();
    StatusRuntimeException e = pulled.get(60, TimeUnit.SECONDS);
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    System.out.println("barrier timeout: " + e.getStatus().getDescription());
    assertThat(e.getStatus().getDescription())
        .contains("block 0 is at version 0, the pull needs 1")
        .contains("step 0 has contributions from workers {0} and completes at 2")
        .contains("live workers [0, 1]");
  }

  @Test
  void pull_waitingWhenItsJobIsDeleted_isAnsweredAtOnceWithJobEnded() throws Exception {
    for (int block = 0; block < 2; block++) {
      float[] g = new float[block == 0 ? 4 : 3];
      assertThat(push(Specs.headerMsg(header(block).setSequence(block + 1).build()),
          Specs.chunkMsg(block, 0, g))).isInstanceOf(PushResponse.class);
    }
    java.util.concurrent.ExecutorService client =
        java.util.concurrent.Executors.newSingleThreadExecutor();
    try {
      // Worker 0 waits for round 0, which worker 1 never completes. Its deadline (10 min) is
      // far past the bounded wait below, and the shard's own deadline answer is captured and
      // never run: only the deletion can end this pull in time.
      java.util.concurrent.Future<StatusRuntimeException> pulled = client.submit(() ->
          org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
              () -> blocking.withDeadlineAfter(10, TimeUnit.MINUTES).pull(PullRequest
                  .newBuilder().setJobName("test").setFingerprint(fp).setMinVersion(1).build())
                  .hasNext()));
      // The shard schedules the deadline answer right after the pull started waiting.
      assertThat(timer.deadlineTasks.poll(60, TimeUnit.SECONDS))
          .as("the pull waits at the barrier").isNotNull();
      assertThat(b().delete(DeleteRequest.newBuilder().setJobName("test").setFingerprint(fp)
          .build()).getDeleted()).isTrue();

      StatusRuntimeException e = pulled.get(60, TimeUnit.SECONDS);
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
      assertThat(e.getStatus().getDescription())
          .isEqualTo("job 'test' was deleted on shard 0 while this pull waited");
      assertThat(Refusals.reason(e)).isEqualTo(Refusals.JOB_ENDED);
      assertThat(Refusals.info(e).getMetadataMap()).containsEntry("job", "test")
          .containsEntry("ended", "deleted").containsEntry("shard", "0")
          .containsKey("incarnation");
      // Nothing else waits, and the job is gone: a new pull finds no job.
      assertThat(server.core().waitingPulls()).isZero();
      StatusRuntimeException after = org.junit.jupiter.api.Assertions.assertThrows(
          StatusRuntimeException.class, () -> b().pull(PullRequest.newBuilder()
              .setJobName("test").setFingerprint(fp).setMinVersion(1).build()).hasNext());
      assertThat(Refusals.reason(after)).isEqualTo(Refusals.JOB_UNKNOWN);
    } finally {
      client.shutdownNow();
    }
  }

  @Test
  void push_valid_isAccepted() throws Exception {
    Object r = push(Specs.headerMsg(header(0).build()), Specs.chunkMsg(0, 0, 1f, 2f, 3f, 4f));
    assertThat(r).isInstanceOf(PushResponse.class);
  }

  @Test
  void push_unknownBlock_notFound() throws Exception {
    float[][] before = snapshot();
    assertStatus(push(Specs.headerMsg(header(5).build()), Specs.chunkMsg(5, 0, 1f)),
        Status.Code.NOT_FOUND, "unknown block 5");
    assertUnchanged(before);
  }

  @Test
  void push_tooManyValues_invalidArgument() throws Exception {
    float[][] before = snapshot();
    assertStatus(push(Specs.headerMsg(header(1).build()), Specs.chunkMsg(1, 0, 1f, 2f, 3f, 4f)),
        Status.Code.INVALID_ARGUMENT, "block has 3 values");
    assertUnchanged(before);
  }

  @Test
  void push_truncated_invalidArgument() throws Exception {
    float[][] before = snapshot();
    assertStatus(push(Specs.headerMsg(header(0).build()), Specs.chunkMsg(0, 0, 1f, 2f)),
        Status.Code.INVALID_ARGUMENT, "at 2 of 4 values");
    assertUnchanged(before);
  }

  @Test
  void push_nan_invalidArgument() throws Exception {
    float[][] before = snapshot();
    assertStatus(push(Specs.headerMsg(header(0).build()),
        Specs.chunkMsg(0, 0, 1f, Float.NaN, 3f, 4f)), Status.Code.INVALID_ARGUMENT, "NaN");
    assertStatus(push(Specs.headerMsg(header(0).build()),
        Specs.chunkMsg(0, 0, 1f, Float.POSITIVE_INFINITY, 3f, 4f)),
        Status.Code.INVALID_ARGUMENT, "infinite");
    assertUnchanged(before);
  }

  @Test
  void push_partialFloat_invalidArgument() throws Exception {
    float[][] before = snapshot();
    assertStatus(push(Specs.headerMsg(header(0).build()),
        Specs.chunkMsg(0, 0, ByteString.copyFrom(new byte[] {1, 2, 3, 4, 5}))),
        Status.Code.INVALID_ARGUMENT, "not a whole number of float32 values");
    assertUnchanged(before);
  }

  @Test
  void push_gapOrOverlap_invalidArgument() throws Exception {
    float[][] before = snapshot();
    assertStatus(push(Specs.headerMsg(header(0).build()), Specs.chunkMsg(0, 0, 1f, 2f),
        Specs.chunkMsg(0, 1, 3f, 4f, 5f)), Status.Code.INVALID_ARGUMENT, "expected 2");
    assertUnchanged(before);
  }

  @Test
  void push_withoutHeader_invalidArgument() throws Exception {
    float[][] before = snapshot();
    assertStatus(push(Specs.chunkMsg(0, 0, 1f, 2f, 3f, 4f)), Status.Code.INVALID_ARGUMENT,
        "must start with a header");
    assertStatus(push(), Status.Code.INVALID_ARGUMENT, "without a header");
    assertUnchanged(before);
  }

  @Test
  void push_wrongFingerprint_failedPrecondition() throws Exception {
    float[][] before = snapshot();
    assertStatus(push(Specs.headerMsg(header(0).setFingerprint("other").build()),
        Specs.chunkMsg(0, 0, 1f, 2f, 3f, 4f)), Status.Code.FAILED_PRECONDITION, "fingerprint");
    assertUnchanged(before);
  }

  @Test
  void push_workerOutOfRange_invalidArgument() throws Exception {
    float[][] before = snapshot();
    assertStatus(push(Specs.headerMsg(header(0).setWorker(7).build()),
        Specs.chunkMsg(0, 0, 1f, 2f, 3f, 4f)), Status.Code.INVALID_ARGUMENT, "worker 7");
    assertUnchanged(before);
  }

  @Test
  void push_modelInSyncMode_invalidArgument() throws Exception {
    float[][] before = snapshot();
    assertStatus(push(Specs.headerMsg(header(0).setKind(PushKind.PUSH_MODEL).build()),
        Specs.chunkMsg(0, 0, 1f, 2f, 3f, 4f)), Status.Code.INVALID_ARGUMENT, "takes");
    assertUnchanged(before);
  }

  @Test
  void push_stepThatIsOver_aborted() throws Exception {
    JobSpec s = spec;
    for (int w = 0; w < 2; w++) {
      assertThat(push(Specs.headerMsg(Specs.header(s, w, 1, 0, PushKind.PUSH_GRADIENT, 1, 0)),
          Specs.chunkMsg(1, 0, 1f, 1f, 1f))).isInstanceOf(PushResponse.class);
    }
    float[] block1 = server.core().blockValues(1);
    assertStatus(push(Specs.headerMsg(Specs.header(s, 0, 2, 0, PushKind.PUSH_GRADIENT, 1, 0)),
        Specs.chunkMsg(1, 0, 9f, 9f, 9f)), Status.Code.ABORTED, "step 0 is over");
    assertThat(server.core().blockValues(1)).isEqualTo(block1);
    assertThat(server.core().blockVersion(1)).isEqualTo(1);
    var st = b().status(StatusRequest.getDefaultInstance());
    assertThat(st.getPushesDroppedLate()).isEqualTo(1);
  }

  @Test
  void status_reportsCounters() throws Exception {
    push(Specs.chunkMsg(0, 0, 1f));
    var st = b().status(StatusRequest.getDefaultInstance());
    assertThat(st.getInitialised()).isTrue();
    assertThat(st.getFingerprint()).isEqualTo(fp);
    assertThat(st.getBlocksCount()).isEqualTo(2);
    assertThat(st.getPushesRejected()).isEqualTo(1);
  }

}
