package io.parasol.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.parasol.proto.v1.Mode;
import io.parasol.server.LocalCluster;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The client against two real shards on 127.0.0.1. */
class ParasolClientTest {
  private LocalCluster cluster;

  @BeforeEach
  void start() throws Exception {
    cluster = LocalCluster.start(2, null);
  }

  @AfterEach
  void stop() {
    cluster.close();
  }

  /** Two tensors of zeros, plain SGD with η = 0.5, small blocks so both shards get some. */
  static Job.Builder zerosJob(String name) {
    return Job.builder(name).tensor("w", Job.Init.zeros(), 4, 3)
        .tensor("b", Job.Init.zeros(), 3).learningRate(0.5f).maxBlockSize(4);
  }

  private ParasolClientBuilder client(Job job) {
    return ParasolClient.builder().servers(cluster.addresses()).job(job)
        .deadline(Duration.ofSeconds(20)).heartbeats(false);
  }

  static float[] zerosGradient(int n, float v) {
    return filled(n, v);
  }

  private static float[] filled(int n, float v) {
    float[] a = new float[n];
    Arrays.fill(a, v);
    return a;
  }

  @Test
  void pullPush_roundTrip_advancesVersionsAndValues() {
    try (ParasolClient ps = client(zerosJob("round-trip").build()).build()) {
      assertThat(ps.dimension()).isEqualTo(15);
      assertThat(ps.numBlocks()).isEqualTo(4);
      float[] x = filled(15, 9f);
      Versions read = ps.pull(x, 0).await();
      assertThat(x).containsOnly(0f);
      assertThat(read).isEqualTo(Versions.zeros(4));

      PushResult r = ps.push(filled(15, 1f), read).await();
      assertThat(r.accepted()).isTrue();
      assertThat(r.maxStaleness()).isZero();
      assertThat(r.responses()).hasSize(2);
      assertThat(ps.clock()).isEqualTo(1);

      Versions after = ps.pull(x, 1).await();
      assertThat(x).containsOnly(-0.5f);
      assertThat(after.toArray()).containsOnly(1L);
      assertThat(ps.status().versions()).isEqualTo(after);
      assertThat(ps.status().pushesApplied()).isEqualTo(2); // one per shard
    }
  }

  @Test
  void handles_manyInFlight_completeIndependently() {
    try (ParasolClient ps = client(zerosJob("async").build()).build()) {
      Versions v0 = ps.pull(new float[15], 0).await();
      Handle<PushResult> a = ps.push(filled(15, 1f), v0);
      Handle<PushResult> b = ps.push(filled(15, 1f), v0);
      assertThat(b.await().accepted()).isTrue();
      assertThat(a.await().accepted()).isTrue();
      float[] x = new float[15];
      Versions v2 = ps.pushPull(filled(15, 2f), v0, x, 3).await();
      assertThat(v2.toArray()).containsOnly(3L);
      assertThat(x).containsOnly(-2f); // -0.5 - 0.5 - 1.0
      assertThat(ps.clock()).isEqualTo(3);
      // a stage to chain on
      assertThat(ps.pull(new float[15], 0).toCompletionStage().toCompletableFuture().join()
          .max()).isEqualTo(3);
    }
  }

  /** Sync, one worker: each pushPull (one PushPull call per shard) reads the step it ended. */
  @Test
  void pushPull_sync_readsTheStepItsPushCompleted_andRefusesBadArgumentsBeforeSending() {
    Job job = zerosJob("pushpull-sync").mode(Mode.MODE_SYNC).workers(1).build();
    try (ParasolClient ps = client(job).build()) {
      float[] x = new float[15];
      Versions v0 = ps.pull(x, 0).await();
      Versions v1 = ps.pushPull(filled(15, 1f), v0, x, 1).await();
      assertThat(v1.toArray()).containsOnly(1L);
      assertThat(x).containsOnly(-0.5f);
      Versions v2 = ps.pushPull(filled(15, 2f), v1, x, 2).await();
      assertThat(v2.toArray()).containsOnly(2L);
      assertThat(x).containsOnly(-1.5f);
      assertThat(ps.clock()).isEqualTo(2);

      float[] nan = filled(15, 1f);
      nan[7] = Float.NaN;
      for (Handle<Versions> bad : List.of(ps.pushPull(new float[14], v2, x, 3),
          ps.pushPull(filled(15, 1f), v2, new float[16], 3),
          ps.pushPull(nan, v2, x, 3))) {
        assertThatThrownBy(bad::await).isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
      }
      assertThat(ps.status().versions().toArray()).as("nothing sent").containsOnly(2L);
      assertThat(x).containsOnly(-1.5f);
    }
  }

  @Test
  void pushBlocks_updatesOnlyThoseBlocks() {
    try (ParasolClient ps = client(zerosJob("dasgd").build()).build()) {
      Versions v0 = ps.pull(new float[15], 0).await();
      ps.push(filled(15, 1f), v0, new int[] {1}, 0.25f).await();
      float[] x = new float[15];
      Versions v1 = ps.pull(x, 0).await();
      assertThat(v1.toArray()).containsExactly(0, 1, 0, 0);
      int off = ps.layout().block(1).offset();
      int len = ps.layout().block(1).length();
      for (int i = 0; i < 15; i++) {
        assertThat(x[i]).isEqualTo(i >= off && i < off + len ? -0.5f : 0f);
      }
    }
  }

