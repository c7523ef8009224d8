package io.parasol.server;

import io.grpc.ServerBuilder;
import io.parasol.common.metrics.MetricsServer;
import io.parasol.server.checkpoint.Checkpoints;
import io.parasol.server.security.BearerTokenInterceptor;
import io.parasol.common.security.TlsConfig;
import io.parasol.common.security.Tokens;
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

  @Option(names = "--checkpoint-dir",
      description = "Directory for this shard's checkpoints; restored on start. Off when unset.")
  java.nio.file.Path checkpointDir;

  @Option(names = "--checkpoint-interval", defaultValue = "30",
      description = "Seconds between checkpoints (when anything changed) (default: ${DEFAULT-VALUE}).")
  int checkpointSeconds;

  @Option(names = "--checkpoint-updates", defaultValue = "0",
      description = "Also checkpoint after this many block updates; 0 = off (default).")
  long checkpointUpdates;

  @Option(names = "--max-bytes", defaultValue = "0",
      description = "Most heap the shard's jobs may take together (blocks, optimizer state,"
          + " round sums, push staging), e.g. 512m, 4g; an Init past it is RESOURCE_EXHAUSTED."
          + " 0: 80%% of the maximum heap (default).")
  String maxBytes;

  @Option(names = "--max-jobs", defaultValue = "16",
      description = "Most jobs the shard holds at once; an Init of one more is"
          + " RESOURCE_EXHAUSTED (default: ${DEFAULT-VALUE}).")
  int maxJobs;

  @Option(names = "--job-idle-timeout", defaultValue = "30m",
      description = "A job that sees no call for this long ends and its memory is released,"
          + " e.g. 90s, 30m, 2h; 0 = never (default: ${DEFAULT-VALUE}).")
  String jobIdleTimeout;

  @Option(names = "--io-threads",
      description = "Transport event loops of the shard's own (each connection keeps one, and"
          + " the shard's handlers run on it); 0: gRPC's shared loops, 2 per core (default).")
  Integer ioThreads;

  @Option(names = "--grace", defaultValue = "10",
      description = "Seconds in-flight calls get to finish on SIGTERM (default: ${DEFAULT-VALUE}).")
  int graceSeconds;

  @Option(names = "--tls-cert", description = "PEM certificate chain: serve gRPC over TLS.")
  String tlsCert;

  @Option(names = "--tls-key", description = "PEM PKCS#8 private key for --tls-cert.")
  String tlsKey;

  @Option(names = "--tls-client-ca",
      description = "PEM CA bundle: require client certificates signed by it (mTLS).")
  String tlsClientCa;

  @Option(names = "--token-file",
      description = "File holding the bearer token every call must carry (health excepted).")
  String tokenFile;

  @Option(names = "--token-env",
      description = "Environment variable holding the bearer token (if no --token-file).")
  String tokenEnv;

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
    TlsConfig tls;
    String token;
    try {
      tls = TlsConfig.serverFromFlags(tlsCert, tlsKey, tlsClientCa);
      token = Tokens.load(tokenFile, tokenEnv);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(new CommandLine(this), e.getMessage());
    }
    ServerBuilder<?> builder = TlsConfig.serverBuilder(host, port,
        tls == null ? null : tls.serverCredentials());
    if (token != null) {
      builder.intercept(BearerTokenInterceptor.standard(token));
    }
    long budget = parseBytes("--max-bytes", maxBytes);
    java.time.Duration idle;
    try {
      idle = parseDuration("--job-idle-timeout", jobIdleTimeout);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(new CommandLine(this), e.getMessage());
    }
    if (maxJobs < 1) {
      throw new CommandLine.ParameterException(new CommandLine(this),
          "--max-jobs must be >= 1, got " + maxJobs);
    }
    if (ioThreads != null && ioThreads < 0) {
      throw new CommandLine.ParameterException(new CommandLine(this),
          "--io-threads must be >= 0, got " + ioThreads);
    }
    ShardServer server = new ShardServer(builder, shard, shards,
        metrics == null ? null : metrics.registry(), io.parasol.server.clock.Ticker.system(),
        null, ioThreads == null ? ShardIo.defaultThreads() : ioThreads);
    server.core().maxBytes(budget);
    server.core().maxJobs(maxJobs);
    server.core().jobIdleTimeout(idle);
    if (checkpointDir != null) {
      if (checkpointSeconds <= 0 || checkpointUpdates < 0) {
        throw new CommandLine.ParameterException(new CommandLine(this),
            "--checkpoint-interval must be >= 1 and --checkpoint-updates >= 0");
      }
      server.checkpointing(new Checkpoints(checkpointDir, shard),
          java.time.Duration.ofSeconds(checkpointSeconds), checkpointUpdates);
    }
    server.start();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      log.info("shard {} stopping: finishing in-flight calls, then a last checkpoint", shard);
      try {
        server.stop(graceSeconds, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (metrics != null) {
        metrics.close();
      }
    }, "shard-shutdown"));
    System.out.println("shard " + shard + "/" + shards + " listening on " + host + ":"
        + server.port() + (tls == null ? "" : tls.mutual() ? " (mTLS)" : " (TLS)")
        + (token == null ? "" : ", token required") + (metrics == null ? "" : ", metrics on :" + metrics.port() + "/metrics"));
    server.blockUntilShutdown();
    return 0;
  }

  /** A byte count: digits, optionally followed by k, m or g (binary units). */
  static long parseBytes(String flag, String s) {
    String t = s.trim().toLowerCase(java.util.Locale.ROOT);
    long unit = t.endsWith("k") ? 1L << 10 : t.endsWith("m") ? 1L << 20 : t.endsWith("g") ? 1L << 30
        : 1;
    try {
      long n = Long.parseLong(unit == 1 ? t : t.substring(0, t.length() - 1));
      if (n >= 0 && n <= Long.MAX_VALUE / unit) {
        return n * unit;
      }
    } catch (NumberFormatException e) {
      // below
    }
    throw new IllegalArgumentException(flag + " takes a byte count like 536870912, 512m or 4g;"
        + " got '" + s + "'");
  }

  /** A duration: digits followed by ms, s, m or h (0 alone is zero). */
  static java.time.Duration parseDuration(String flag, String s) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{1,9})(ms|s|m|h)?")
        .matcher(s.trim().toLowerCase(java.util.Locale.ROOT));
    if (m.matches() && (m.group(2) != null || Long.parseLong(m.group(1)) == 0)) {
      long n = Long.parseLong(m.group(1));
      String unit = m.group(2) == null ? "s" : m.group(2);
      return switch (unit) {
        case "ms" -> java.time.Duration.ofMillis(n);
        case "s" -> java.time.Duration.ofSeconds(n);
        case "m" -> java.time.Duration.ofMinutes(n);
        default -> java.time.Duration.ofHours(n);
      };
    }
    throw new IllegalArgumentException(flag + " takes a duration like 90s, 30m or 2h (0:"
        + " never); got '" + s + "'");
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new ServerCommand()).execute(args));
  }
}
