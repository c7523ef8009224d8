package io.parasol.server.robustness;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.parasol.common.JobSpecs;
import io.parasol.proto.v1.BlockSpec;
import io.parasol.proto.v1.HeartbeatRequest;
import io.parasol.proto.v1.InitKind;
import io.parasol.proto.v1.InitRequest;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.ShardGrpc;
import io.parasol.server.ShardServer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Failure detection from the transport: a worker whose last connection to a shard closes
 * leaves the live set at once, long before its lease (an hour here) would end; one with another
 * connection open stays; a call with another job's fingerprint ties no worker to a connection.
 */
class ConnectionLossTest {
  private final List<ManagedChannel> channels = new ArrayList<>();
  private ShardServer server;
  private String fp;
  /** Workers whose last connection the shard reported lost, in order. */
  private final java.util.concurrent.BlockingQueue<Integer> lost =
      new java.util.concurrent.LinkedBlockingQueue<>();

  @AfterEach
  void tearDown() throws Exception {
    for (ManagedChannel c : channels) {
      c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.stop(5, TimeUnit.SECONDS);
    }
  }

  private ManagedChannel channel() {
    ManagedChannel c = Wire.channelTo(server.port());
    channels.add(c);
    return c;
  }

  private void start() throws Exception {
    server = ShardServer.forAddress("127.0.0.1", 0, 0, null).start();
    server.core().onConnectionLost(lost::add);
    JobSpec spec = JobSpec.newBuilder().setJobName("conn").setMode(Mode.MODE_SYNC)
        .setNumShards(1).setNumWorkers(3).setLearningRate(0.1f).setSeed(1)
        .setLeaseMillis(3_600_000)
        .addBlocks(BlockSpec.newBuilder().setId(0).setName("b").setLength(4).setShard(0)
            .setInit(InitKind.INIT_ZEROS))
        .build();
    fp = JobSpecs.fingerprint(spec);
    ShardGrpc.newBlockingStub(channel()).withDeadlineAfter(10, TimeUnit.SECONDS)
        .init(InitRequest.newBuilder().setSpec(spec).setShard(0).build());
  }

  private void heartbeat(ManagedChannel c, int worker, String fingerprint) {
    try {
      ShardGrpc.newBlockingStub(c).withDeadlineAfter(10, TimeUnit.SECONDS).heartbeat(
          HeartbeatRequest.newBuilder().setFingerprint(fingerprint).setWorker(worker).build());
    } catch (io.grpc.StatusRuntimeException e) {
      // a refused heartbeat is part of the test
    }
  }

  private boolean live(int worker) {
    return server.core().status().getLiveWorkersList().contains(worker);
  }

  /** Waits until the shard has handled the loss of {@code worker}'s last connection. */
  private void awaitLost(int worker) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    for (Integer w = lost.poll(20, TimeUnit.SECONDS); w != null && w != worker;
        w = lost.poll(Math.max(0, end - System.nanoTime()), TimeUnit.NANOSECONDS)) {
      // another worker's loss
    }
  }

  @Test
  void lastConnectionClosed_workerLeavesTheLiveSetAtOnce() throws Exception {
    start();
    ManagedChannel a = channel();
    ManagedChannel b = channel();
    heartbeat(a, 1, fp);
    heartbeat(b, 2, fp);
    assertThat(live(1)).isTrue();
    assertThat(live(2)).isTrue();

    b.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    awaitLost(2);
    assertThat(live(2)).as("worker 2's only connection closed").isFalse();
    assertThat(live(1)).as("worker 1's connection is open").isTrue();

    heartbeat(channel(), 2, fp);
    assertThat(live(2)).as("a worker reported lost rejoins with its next call").isTrue();
  }

  @Test
  void anotherOpenConnection_keepsTheWorker() throws Exception {
    start();
    ManagedChannel a = channel();
    ManagedChannel b = channel();
    heartbeat(a, 1, fp);
    heartbeat(b, 1, fp);
    a.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    // The same worker's other connection is open: the shard must not report it. Close a
    // bystander connection afterwards and wait for its effect, so that the first close has
    // surely been handled.
    ManagedChannel c = channel();
    heartbeat(c, 0, fp);
    c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    awaitLost(0);
    assertThat(live(0)).isFalse();
    assertThat(live(1)).as("worker 1 still has a connection").isTrue();
    b.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    awaitLost(1);
    assertThat(live(1)).isFalse();
  }

  @Test
  void refusedCall_tiesNoWorkerToTheConnection() throws Exception {
    start();
    ManagedChannel a = channel();
    heartbeat(a, 1, fp);
    ManagedChannel hostile = channel();
    heartbeat(hostile, 1, "not-the-job");
    hostile.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    // Closing worker 0's connection after it is the marker that the hostile close was handled.
    ManagedChannel c = channel();
    heartbeat(c, 0, fp);
    c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    awaitLost(0);
    assertThat(live(1)).as("the refused call's connection closing does not touch worker 1")
        .isTrue();
  }
}
