package io.parasol.cli;

import io.parasol.server.HealthCommand;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.parasol.proto.v1.ShardGrpc;
import io.parasol.server.ShardServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code parasol health} against real gRPC servers on 127.0.0.1 ephemeral ports: a shard, a
 * bare health service whose status the test sets, a TCP socket that never answers, and a
 * stopped server.
 */
class HealthCommandTest {
  private Server server;
  private ShardServer shard;

  @AfterEach
  void stop() throws InterruptedException {
    if (server != null) {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (shard != null) {
      shard.stop(5, TimeUnit.SECONDS);
    }
  }

  /** Exit status, stdout and stderr of one {@code parasol ...} run. */
  private record Run(int exit, String out, String err) { }

  private static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Parasol.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int exit = cl.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  private HealthStatusManager healthServer() throws Exception {
    HealthStatusManager health = new HealthStatusManager();
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(health.getHealthService()).build().start();
    return health;
  }

  @Test
  void health_shard_isServingForServerAndShardService() throws Exception {
    shard = ShardServer.forAddress("127.0.0.1", 0, 0, null).start();
    String target = "127.0.0.1:" + shard.port();

    Run whole = run("health", "--target", target);
    assertThat(whole.exit()).as(whole.err()).isZero();
    assertThat(whole.out()).isEqualTo(target + ": SERVING" + System.lineSeparator());
    assertThat(whole.err()).isEmpty();

    Run service = run("health", "--target", target, "--service", ShardGrpc.SERVICE_NAME);
    assertThat(service.exit()).as(service.err()).isZero();
    assertThat(service.out()).contains("service parasol.v1.Shard: SERVING");
  }

  @Test
  void health_notServing_exitsOneWithTheStatus() throws Exception {
    HealthStatusManager health = healthServer();
    health.setStatus("", ServingStatus.NOT_SERVING);
    String target = "127.0.0.1:" + server.getPort();

    Run r = run("health", "--target", target);

    assertThat(r.exit()).isEqualTo(HealthCommand.EXIT_NOT_SERVING);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).isEqualTo("parasol health: " + target + ": NOT_SERVING"
        + System.lineSeparator());
  }

  @Test
  void health_unknownService_exitsOneWithNotFound() throws Exception {
    healthServer();

    Run r = run("health", "--target", "127.0.0.1:" + server.getPort(), "--service", "nope.V1");

    assertThat(r.exit()).isEqualTo(HealthCommand.EXIT_NOT_SERVING);
    assertThat(r.err()).contains("service nope.V1: NOT_FOUND").doesNotContain("\tat ");
    assertThat(r.err().strip().lines()).hasSize(1);
  }

  @Test
  void health_silentPeer_exitsThreeAtTheDeadline() throws Exception {
    // Accepts TCP connections (the kernel completes the handshake) but never speaks HTTP/2.
    try (ServerSocket silent = new ServerSocket(0, 10, InetAddress.getByName("127.0.0.1"))) {
      long start = System.nanoTime();

      Run r = run("health", "--target", "127.0.0.1:" + silent.getLocalPort(),
          "--timeout", "300ms");

      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertThat(r.exit()).isEqualTo(HealthCommand.EXIT_NO_ANSWER);
      assertThat(r.err()).contains(": DEADLINE_EXCEEDED: no answer within 300ms");
      assertThat(millis).as("returns at its deadline, not later").isLessThan(5_000);
    }
  }

  @Test
  void health_stoppedServer_exitsThreeUnavailable() throws Exception {
    healthServer();
    int port = server.getPort();
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server = null;

    Run r = run("health", "--target", "127.0.0.1:" + port);

    assertThat(r.exit()).isEqualTo(HealthCommand.EXIT_NO_ANSWER);
    assertThat(r.err()).startsWith("parasol health: 127.0.0.1:" + port + ": UNAVAILABLE");
  }

  @Test
  void health_badTimeout_exitsTwo() {
    Run zero = run("health", "--target", "127.0.0.1:1", "--timeout", "0s");
    assertThat(zero.exit()).isEqualTo(2);
    assertThat(zero.err()).contains("--timeout must be positive");

    Run junk = run("health", "--target", "127.0.0.1:1", "--timeout", "soon");
    assertThat(junk.exit()).isEqualTo(2);
    assertThat(junk.err()).contains("--timeout takes a duration");

    Run missing = run("health");
    assertThat(missing.exit()).isEqualTo(2);
    assertThat(missing.err()).contains("--target");
  }
}
