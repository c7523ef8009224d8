package io.parasol.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.parasol.proto.v1.ShardGrpc;
import io.parasol.proto.v1.StatusRequest;
import io.parasol.proto.v1.StatusResponse;
import io.parasol.server.clock.Ticker;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code server --io-threads}: a shard on event loops of its own, or on gRPC's shared ones. */
class ShardIoTest {

  /** Status from a shard with {@code ioThreads} loops; the names of the threads that served it. */
  private static String servedOn(int shard, int ioThreads) throws Exception {
    ShardServer server = new ShardServer(NettyServerBuilder.forAddress(
        new InetSocketAddress("127.0.0.1", 0)), shard, 1, null, Ticker.system(), null, ioThreads)
        .start();
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port())
        .usePlaintext().build();
    try {
      StatusResponse r = ShardGrpc.newBlockingStub(channel)
          .withDeadlineAfter(30, TimeUnit.SECONDS).status(StatusRequest.getDefaultInstance());
      assertThat(r.getShard()).isEqualTo(shard);
      // The handlers run on the transport's loop (direct executor): the connection's loop
      // thread exists by the time the answer came back.
      StringBuilder names = new StringBuilder();
      for (Thread t : Thread.getAllStackTraces().keySet()) {
        names.append(t.getName()).append('\n');
      }
      return names.toString();
    } finally {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      server.stop(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void ownLoops_serveTheShardOnThreadsNamedAfterIt() throws Exception {
    assertThat(servedOn(41, 3)).contains("shard-41-io-").contains("shard-41-accept-");
  }

  @Test
  void zeroLoops_leaveTheShardOnGrpcsSharedLoops() throws Exception {
    assertThat(servedOn(42, 0)).doesNotContain("shard-42-io-");
  }

  @Test
  void negativeIoThreads_areRefusedByTheCommandLine() {
    // Refused before anything starts (the one-line message goes to the command's own stream).
    int code = ShardMain.commandLine().execute("server", "--shard", "0", "--shards", "1",
        "--port", "0", "--io-threads", "-1");
    assertThat(code).isEqualTo(2);
    assertThatThrownBy(() -> {
      System.setProperty(ShardIo.THREADS_PROPERTY, "-2");
      try {
        ShardIo.defaultThreads();
      } finally {
        System.clearProperty(ShardIo.THREADS_PROPERTY);
      }
    }).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("got -2");
  }
}
