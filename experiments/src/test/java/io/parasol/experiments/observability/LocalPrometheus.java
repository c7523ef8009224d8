package io.parasol.experiments.observability;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * A real Prometheus server as a child process of the test, on 127.0.0.1 and an ephemeral port,
 * with its config and TSDB in a temporary directory, plus a small client of its HTTP API. Only
 * 127.0.0.1 is ever contacted.
 */
final class LocalPrometheus implements AutoCloseable {
  /** Pause between two polls of a condition. */
  static final Duration POLL = Duration.ofMillis(100);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

  /** One series of a query answer: its labels and its (timestamp s, value) samples. */
  record Series(Map<String, String> labels, List<double[]> samples) {
    /** The last sample's value (instant queries have exactly one). */
    double value() {
      return samples.get(samples.size() - 1)[1];
    }

    boolean hasFiniteSample() {
      return samples.stream().anyMatch(s -> Double.isFinite(s[1]));
    }
  }

  private final Process process;
  private final int port;
  private final Path log;
  private final HttpClient http;

  private LocalPrometheus(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
    this.http = HttpClient.newBuilder()
        .connectTimeout(Duration.ofSeconds(2))
        .version(HttpClient.Version.HTTP_1_1)
        .build();
  }

  /** The {@code prometheus} executable on PATH, else /usr/bin/prometheus, if either exists. */
  static Optional<Path> findBinary() {
    String path = System.getenv("PATH");
    if (path != null) {
      for (String dir : path.split(File.pathSeparator)) {
        if (dir.isEmpty()) {
          continue;
        }
        Path p = Path.of(dir, "prometheus");
        if (Files.isRegularFile(p) && Files.isExecutable(p)) {
          return Optional.of(p);
        }
      }
    }
    Path fallback = Path.of("/usr/bin/prometheus");
    return Files.isRegularFile(fallback) && Files.isExecutable(fallback)
        ? Optional.of(fallback) : Optional.empty();
  }