  @Test
  void byteBuffers_pullAndPushInPlace() {
    try (ParasolClient ps = client(zerosJob("buffers").build()).build()) {
      ByteBuffer x = ByteBuffer.allocateDirect(15 * 4).order(ByteOrder.nativeOrder());
      Versions v0 = ps.pull(x, 0).await();
      ByteBuffer g = ByteBuffer.allocateDirect(15 * 4).order(ByteOrder.nativeOrder());
      for (int i = 0; i < 15; i++) {
        g.putFloat(i * 4, i);
      }
      ps.push(g, v0, null, Float.NaN).await();
      ps.pull(x, 1).await();
      for (int i = 0; i < 15; i++) {
        assertThat(x.getFloat(i * 4)).isEqualTo(-0.5f * i);
      }
    }
  }

  @Test
  void pull_barrierNotReached_failsWithDeadlineExceeded() {
    Job job = zerosJob("barrier").mode(Mode.MODE_SYNC).workers(2).build();
    try (ParasolClient ps = client(job).deadline(Duration.ofSeconds(2))
        .pullDeadline(Duration.ofMillis(300)).build();
        ParasolClient other = client(job).worker(1).build()) {
      other.heartbeat(); // worker 1 is live, so step 0 needs its gradient too
      Versions v0 = ps.pull(new float[15], 0).await();
      assertThat(ps.push(filled(15, 1f), v0).await().accepted()).isTrue();
      // Step 1 needs both workers' gradients for step 0; worker 1 never pushes.
      Handle<Versions> h = ps.pull(new float[15], 1);
      assertThatThrownBy(h::await).isInstanceOfSatisfying(StatusRuntimeException.class,
          e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
      assertThat(ps.status().versions().max()).isZero();
    }
  }

  @Test
  void push_wrongLength_isInvalidArgumentAndChangesNothing() {
    try (ParasolClient ps = client(zerosJob("bad-input").build()).build()) {
      Versions v0 = ps.pull(new float[15], 0).await();
      assertCode(ps.push(new float[14], v0), Status.Code.INVALID_ARGUMENT);
      assertCode(ps.push(new float[16], v0), Status.Code.INVALID_ARGUMENT);
      assertCode(ps.push(new float[15], Versions.zeros(3)), Status.Code.INVALID_ARGUMENT);
      assertCode(ps.push(new float[15], v0, new int[] {4}, 0f), Status.Code.INVALID_ARGUMENT);
      assertCode(ps.pull(new float[3], 0), Status.Code.INVALID_ARGUMENT);
      // A NaN in one block: refused before any shard applies the others.
      float[] nan = filled(15, 1f);
      nan[7] = Float.NaN;
      assertCode(ps.push(nan, v0), Status.Code.INVALID_ARGUMENT);
      float[] x = filled(15, 5f);
      assertThat(ps.pull(x, 0).await()).isEqualTo(v0);
      assertThat(x).containsOnly(0f);
      assertThat(ps.status().pushesApplied()).isZero();
      assertThat(ps.clock()).isZero();
    }
  }

  @Test
  void joinByName_readsLayoutAndFingerprintFromTheShards() {
    Job job = zerosJob("shared").workers(2).build();
    try (ParasolClient first = client(job).build();
        ParasolClient second = ParasolClient.builder().servers(cluster.addresses())
            .job("shared").worker(1).heartbeats(false).build()) {
      assertThat(second.fingerprint()).isEqualTo(first.fingerprint());
      assertThat(second.dimension()).isEqualTo(15);
      assertThat(second.layout().blocks()).extracting(b -> b.shard())
          .isEqualTo(first.layout().blocks().stream().map(b -> b.shard()).toList());
      Versions v = second.pull(new float[15], 0).await();
      second.push(filled(15, 1f), v).await();
      float[] x = new float[15];
      first.pull(x, 1).await();
      assertThat(x).containsOnly(-0.5f);
    }
    assertThatThrownBy(() -> ParasolClient.builder().servers(cluster.addresses())
        .job("other").heartbeats(false).build())
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
  }

  @Test
  void build_sameJobNameOtherSettings_isFailedPrecondition_anotherNameIsAnotherJob() {
    try (ParasolClient ps = client(zerosJob("one").build()).build()) {
      assertThat(ps.fingerprint()).isNotEmpty();
      assertThatThrownBy(() -> client(zerosJob("one").learningRate(0.25f).build()).build())
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(
              e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION));
      // Shards hold several jobs side by side, by name.
      try (ParasolClient two = client(zerosJob("two").build()).build()) {
        assertThat(two.fingerprint()).isNotEqualTo(ps.fingerprint());
      }
    }
  }

  @Test
  void builder_badSettings_areRefusedBeforeConnecting() {
    Job job = zerosJob("settings").build();
    assertThatThrownBy(() -> ParasolClient.builder().job(job).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("servers");
    assertThatThrownBy(() -> ParasolClient.builder().servers(List.of("127.0.0.1:1")).job(job)
        .worker(1).build()).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("worker must be in 0..0");
  }

  static void assertCode(Handle<?> h, Status.Code code) {
    assertThatThrownBy(h::await).isInstanceOfSatisfying(StatusRuntimeException.class,
        e -> assertThat(e.getStatus().getCode()).isEqualTo(code));
  }
}
