package io.parasol.server.security;

import io.parasol.common.security.BearerToken;
import io.parasol.common.security.TlsConfig;
import io.parasol.common.security.Tokens;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.grpc.CallCredentials;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.ServerBuilder;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.parasol.proto.v1.ShardGrpc;
import io.parasol.proto.v1.StatusRequest;
import io.parasol.proto.v1.StatusResponse;
import io.parasol.server.ShardServer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real shard (Shard, health and reflection services) on an ephemeral 127.0.0.1 port, built
 * from a given {@link ServerBuilder}, plus the channels a test opens to it; closing stops all.
 */
final class ShardFixture implements AutoCloseable {
  /** Deadline of every call a test makes. */
  static final long DEADLINE_SECONDS = 10;

  private final ShardServer server;
  private final List<ManagedChannel> channels = new ArrayList<>();

  private ShardFixture(ShardServer server) {
    this.server = server;
  }

  /** Starts shard 0 on {@code builder} (bound to 127.0.0.1, port 0). */
  static ShardFixture start(ServerBuilder<?> builder) throws IOException {
    return new ShardFixture(new ShardServer(builder, 0, null).start());
  }

  /** {@code 127.0.0.1:<port>}. */
  String target() {
    return "127.0.0.1:" + server.port();
  }

  /** Builds and remembers a channel, closed with the fixture. */
  ManagedChannel channel(ManagedChannelBuilder<?> builder) {
    ManagedChannel c = builder.build();
    channels.add(c);
    return c;
  }

  /** A Shard/Status call, with {@code creds} if not null. */
  static StatusResponse status(Channel channel, CallCredentials creds) {
    ShardGrpc.ShardBlockingStub stub = ShardGrpc.newBlockingStub(channel)
        .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
    if (creds != null) {
      stub = stub.withCallCredentials(creds);
    }
    return stub.status(StatusRequest.getDefaultInstance());
  }

  /** A Health/Check call for the whole server, without credentials. */
  static HealthCheckResponse health(Channel channel) {
    return HealthGrpc.newBlockingStub(channel)
        .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
        .check(HealthCheckRequest.getDefaultInstance());
  }

  /** The failure of {@code call}, which must throw a {@link StatusRuntimeException}. */
  static StatusRuntimeException failure(Runnable call) {
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, call::run);
    if (e == null) {
      throw new AssertionError("expected the call to fail, but it succeeded");
    }
    return e;
  }

  @Override
  public void close() {
    try {
      for (ManagedChannel c : channels) {
        c.shutdownNow();
      }
      for (ManagedChannel c : channels) {
        c.awaitTermination(DEADLINE_SECONDS, TimeUnit.SECONDS);
      }
      server.stop(DEADLINE_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
