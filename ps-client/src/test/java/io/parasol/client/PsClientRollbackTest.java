package io.parasol.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.parasol.common.BlockLayout;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.PushKind;
import io.parasol.server.ShardServer;
import io.parasol.server.checkpoint.Checkpoints;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A shard restarted from a checkpoint (or without its job) on the same port of 127.0.0.1: the
 * client notices the new incarnation, reports one {@link ShardRollback} per restart, and pulls
 * and pushes on.
 */
class PsClientRollbackTest {
  @TempDir
  Path dir;

  private ShardServer shard;
  private PsClient client;

  @AfterEach
  void stop() throws InterruptedException {
    if (client != null) {
      client.close();
    }
    if (shard != null) {
      shard.stop(1, TimeUnit.SECONDS);
    }
  }

  private static Job job(Mode mode) {
    return Job.builder("rollback").tensor("w", Job.Init.zeros(), 4, 3).mode(mode)
        .learningRate(0.5f).maxBlockSize(4).workers(1).build();
  }

  private ShardServer start(int port, boolean checkpointing) throws Exception {
    ShardServer s = ShardServer.forAddress("127.0.0.1", port, 0, null);
    if (checkpointing) {
      s.checkpointing(new Checkpoints(dir, 0), Duration.ofHours(1), 0);
    }
    return s.start();
  }

  /** Halts the shard (no last checkpoint) and starts a new one on the same port. */
  private void restart(boolean checkpointing) throws Exception {
    int port = shard.port();
    shard.halt();
    shard = start(port, checkpointing);
  }

  private PsClient connect(BlockLayout layout) {
    return PsClient.connect(List.of("127.0.0.1:" + shard.port()), layout,
        Duration.ofSeconds(20), Duration.ofSeconds(20));
  }

  private static float[] ones(int n) {
    float[] g = new float[n];
    Arrays.fill(g, 1f);
    return g;
  }

  @Test
  void pushComputedBeforeARestore_isRefusedAsRolledBack_thenRepullAndPushSucceed()
      throws Exception {
    Job job = job(Mode.MODE_ASYNC);
    BlockLayout layout = job.layout(1);
    shard = start(0, true);
    client = connect(layout);
    client.init(job.spec(1));
    float[] x = new float[layout.dimension()];
    float[] g = ones(layout.dimension());
    long[] read = client.pull(0, x, 0, 0);
    client.push(0, 0, PushKind.PUSH_GRADIENT, g, read, null, Float.NaN);
    assertThat(shard.checkpointIfChanged()).isTrue(); // at version 1
    read = client.pull(0, x, 0, 0);
    client.push(0, 1, PushKind.PUSH_GRADIENT, g, read, null, Float.NaN);
    read = client.pull(0, x, 0, 0); // version 2, lost with the restart
    assertThat(read).containsOnly(2L);
    assertThat(client.drainRollbacks()).isEmpty();

    restart(true);
    PsClient.ShardOutcome[] out = client.pushEach(0, new long[] {2}, PushKind.PUSH_GRADIENT,
        g, read, null, Float.NaN);
    assertThat(out[0].ok()).isFalse();
    assertThat(out[0].status().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(out[0].rollback()).isNotNull();
    assertThat(out[0].rollback().kind()).isEqualTo(ShardRollback.Kind.PUSH_REFUSED);
    List<ShardRollback> events = client.drainRollbacks();
    assertThat(events).hasSize(1);
    assertThat(events.get(0).incarnation()).isEqualTo(shard.core().incarnation());
    assertThat(events.get(0).previousIncarnation()).isNotEqualTo(shard.core().incarnation());
    // Seen at version 2, restored at 1 (the checkpoint): one update lost.
    assertThat(events.get(0).seenBefore().values()).containsOnly(2L);
    assertThat(events.get(0).restored().values()).containsOnly(1L);
    assertThat(events.get(0).updatesLost()).isEqualTo(1);
    assertThat(shard.core().blockVersion(0)).isEqualTo(1);

    read = client.pull(0, x, 0, 0);
    assertThat(read).containsOnly(1L);
    assertThat(x).containsOnly(-0.5f);
    assertThat(client.push(0, 1, PushKind.PUSH_GRADIENT, g, read, null, Float.NaN)[0]
        .getIncarnation()).isEqualTo(shard.core().incarnation());
    assertThat(client.drainRollbacks()).as("one event per restart").isEmpty();
    assertThat(client.rollbacks()).isEqualTo(1);
    assertThat(shard.core().blockVersion(0)).isEqualTo(2);
  }

  @Test
  void pushClaimingVersionsAheadOfTheShard_isFailedPreconditionWithReason() throws Exception {
    Job job = job(Mode.MODE_ASYNC);
    BlockLayout layout = job.layout(1);
    shard = start(0, false);
    client = connect(layout);
    client.init(job.spec(1));
    long[] ahead = new long[layout.numBlocks()];
    Arrays.fill(ahead, 888);
    assertThatThrownBy(() -> client.push(0, 0, PushKind.PUSH_GRADIENT,
        ones(layout.dimension()), ahead, null, Float.NaN))
        .isInstanceOfSatisfying(ShardRolledBackException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
          assertThat(e.getStatus().getDescription()).contains("claims version 888");
        });
    assertThat(shard.core().blockVersion(0)).isZero();
  }

