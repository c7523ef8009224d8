package io.parasol.server;

import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code parasol server}: one shard process. The job arrives later through Init. */
@Command(name = "server", mixinStandardHelpOptions = true,
    description = "Run one parameter-server shard. Workers declare the job through Init.")
public final class ServerCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(ServerCommand.class);

  @Option(names = "--host", defaultValue = "127.0.0.1",
      description = "Address to listen on (default: ${DEFAULT-VALUE}; 0.0.0.0 for all).")
  String host;

  @Option(names = "--port", defaultValue = "7070",
      description = "gRPC port (default: ${DEFAULT-VALUE}; 0 picks a free port).")
  int port;

  @Option(names = "--shard", required = true, description = "This shard's index, 0..S-1.")
  int shard;

  @Option(names = "--shards", required = true, description = "Number of shards S in the job.")
  int shards;

  @Option(names = "--metrics-port", defaultValue = "0",
      description = "HTTP port serving Prometheus /metrics on --host; 0 = off (default).")
  int metricsPort;

  @Override
  public Integer call() throws Exception {
    if (shards <= 0 || shard < 0 || shard >= shards) {
      throw new CommandLine.ParameterException(new CommandLine(this),
          "--shard must be in 0.." + (shards - 1) + " for --shards " + shards);
    }
    if (port < 0 || port > 65535) {
      throw new CommandLine.ParameterException(new CommandLine(this),
          "--port must be in 0..65535, got " + port);
    }
    MetricsServer metrics = metricsPort > 0
        ? MetricsServer.start(MetricsServer.newRegistry(), host, metricsPort) : null;
    ShardServer server = new ShardServer(
        NettyServerBuilder.forAddress(new InetSocketAddress(host, port)), shard, shards,
        metrics == null ? null : metrics.registry())
        .start();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      log.info("shard {} stopping", shard);
      try {
        server.stop(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (metrics != null) {
        metrics.close();
      }
    }, "shard-shutdown"));
    System.out.println("shard " + shard + "/" + shards + " listening on " + host + ":"
        + server.port() + (metrics == null ? "" : ", metrics on :" + metrics.port() + "/metrics"));
    server.blockUntilShutdown();
    return 0;
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new ServerCommand()).execute(args));
  }
}
