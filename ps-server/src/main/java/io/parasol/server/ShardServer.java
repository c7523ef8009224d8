package io.parasol.server;

import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.grpc.MetricCollectingServerInterceptor;
import io.parasol.common.FloatCodec;
import io.parasol.proto.v1.ShardGrpc;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A shard process's gRPC server: the Shard service, gRPC health and server reflection.
 *
 * <p>Built from a {@link ServerBuilder} so tests can bind an ephemeral port on 127.0.0.1.
 */
public final class ShardServer {
  private static final Logger log = LoggerFactory.getLogger(ShardServer.class);

  /** Largest inbound message: a chunk of a few MiB plus framing. */
  public static final int MAX_INBOUND_MESSAGE_BYTES = 16 * 1024 * 1024;

  private final ShardCore core;
  private final ExecutorService callbacks;
  private final HealthStatusManager health = new HealthStatusManager();
  private final Server server;

  /** A server built on {@code builder}; {@code registry} may be null. */
  public ShardServer(ServerBuilder<?> builder, int shardIndex, MeterRegistry registry) {
    this(builder, shardIndex, 0, registry);
  }

  /**
   * A server built on {@code builder} for a job of {@code expectedShards} shards (0: any);
   * {@code registry} may be null.
   */
  public ShardServer(ServerBuilder<?> builder, int shardIndex, int expectedShards,
      MeterRegistry registry) {
    this.callbacks = Executors.newCachedThreadPool(daemonThreads("shard-" + shardIndex + "-pull"));
    this.core = new ShardCore(shardIndex, expectedShards, registry, callbacks);
    if (registry != null) {
      builder.intercept(new MetricCollectingServerInterceptor(registry));
    }
    this.server = builder
        .addService(ServerInterceptors.intercept(
            new ShardService(core, FloatCodec.DEFAULT_CHUNK_FLOATS)))
        .addService(health.getHealthService())
        .addService(ProtoReflectionServiceV1.newInstance())
        .maxInboundMessageSize(MAX_INBOUND_MESSAGE_BYTES)
        .build();
  }

  /** A server on {@code host:port} (port 0 picks an ephemeral port). */
  public static ShardServer forAddress(String host, int port, int shardIndex,
      MeterRegistry registry) {
    return new ShardServer(NettyServerBuilder.forAddress(new InetSocketAddress(host, port)),
        shardIndex, registry);
  }

  public ShardServer start() throws IOException {
    server.start();
    health.setStatus("", ServingStatus.SERVING);
    health.setStatus(ShardGrpc.SERVICE_NAME, ServingStatus.SERVING);
    log.info("shard {} listening on port {}", core.shardIndex(), port());
    return this;
  }

  public int port() {
    return server.getPort();
  }

  public ShardCore core() {
    return core;
  }

  /** Stops accepting calls, lets in-flight calls finish for up to {@code grace}, then stops. */
  public void stop(long grace, TimeUnit unit) throws InterruptedException {
    health.enterTerminalState();
    server.shutdown();
    if (!server.awaitTermination(grace, unit)) {
      server.shutdownNow();
      server.awaitTermination(grace, unit);
    }
    callbacks.shutdownNow();
  }

  public void blockUntilShutdown() throws InterruptedException {
    server.awaitTermination();
  }

  static ThreadFactory daemonThreads(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