  @Test
  void syncPullWaitingForAVersionTheRestoredShardIsBehind_answersAtOnce() throws Exception {
    Job job = job(Mode.MODE_SYNC);
    BlockLayout layout = job.layout(1);
    shard = start(0, true);
    client = connect(layout);
    client.init(job.spec(1));
    float[] x = new float[layout.dimension()];
    float[] g = ones(layout.dimension());
    assertThat(shard.checkpointIfChanged()).isTrue(); // at version 0
    long[] read = client.pull(0, x, 0, 0);
    client.push(0, 0, PushKind.PUSH_GRADIENT, g, read, null, Float.NaN);
    read = client.pull(0, x, 1, 0);
    assertThat(read).containsOnly(1L);

    restart(true);
    // Without the incarnation in the request this pull would wait for version 2 forever.
    read = client.pull(0, x, 2, 0);
    assertThat(read).containsOnly(0L);
    assertThat(x).containsOnly(0f);
    assertThat(client.drainRollbacks()).singleElement().satisfies(r -> {
      assertThat(r.kind()).isEqualTo(ShardRollback.Kind.RESTARTED);
      assertThat(r.updatesLost()).as("seen at 1, restored at 0").isEqualTo(1);
    });
  }

  @Test
  void shardRestartedWithoutItsJob_isJobLost_andRedeclareRecovers() throws Exception {
    Job job = job(Mode.MODE_ASYNC);
    BlockLayout layout = job.layout(1);
    shard = start(0, false);
    client = connect(layout);
    client.init(job.spec(1));
    float[] x = new float[layout.dimension()];
    long[] read = client.pull(0, x, 0, 0);
    client.push(0, 0, PushKind.PUSH_GRADIENT, ones(layout.dimension()), read, null, Float.NaN);

    restart(false);
    assertThatThrownBy(() -> client.pull(0, x, 0, 0))
        .isInstanceOfSatisfying(ShardRolledBackException.class, e -> {
          assertThat(e.rollback().kind()).isEqualTo(ShardRollback.Kind.JOB_LOST);
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        });
    // The push's acknowledgement said version 1; the shard has no job: all of it lost.
    assertThat(client.drainRollbacks()).singleElement()
        .extracting(ShardRollback::updatesLost).isEqualTo(1L);
    client.redeclare();
    read = client.pull(0, x, 0, 0);
    assertThat(read).containsOnly(0L);
    assertThat(client.drainRollbacks()).isEmpty();
  }

  @Test
  void redeclare_withoutASpec_isFailedPrecondition() throws Exception {
    Job job = job(Mode.MODE_ASYNC);
    shard = start(0, false);
    client = connect(job.layout(1));
    assertThatThrownBy(client::redeclare).isInstanceOfSatisfying(
        io.grpc.StatusRuntimeException.class,
        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION));
  }

  @Test
  void initLargerThanTheShardMayHold_isRefusedOnceWithItsReason_notRetried() throws Exception {
    Job job = Job.builder("too-big").tensor("w", Job.Init.zeros(), 1 << 20, 4).mode(Mode.MODE_SYNC)
        .learningRate(0.5f).workers(1).build();
    BlockLayout layout = job.layout(1);
    shard = start(0, false);
    shard.core().maxBytes(1 << 20);
    client = connect(layout);
    io.grpc.StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(
        io.grpc.StatusRuntimeException.class, () -> client.init(job.spec(1)));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(io.parasol.common.Refusals.reason(e))
        .isEqualTo(io.parasol.common.Refusals.SHARD_TOO_SMALL);
    assertThat(client.retries()).as("a permanent refusal is not retried").isZero();
  }
}