  /**
   * A port that was free on 127.0.0.1 a moment ago: bound on port 0, then closed. Another
   * process may take it before Prometheus binds it; {@link #start} retries in that case.
   */
  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(false);
      s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
      return s.getLocalPort();
    }
  }

  /**
   * Starts Prometheus with {@code config} (written to {@code dir}/prometheus.yml) and waits,
   * until {@code deadline}, for /-/ready. A server that exits before it is ready (its port was
   * taken meanwhile) is retried on a fresh port, three attempts in all.
   */
  static LocalPrometheus start(Path binary, Path dir, String config, Duration readyWithin)
      throws IOException {
    Path configFile = dir.resolve("prometheus.yml");
    Files.writeString(configFile, config, StandardCharsets.UTF_8);
    IllegalStateException last = null;
    for (int attempt = 1; attempt <= 3; attempt++) {
      int port = freePort();
      Path data = Files.createDirectories(dir.resolve("tsdb-" + attempt));
      Path log = dir.resolve("prometheus-" + attempt + ".log");
      ProcessBuilder pb = new ProcessBuilder(binary.toString(),
          "--config.file=" + configFile,
          "--storage.tsdb.path=" + data,
          "--storage.tsdb.retention.time=1h",
          "--web.listen-address=127.0.0.1:" + port,
          "--log.level=info")
          .redirectErrorStream(true)
          .redirectOutput(log.toFile());
      LocalPrometheus p = new LocalPrometheus(pb.start(), port, log);
      try {
        p.awaitReady(readyWithin);
        return p;
      } catch (IllegalStateException e) {
        last = e;
        p.close();
        if (!e.getMessage().contains("exited")) {
          throw e;
        }
      }
    }
    throw last;
  }

  private void awaitReady(Duration within) {
    long deadline = System.nanoTime() + within.toNanos();
    String lastProblem = "no answer yet";
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("prometheus exited with status " + process.exitValue()
            + " before it was ready; log:\n" + logTail());
      }
      try {
        HttpResponse<String> r = get("/-/ready");
        if (r.statusCode() == 200) {
          return;
        }
        lastProblem = "HTTP " + r.statusCode() + ": " + r.body().strip();
      } catch (IOException e) {
        lastProblem = e.toString();
      }
      pause();
    }
    throw new IllegalStateException("prometheus not ready on 127.0.0.1:" + port + " within "
        + within + " (" + lastProblem + "); log:\n" + logTail());
  }

  int port() {
    return port;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** An instant query evaluated at {@code time} (Unix seconds). */
  List<Series> query(String promql, double time) {
    return series(api("/api/v1/query", Map.of("query", promql, "time", seconds(time))));
  }

  /** A range query over [start, end] with {@code step} seconds between points. */
  List<Series> queryRange(String promql, double start, double end, double step) {
    return series(api("/api/v1/query_range", Map.of("query", promql, "start", seconds(start),
        "end", seconds(end), "step", seconds(step))));
  }

  /** The last part of the server's log, for failure messages. */
  String logTail() {
    try {
      String s = Files.readString(log, StandardCharsets.UTF_8);
      return s.length() <= 4000 ? s : s.substring(s.length() - 4000);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  /**
   * Polls {@code probe} until it yields a value or {@code within} runs out; between polls the
   * thread parks for {@link #POLL}. A probe that throws counts as "not yet" (its last failure
   * is reported on timeout).
   */
  static <T> T await(String what, Duration within, Supplier<Optional<T>> probe) {
    long deadline = System.nanoTime() + within.toNanos();
    String lastFailure = "";
    while (true) {
      try {
        Optional<T> v = probe.get();
        if (v.isPresent()) {
          return v.get();
        }
      } catch (RuntimeException e) {
        lastFailure = " (last failure: " + e.getMessage() + ")";
      }
      if (System.nanoTime() >= deadline) {
        throw new AssertionError("timed out after " + within + " waiting for " + what
            + lastFailure);
      }
      pause();
    }
  }

  static void pause() {
    LockSupport.parkNanos(POLL.toNanos());
  }

  private JsonElement api(String path, Map<String, String> params) {
    StringBuilder q = new StringBuilder();
    for (Map.Entry<String, String> e : params.entrySet()) {
      q.append(q.length() == 0 ? "?" : "&")
          .append(e.getKey()).append('=')
          .append(URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8));
    }
    HttpResponse<String> r;
    try {
      r = get(path + q);
    } catch (IOException e) {
      throw new IllegalStateException("prometheus " + path + " failed: " + e, e);
    }
    JsonObject body;
    try {
      body = JsonParser.parseString(r.body()).getAsJsonObject();
    } catch (JsonParseException | IllegalStateException e) {
      throw new IllegalStateException("prometheus " + path + ": HTTP " + r.statusCode()
          + ", unreadable body: " + r.body(), e);
    }
    if (r.statusCode() != 200 || !"success".equals(text(body, "status"))) {
      throw new IllegalStateException("prometheus " + path + " " + params.get("query")
          + ": HTTP " + r.statusCode() + " " + text(body, "errorType") + ": "
          + text(body, "error"));
    }
    return body.get("data");
  }

  private static String text(JsonObject o, String key) {
    JsonElement e = o.get(key);
    return e == null || e.isJsonNull() ? null : e.getAsString();
  }

  private static List<Series> series(JsonElement data) {
    JsonObject d = data.getAsJsonObject();
    String type = text(d, "resultType");
    List<Series> out = new ArrayList<>();
    switch (type) {
      case "scalar", "string" -> out.add(new Series(Map.of(),
          List.<double[]>of(sample(d.get("result")))));
      case "vector", "matrix" -> {
        for (JsonElement o : d.getAsJsonArray("result")) {
          JsonObject s = o.getAsJsonObject();
          Map<String, String> labels = new LinkedHashMap<>();
          s.getAsJsonObject("metric").entrySet()
              .forEach(e -> labels.put(e.getKey(), e.getValue().getAsString()));
          List<double[]> samples = new ArrayList<>();
          if (s.has("value")) {
            samples.add(sample(s.get("value")));
          } else {
            for (JsonElement v : s.getAsJsonArray("values")) {
              samples.add(sample(v));
            }
          }
          out.add(new Series(labels, samples));
        }
      }
      default -> throw new IllegalStateException("unexpected result type " + type);
    }
    return out;
  }

  private static double[] sample(JsonElement pair) {
    JsonArray p = pair.getAsJsonArray();
    return new double[] {p.get(0).getAsDouble(), parseValue(p.get(1).getAsString())};
  }

  private static double parseValue(String v) {
    return switch (v) {
      case "NaN" -> Double.NaN;
      case "+Inf" -> Double.POSITIVE_INFINITY;
      case "-Inf" -> Double.NEGATIVE_INFINITY;
      default -> Double.parseDouble(v);
    };
  }

  private HttpResponse<String> get(String pathAndQuery) throws IOException {
    HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
            + pathAndQuery))
        .timeout(REQUEST_TIMEOUT)
        .GET()
        .build();
    try {
      return http.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  static String seconds(double t) {
    return String.format(Locale.ROOT, "%.3f", t);
  }

  /** Stops the server: SIGTERM, up to 15 s for it to exit, then SIGKILL; waits for the exit. */
  @Override
  public void close() {
    if (!process.isAlive()) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(15, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(15, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
