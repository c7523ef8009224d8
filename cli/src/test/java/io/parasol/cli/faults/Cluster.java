package io.parasol.cli.faults;

import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.parasol.proto.v1.BlockStatus;
import io.parasol.proto.v1.ShardGrpc;
import io.parasol.proto.v1.StatusRequest;
import io.parasol.proto.v1.StatusResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Shards and workers of one job as separate {@code parasol} JVMs on 127.0.0.1, their logs in a
 * folder, and Status reads over gRPC. {@link #close} kills whatever is still running.
 */
final class Cluster implements AutoCloseable {
  static final Pattern DONE = Pattern.compile(
      "worker (\\d+) done: (\\d+) steps, (\\d+) late, .*test acc ([0-9.]+)");
  /** The rollbacks and updates lost a worker's summary line reports. */
  static final Pattern ROLLBACKS = Pattern.compile(
      "worker (\\d+) done: (\\d+) steps, (\\d+) late, (\\d+) rollbacks, (\\d+) updates lost,");
  static final Pattern RESTORED = Pattern.compile(
      "shard (\\d+) restored job '[^']*' from a checkpoint: versions \\{([^}]*)}");

  final int shards;
  final int workers;
  private final Path dir;
  private final Path shardLogConfig;
  private final List<JvmProcess> processes = new ArrayList<>();

  Cluster(Path dir, int shards, int workers) throws IOException {
    this.dir = dir;
    this.shards = shards;
    this.workers = workers;
    // The shipped logback.xml logs io.parasol.server at WARN only; shards here also log INFO
    // (the versions a shard restored from its checkpoint, among others).
    this.shardLogConfig = dir.resolve("logback-shard.xml");
    Files.writeString(shardLogConfig, """
        <configuration>
          <appender name="STDERR" class="ch.qos.logback.core.ConsoleAppender">
            <target>System.err</target>
            <encoder>
              <pattern>%d{HH:mm:ss.SSS} %-5level [%thread] %logger{24} - %msg%n</pattern>
            </encoder>
          </appender>
          <logger name="io.grpc" level="WARN"/>
          <root level="INFO">
            <appender-ref ref="STDERR"/>
          </root>
        </configuration>
        """);
  }

  // ---------------------------------------------------------------------------------------
  // Processes

  /**
   * Starts shard {@code shard} on {@code port} (0: ephemeral) and waits for its "listening"
   * line. A fixed port (a restart) may still be held for a moment: it tries again while the
   * shard fails to bind, up to a deadline.
   */
  JvmProcess startShard(int shard, int port, List<String> extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("server", "--shard", Integer.toString(shard),
        "--shards", Integer.toString(shards), "--port", Integer.toString(port)));
    args.addAll(extra);
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (true) {
      JvmProcess p = JvmProcess.start("shard-" + shard, dir,
          List.of("-Dlogback.configurationFile=" + shardLogConfig), Map.of(), args);
      processes.add(p);
      Optional<Matcher> line = p.awaitLineOrExit(listening(shard), Duration.ofSeconds(60));
      if (line.isPresent()) {
        return p;
      }
      if (port == 0 || !p.output().toLowerCase(Locale.ROOT).contains("bind")
          || System.nanoTime() > deadline) {
        throw new AssertionError("shard " + shard + " exited with " + p.process.exitValue()
            + " before listening:\n" + p.tail(40));
      }
      log("shard %d could not bind port %d yet; trying again", shard, port);
    }
  }

  private Pattern listening(int shard) {
    return Pattern.compile("shard " + shard + "/" + shards
        + " listening on 127\\.0\\.0\\.1:(\\d+)");
  }

  /** The port a started shard printed. */
  int port(JvmProcess shard, int index) throws InterruptedException {
    return Integer.parseInt(shard.awaitLine(listening(index), Duration.ofSeconds(60)).group(1));
  }

  /** Starts sync worker {@code k} of the job against {@code ports}. */
  JvmProcess startWorker(int k, int[] ports, long steps, String lease) throws IOException {
    return startWorker(k, ports, steps, lease, "sync");
  }

  /** Starts worker {@code k} of a job in {@code mode} against {@code ports}. */
  JvmProcess startWorker(int k, int[] ports, long steps, String lease, String mode)
      throws IOException {
    return startWorker(k, ports, steps, lease, mode, List.of());
  }

  /** As above, with more worker flags ({@code --update-blocks}, {@code --summary-json}...). */
  JvmProcess startWorker(int k, int[] ports, long steps, String lease, String mode,
      List<String> extra) throws IOException {
    String servers = Arrays.stream(ports).mapToObj(p -> "127.0.0.1:" + p)
        .collect(Collectors.joining(","));
    List<String> args = new ArrayList<>(List.of("worker", "--servers", servers,
        "--worker", Integer.toString(k), "--workers", Integer.toString(workers), "--shards",
        Integer.toString(shards), "--mode", mode, "--steps", Long.toString(steps),
        "--eval-every", "0", "--lease", lease, "--seed", "1"));
    args.addAll(extra);
    JvmProcess p = JvmProcess.start("worker-" + k, dir, args);
    processes.add(p);
    return p;
  }

  /** The folder of the processes' logs (and whatever else a test keeps there). */
  Path dir() {
    return dir;
  }

  /** SIGKILLs every process still running and waits for each. */
  @Override
  public void close() throws InterruptedException {
    for (JvmProcess p : processes) {
      p.process.destroyForcibly();
    }
    for (JvmProcess p : processes) {
      p.process.waitFor(30, TimeUnit.SECONDS);
    }
  }

  // ---------------------------------------------------------------------------------------
  // Status

  /** One shard's status over a fresh channel; the deadline is generous for a loaded machine. */
  static StatusResponse status(int port) {
    ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    try {
      return ShardGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS)
          .status(StatusRequest.getDefaultInstance());
    } finally {
      ch.shutdownNow();
    }
  }

  static StatusResponse[] statusAll(int[] ports) {
    StatusResponse[] out = new StatusResponse[ports.length];
    for (int s = 0; s < ports.length; s++) {
      out[s] = status(ports[s]);
    }
    return out;
  }

  /**
   * Polls every shard's status until {@code done} holds for each; fails at the deadline or if
   * one of {@code mustLive} exits.
   */
  static StatusResponse[] awaitStatus(String what, int[] ports, Duration timeout,
      Predicate<StatusResponse> done, JvmProcess... mustLive) throws InterruptedException {
    return poll(what, timeout, () -> {
      for (JvmProcess p : mustLive) {
        if (!p.alive()) {
          throw new AssertionError(p.name + " exited with " + p.process.exitValue()
              + " while waiting for " + what + ":\n" + p.tail(30));
        }
      }
      try {
        return statusAll(ports);
      } catch (StatusRuntimeException e) {
        return null;
      }
    }, all -> Arrays.stream(all).allMatch(done), Cluster::describe);
  }

  /** Polls one shard until two readings 100 ms apart show the same versions. */
  static StatusResponse awaitStable(int port, Duration timeout) throws InterruptedException {
    StatusResponse[] prev = {status(port)};
    return poll("stable versions on port " + port, timeout, () -> {
      StatusResponse cur = status(port);
      StatusResponse p = prev[0];
      prev[0] = cur;
      return versions(p).equals(versions(cur)) ? cur : null;
    }, x -> true, Cluster::describe);
  }

  /** Polls {@code probe} every 100 ms until {@code done} holds; fails at the deadline. */
  static <T> T poll(String what, Duration timeout, Supplier<T> probe, Predicate<? super T> done,
      Function<T, String> show) throws InterruptedException {
    AtomicReference<T> last = new AtomicReference<>();
    AtomicReference<T> hit = new AtomicReference<>();
    try {
      Awaitility.await(what).atMost(timeout).pollInSameThread().pollDelay(Duration.ZERO)
          .pollInterval(Duration.ofMillis(100)).until(() -> {
            T v = probe.get();
            if (v == null) {
              return false;
            }
            last.set(v);
            if (done.test(v)) {
              hit.set(v);
              return true;
            }
            return false;
          });
    } catch (ConditionTimeoutException e) {
      throw new AssertionError("timed out after " + timeout + " waiting for " + what
          + "; last seen: " + (last.get() == null ? "nothing" : show.apply(last.get())));
    }
    return hit.get();
  }

  /** Block versions by block id. */
  static Map<Integer, Long> versions(StatusResponse st) {
    Map<Integer, Long> out = new TreeMap<>();
    for (BlockStatus b : st.getBlocksList()) {
      out.put(b.getId(), b.getVersion());
    }
    return out;
  }

  /** Parses "0=31, 2=31" (the shard's log of restored versions). */
  static Map<Integer, Long> parseVersions(String s) {
    Map<Integer, Long> out = new TreeMap<>();
    for (String kv : s.split(",")) {
      String[] p = kv.trim().split("=");
      out.put(Integer.parseInt(p[0]), Long.parseLong(p[1]));
    }
    return out;
  }

  static long minVersion(StatusResponse st) {
    return st.getBlocksCount() == 0 ? -1
        : st.getBlocksList().stream().mapToLong(BlockStatus::getVersion).min().getAsLong();
  }

  static String describe(StatusResponse... all) {
    StringBuilder sb = new StringBuilder();
    for (StatusResponse st : all) {
      sb.append(sb.length() == 0 ? "" : "; ").append("shard ").append(st.getShard())
          .append(" versions ").append(versions(st)).append(" live ")
          .append(st.getLiveWorkersList()).append(" pushes_applied ")
          .append(st.getPushesApplied()).append(" duplicate ").append(st.getPushesDuplicate())
          .append(" late ").append(st.getPushesDroppedLate()).append(" rejected ")
          .append(st.getPushesRejected());
    }
    return sb.toString();
  }

  static double secs(long fromNanos, long toNanos) {
    return (toNanos - fromNanos) / 1e9;
  }

  static void log(String fmt, Object... args) {
    System.out.println(String.format(Locale.ROOT, fmt, args));
  }
}
