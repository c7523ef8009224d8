package io.parasol.server;

import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import io.parasol.server.clock.Ticker;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * S shards in this JVM, each a real gRPC server on 127.0.0.1 with an ephemeral port. The
 * embedded cluster behind {@code parasol local}, and the fixture every integration test uses.
 */
public final class LocalCluster implements AutoCloseable {
  private final List<ShardServer> servers;

  private LocalCluster(List<ShardServer> servers) {
    this.servers = servers;
  }

  /** Starts {@code shards} servers on 127.0.0.1; {@code registry} may be null. */
  public static LocalCluster start(int shards, MeterRegistry registry) throws IOException {
    return start(shards, registry, Ticker.system());
  }

  /**
   * As above, with the clock the shards measure leases and waits on (tests inject a fake one
   * and expire leases by advancing it).
   */
  public static LocalCluster start(int shards, MeterRegistry registry, Ticker ticker)
      throws IOException {
    List<ShardServer> servers = new ArrayList<>();
    try {
      for (int s = 0; s < shards; s++) {
        servers.add(new ShardServer(NettyServerBuilder.forAddress(
            new InetSocketAddress("127.0.0.1", 0)), s, 0, registry, ticker).start());
      }
    } catch (IOException | RuntimeException e) {
      for (ShardServer srv : servers) {
        stopQuietly(srv);
      }
      throw e;
    }
    return new LocalCluster(servers);
  }

  /** "127.0.0.1:port" of each shard, in shard order. */
  public List<String> addresses() {
    List<String> out = new ArrayList<>();
    for (ShardServer s : servers) {
      out.add("127.0.0.1:" + s.port());
    }
    return out;
  }

  public List<ShardServer> servers() {
    return servers;
  }

  public ShardServer server(int shard) {
    return servers.get(shard);
  }

  @Override
  public void close() {
    for (ShardServer s : servers) {
      stopQuietly(s);
    }
  }

  private static void stopQuietly(ShardServer s) {
    try {
      s.stop(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
