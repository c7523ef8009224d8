package io.parasol.experiments.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.parasol.proto.v1.Mode;
import io.parasol.common.metrics.MetricsServer;
import io.parasol.worker.data.Scaling;
import io.parasol.experiments.runner.LocalRunner;
import io.parasol.worker.model.Model;
import io.parasol.worker.model.Models;
import io.parasol.experiments.observability.LocalPrometheus.Series;
import io.parasol.worker.train.DelayModel;
import io.parasol.worker.train.JobSettings;
import io.parasol.worker.train.TrainingData;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Prometheus (the Debian package's binary, as a child process on 127.0.0.1) scrapes the
 * embedded cluster's /metrics every 250 ms while an async job trains softmax on digits, with
 * docker/prometheus-rules.yml loaded. The test then checks through Prometheus's HTTP API that
 * the shard and worker metrics arrive as the dashboards expect, and runs every PromQL
 * expression of docker/grafana/dashboards/*.json against it.
 *
 * <p>The round panels of the training dashboard only have data in sync/local mode, so a short
 * sync job runs first on a second metrics endpoint (scraped with {@code run="sync"}); the main
 * async job is scraped with {@code run="async"}.
 */
@Tag("slow")
class PrometheusIntegrationTest {
  private static final int SHARDS = 2;
  private static final int WORKERS = 4;
  private static final long STEPS = 120;
  private static final long SYNC_STEPS = 40;
  private static final Duration DEADLINE = Duration.ofSeconds(60);
  private static final Duration JOB_DEADLINE = Duration.ofSeconds(180);
  /** What replaces Grafana's $__rate_interval: 8 scrapes at 250 ms. */
  private static final String RATE_INTERVAL = "2s";
  private static final Path REPO = Path.of("..");

  @TempDir
  static Path tmp;

  private static LocalPrometheus prometheus;
  private static MetricsServer asyncMetrics;
  private static MetricsServer syncMetrics;
  private static ExecutorService jobs;
  private static LocalRunner.Summary summary;
  private static int numBlocks;
  private static double testStart;
  private static double asyncStart;
  private static double asyncEnd;
  /** When both jobs' final counts were in Prometheus; recording rules are read at this time. */
  private static double ingested;

  @BeforeAll
  static void runJobs_underPrometheus() throws Exception {
    Optional<Path> binary = LocalPrometheus.findBinary();
    if (binary.isEmpty()) {
      return; // every test skips, see requirePrometheus
    }

    TrainingData data = TrainingData.load("digits", null, -1, false, false, 0.2,
        Scaling.parse("minmax"), 1);
    Model model = Models.create("softmax", data.train().numFeatures(),
        data.train().numClasses());
    JobSettings async = JobSettings.defaults(Mode.MODE_ASYNC, SHARDS, WORKERS, 0.5f);
    JobSettings sync = JobSettings.defaults(Mode.MODE_SYNC, SHARDS, WORKERS, 0.5f);
    numBlocks = async.layout(model).numBlocks();

    asyncMetrics = MetricsServer.start(MetricsServer.newRegistry(), "127.0.0.1", 0);
    syncMetrics = MetricsServer.start(MetricsServer.newRegistry(), "127.0.0.1", 0);
    Path rules = Files.copy(REPO.resolve("docker/prometheus-rules.yml"),
        tmp.resolve("rules.yml"));
    String config = String.join("\n",
        "global:",
        "  scrape_interval: 250ms",
        "  scrape_timeout: 200ms",
        "  evaluation_interval: 250ms",
        "rule_files:",
        "  - '" + rules.toAbsolutePath() + "'",
        "scrape_configs:",
        "  - job_name: parasol-local",
        "    metrics_path: /metrics",
        "    static_configs:",
        "      - targets: ['127.0.0.1:" + asyncMetrics.port() + "']",
        "        labels: {run: async}",
        "      - targets: ['127.0.0.1:" + syncMetrics.port() + "']",
        "        labels: {run: sync}",
        "");
    prometheus = LocalPrometheus.start(binary.get(), tmp, config, DEADLINE);
    System.out.printf(Locale.ROOT, "prometheus on 127.0.0.1:%d scraping 127.0.0.1:%d (async)"
        + " and 127.0.0.1:%d (sync)%n", prometheus.port(), asyncMetrics.port(),
        syncMetrics.port());
    LocalPrometheus.await("both metrics endpoints scraped (up == 1)", DEADLINE, () ->
        prometheus.query("up{job=\"parasol-local\"} == 1", now()).size() == 2
            ? Optional.of(true) : Optional.empty());

    jobs = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "prometheus-it-job");
      t.setDaemon(true);
      return t;
    });
    testStart = now();
    Future<LocalRunner.Summary> syncJob = jobs.submit(() ->
        LocalRunner.run(options(sync, data, SYNC_STEPS), syncMetrics.registry(), null));
    syncJob.get(JOB_DEADLINE.toSeconds(), TimeUnit.SECONDS);

    asyncStart = now();
    Future<LocalRunner.Summary> asyncJob = jobs.submit(() ->
        LocalRunner.run(options(async, data, STEPS), asyncMetrics.registry(), null));
    summary = asyncJob.get(JOB_DEADLINE.toSeconds(), TimeUnit.SECONDS);
    asyncEnd = now();
    System.out.printf(Locale.ROOT, "async job: %d blocks, %.2f s, test accuracy %.4f, mean"
            + " staleness %.3f%n", summary.blocks(), summary.wallSeconds(),
        summary.testAccuracy(), summary.meanStaleness());

    // Wait for a scrape taken after each job ended: every step is then counted.
    awaitSum("sum(parasol_worker_steps_total{run=\"async\"})", WORKERS * STEPS);
    awaitSum("sum(parasol_worker_steps_total{run=\"sync\"})", WORKERS * SYNC_STEPS);
    ingested = now();
  }

  @BeforeEach
  void requirePrometheus() {
    Assumptions.assumeTrue(prometheus != null,
        "prometheus binary not found: install Debian's prometheus package (.ci/run does)");
  }

  @AfterAll
  static void stopEverything() {
    try {
      if (prometheus != null) {
        prometheus.close();
      }
    } finally {
      if (jobs != null) {
        jobs.shutdownNow();
      }
      if (asyncMetrics != null) {
        asyncMetrics.close();
      }
      if (syncMetrics != null) {
        syncMetrics.close();
      }
    }
    if (prometheus != null) {
      assertThat(prometheus.isAlive()).as("prometheus stopped").isFalse();
    }
  }

  @Test
  void stalenessHistogram_hasSamplesForEveryBlock() {
    List<Series> counts = prometheus.query(
        "sum by (block) (parasol_shard_staleness_updates_count{run=\"async\"}) > 0", now());
    Set<Integer> blocks = counts.stream().map(s -> Integer.parseInt(s.labels().get("block")))
        .collect(Collectors.toCollection(TreeSet::new));
    System.out.printf(Locale.ROOT, "staleness _count > 0 for blocks %s (layout: %d blocks)%n",
        blocks, numBlocks);
    assertThat(blocks).containsExactlyElementsOf(
        IntStream.range(0, numBlocks).boxed().toList());
    // Every bucket series is there too: the heatmap reads them.
    List<Series> buckets = prometheus.query(
        "count by (block) (parasol_shard_staleness_updates_bucket{run=\"async\"})", now());
    assertThat(buckets).hasSize(numBlocks);
  }

  @Test
  void kappa_isOneForEveryBlockOfAnAsyncJob_andRecordingRulesHaveOneSeriesPerBlock() {
    // κ_i = ν_i / n: every async push updates every block, so ν_i = n for each block.
    List<Series> kappa = prometheus.query("parasol_shard_updates_total{run=\"async\"}"
        + " / scalar(sum(parasol_worker_iterations_total{run=\"async\"}))", ingested);
    System.out.printf(Locale.ROOT, "kappa from counters: %d series, %s%n", kappa.size(),
        kappa.stream().map(s -> String.format(Locale.ROOT, "%.6f", s.value())).toList());
    assertThat(kappa).hasSize(numBlocks);
    assertThat(kappa).allSatisfy(s -> assertThat(s.value()).isCloseTo(1.0, within(1e-9)));

    List<Series> rule = LocalPrometheus.await("parasol:block_kappa for every block",
        DEADLINE, () -> {
          List<Series> s = prometheus.query("parasol:block_kappa{run=\"async\"}", ingested);
          return s.size() == numBlocks ? Optional.of(s) : Optional.empty();
        });
    Set<String> blocks = rule.stream().map(s -> s.labels().get("block"))
        .collect(Collectors.toCollection(TreeSet::new));
    System.out.printf(Locale.ROOT, "parasol:block_kappa: %d series, %s%n", rule.size(),
        rule.stream().map(s -> String.format(Locale.ROOT, "%.4f", s.value())).toList());
    assertThat(blocks).hasSize(numBlocks);
    // Rates of counters scraped together: the same up to pushes between two updates' scrapes.
    assertThat(rule).allSatisfy(s -> assertThat(s.value()).isCloseTo(1.0, within(0.05)));
    // The summary agrees: n = the workers' applied pushes.
    assertThat(summary.floor().kappa()).containsOnly(1.0);

    List<Series> floor = LocalPrometheus.await("parasol:error_floor", DEADLINE, () -> {
      List<Series> s = prometheus.query("parasol:error_floor{run=\"async\"}", ingested);
      return s.size() == 1 ? Optional.of(s) : Optional.empty();
    });
    System.out.printf(Locale.ROOT, "parasol:error_floor %.4f, summary %.4f%n",
        floor.get(0).value(), summary.floor().errorFloor());
    assertThat(floor.get(0).value()).isFinite().isPositive();
  }

  @Test
  void recordingRules_stalenessAndAoiMeans_coverEveryBlockAndPair() {
    List<Series> staleness = LocalPrometheus.await("parasol:staleness_mean", DEADLINE, () -> {
      List<Series> s = prometheus.query("parasol:staleness_mean", ingested);
      return s.size() == numBlocks ? Optional.of(s) : Optional.empty();
    });
    List<Series> aoi = LocalPrometheus.await("parasol:aoi_mean", DEADLINE, () -> {
      List<Series> s = prometheus.query("parasol:aoi_mean", ingested);
      return s.size() == numBlocks * (numBlocks - 1) ? Optional.of(s) : Optional.empty();
    });
    System.out.printf(Locale.ROOT, "parasol:staleness_mean %d series, parasol:aoi_mean %d"
        + " series%n", staleness.size(), aoi.size());
    assertThat(staleness).allSatisfy(s -> assertThat(s.value()).isFinite());
    assertThat(aoi).allSatisfy(s -> assertThat(s.value()).isFinite());
  }

  @Test
  void loss_decreasesOverTheRun() {
    List<Series> loss = prometheus.queryRange("avg(parasol_worker_loss{run=\"async\"})",
        asyncStart, asyncEnd, 0.25);
    assertThat(loss).hasSize(1);
    double[] values = loss.get(0).samples().stream().mapToDouble(s -> s[1])
        .filter(Double::isFinite).toArray();
    // 120 steps of at least 10 ms of compute each span several 250 ms scrapes.
    assertThat(values.length).as("finite loss samples").isGreaterThanOrEqualTo(4);
    int third = values.length / 3;
    double first = mean(values, 0, third);
    double last = mean(values, values.length - third, values.length);
    System.out.printf(Locale.ROOT, "loss: %d samples, mean of first third %.4f, of last third"
        + " %.4f%n", values.length, first, last);
    assertThat(first).isGreaterThan(last);
  }

  @Test
  void dashboards_everyExpressionReturnsData() throws IOException {
    List<Expr> exprs = new ArrayList<>();
    try (Stream<Path> files = Files.list(REPO.resolve("docker/grafana/dashboards"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
        JsonObject d = JsonParser.parseString(Files.readString(f, StandardCharsets.UTF_8))
            .getAsJsonObject();
        collect(f.getFileName().toString(), d.get("panels"), exprs);
      }
    }
    assertThat(exprs).as("dashboard expressions").hasSizeGreaterThanOrEqualTo(20);

    List<String> failures = new ArrayList<>();
    StringBuilder table = new StringBuilder(String.format(Locale.ROOT,
        "%n%-15s %-45s %7s %7s  %s%n", "dashboard", "panel", "instant", "range", "expr"));
    for (Expr e : exprs) {
      String promql = concrete(e.expr());
      int instant = -1;
      int range = -1;
      try {
        List<Series> at = prometheus.query(promql, asyncEnd);
        instant = (int) at.stream().filter(Series::hasFiniteSample).count();
        if (instant == 0) {
          // A rate over a window with no increase (e.g. the sync rounds, long over at the
          // async job's end) gives NaN: look for data over the whole run instead.
          range = (int) prometheus.queryRange(promql, testStart, asyncEnd, 0.25).stream()
              .filter(Series::hasFiniteSample).count();
        }
      } catch (IllegalStateException ex) {
        failures.add(e.panel() + ": " + ex.getMessage());
      }
      if (instant <= 0 && range <= 0) {
        failures.add(e.panel() + ": no data: " + promql);
      }
      table.append(String.format(Locale.ROOT, "%-15s %-45s %7s %7s  %s%n", e.dashboard(),
          abbreviate(e.panel(), 45), instant, range < 0 ? "-" : Integer.toString(range),
          promql));
    }
    System.out.print(table);
    System.out.printf(Locale.ROOT, "%d expressions checked (instant series with a finite"
        + " value at the async job's end; range: series with data over the run, tried when"
        + " the instant had none)%n", exprs.size());
    assertThat(failures).isEmpty();
  }

  /** A PromQL expression of a dashboard panel. */
  private record Expr(String dashboard, String panel, String expr) {}

  /** Walks panels, including those nested in rows, collecting targets[].expr. */
  private static void collect(String dashboard, JsonElement panels, List<Expr> out) {
    if (panels == null || !panels.isJsonArray()) {
      return;
    }
    for (JsonElement o : panels.getAsJsonArray()) {
      JsonObject p = o.getAsJsonObject();
      JsonElement targets = p.get("targets");
      if (targets != null && targets.isJsonArray()) {
        for (JsonElement t : targets.getAsJsonArray()) {
          JsonElement expr = t.getAsJsonObject().get("expr");
          if (expr != null && expr.isJsonPrimitive() && !expr.getAsString().isBlank()) {
            JsonElement title = p.get("title");
            out.add(new Expr(dashboard, title == null ? "null" : title.getAsString(),
                expr.getAsString()));
          }
        }
      }
      collect(dashboard, p.get("panels"), out);
    }
  }

  /** The expression with $__rate_interval = 2s and every other Grafana variable = .* . */
  static String concrete(String expr) {
    return expr.replace("${__rate_interval}", RATE_INTERVAL)
        .replace("$__rate_interval", RATE_INTERVAL)
        .replaceAll("\\$\\{[^}]*\\}|\\$[A-Za-z_][A-Za-z0-9_]*", ".*");
  }

  private static LocalRunner.Options options(JobSettings js, TrainingData data, long steps) {
    return LocalRunner.Options.builder(js, "softmax", data).batchSize(32).epochs(0)
        .steps(steps).evalEvery(20).timeouts(Duration.ofSeconds(30), Duration.ofSeconds(60))
        .computeDelay(DelayModel.parse("exp:10ms")).build();
  }

  private static void awaitSum(String promql, long expected) {
    LocalPrometheus.await(promql + " == " + expected, DEADLINE, () -> {
      List<Series> s = prometheus.query(promql, now());
      return !s.isEmpty() && s.get(0).value() == expected ? Optional.of(true)
          : Optional.empty();
    });
  }

  private static double now() {
    return System.currentTimeMillis() / 1000.0;
  }

  private static double mean(double[] v, int from, int to) {
    double s = 0;
    for (int k = from; k < to; k++) {
      s += v[k];
    }
    return s / (to - from);
  }

  private static String abbreviate(String s, int n) {
    return s.length() <= n ? s : s.substring(0, n - 1) + "…";
  }
}
