package io.parasol.server;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.parasol.common.security.TlsConfig;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code parasol health}: one gRPC health check ({@code grpc.health.v1.Health/Check}) of a
 * shard, with a deadline, for container health checks where no {@code grpc_health_probe} is
 * installed. Exit status 0 when the server answers SERVING, 1 when it answers anything else
 * (NOT_SERVING, or NOT_FOUND for a service it does not know), 3 when it does not answer
 * (unreachable, deadline exceeded, or another status), 2 for bad flags; every outcome is one
 * line. Plaintext only: a shard started with TLS is not probed by this command.
 */
@Command(name = "health", mixinStandardHelpOptions = true,
    description = "Check a shard's gRPC health (grpc.health.v1) once, with a deadline.",
    exitCodeListHeading = "Exit status:%n",
    exitCodeList = {"0:the server answered SERVING",
        "1:the server answered NOT_SERVING, or does not know the service",
        "2:bad flags",
        "3:no answer: unreachable, deadline exceeded, or the call failed"})
public final class HealthCommand implements Callable<Integer> {
  /** The server answered SERVING. */
  public static final int EXIT_SERVING = 0;
  /** The server answered, but not SERVING. */
  public static final int EXIT_NOT_SERVING = 1;
  /** The call got no answer from the health service. */
  public static final int EXIT_NO_ANSWER = 3;

  @Option(names = "--target", required = true,
      description = "Shard address host:port (plaintext gRPC).")
  String target;

  @Option(names = "--service", defaultValue = "",
      description = "Service to check: empty (default) for the whole server, or e.g."
          + " parasol.v1.Shard.")
  String service;

  @Option(names = "--timeout", defaultValue = "2s",
      description = "Deadline of the call, connecting included (default: ${DEFAULT-VALUE}).")
  String timeout;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws InterruptedException {
    Duration deadline = io.parasol.common.Durations.parse("--timeout", timeout);
    if (deadline.toMillis() <= 0) {
      throw new IllegalArgumentException("--timeout must be positive, got '" + timeout + "'");
    }
    String what = target + (service.isEmpty() ? "" : " service " + service);
    ManagedChannel channel = TlsConfig.channelBuilder(target, null, null).build();
    try {
      HealthCheckResponse r = HealthGrpc.newBlockingStub(channel)
          .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)
          .check(HealthCheckRequest.newBuilder().setService(service).build());
      if (r.getStatus() == ServingStatus.SERVING) {
        spec.commandLine().getOut().println(what + ": SERVING");
        return EXIT_SERVING;
      }
      fail(what + ": " + r.getStatus());
      return EXIT_NOT_SERVING;
    } catch (StatusRuntimeException e) {
      Status s = e.getStatus();
      String reason = s.getCode() == Status.Code.DEADLINE_EXCEEDED
          ? "no answer within " + timeout : s.getDescription();
      fail(what + ": " + s.getCode() + (reason == null ? "" : ": " + reason));
      return s.getCode() == Status.Code.NOT_FOUND ? EXIT_NOT_SERVING : EXIT_NO_ANSWER;
    } finally {
      channel.shutdownNow().awaitTermination(1, TimeUnit.SECONDS);
    }
  }

  private void fail(String line) {
    spec.commandLine().getErr().println("parasol health: " + line);
  }
}
