package io.parasol.cli;

import io.parasol.common.metrics.MetricsServer;
import io.parasol.experiments.runner.ElasticPlan;
import io.parasol.experiments.runner.LocalRunner;
import io.parasol.experiments.runner.RunReport;
import io.parasol.worker.train.JobKeys;
import io.parasol.worker.train.JobSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code parasol local}: the embedded cluster. */
@Command(name = "local", mixinStandardHelpOptions = true,
    description = "Train on an embedded cluster: S shards and M workers in one JVM over real"
        + " gRPC on 127.0.0.1. With no flags: softmax on the bundled digits, async, 2 shards,"
        + " 4 workers.")
public final class LocalCommand implements Callable<Integer> {
  @Mixin
  JobOptions job;

  @Option(names = "--summary-json", description = "Write the run's summary as JSON to PATH.")
  Path summaryJson;

  @Option(names = "--quiet", description = "Print only the summary.")
  boolean quiet;

  @Option(names = "--run-dir", defaultValue = "runs",
      description = "Where each run's folder (summary.json, loss.csv, staleness.csv, loss.png,"
          + " staleness.png) goes (default: ${DEFAULT-VALUE}).")
  Path runDir;

  @Option(names = "--no-report", description = "Write no run folder.")
  boolean noReport;

  @Option(names = "--estimate-lipschitz", description = "Estimate the block Lipschitz constants"
      + " L_ij of the error floor online (one more gradient per step, on the same mini-batch,"
      + " with one block moved); default: L_ij = 1.")
  boolean estimateLipschitz;

  @Option(names = JobKeys.MAX_WORKERS_FLAG, defaultValue = JobKeys.MAX_WORKERS_DEFAULT,
      description = JobKeys.MAX_WORKERS_HELP)
  int maxWorkers;

  @Option(names = "--join", paramLabel = "K@STEP", description = "Elastic workers: K more"
      + " workers (the next indices, up to --max-workers) join when worker 0 has completed STEP"
      + " steps (sync: the version; local: local steps). Repeatable.")
  List<String> joins;

  @Option(names = "--leave", paramLabel = "K@STEP", description = "Elastic workers: K workers"
      + " (the highest indices live before STEP, never worker 0) finish at STEP and leave the"
      + " job (async/ssp: their own pushes, counted from the step they joined at). Repeatable.")
  List<String> leaves;

  @Override
  public Integer call() throws Exception {
    double[] slow = job.slowWorkers();
    JobSettings js = job.settings().toBuilder().maxWorkers(maxWorkers).build();
    LocalRunner.Options o = LocalRunner.Options.builder(js, job.model(),
        job.loadData()).batchSize(job.batchSize).epochs(job.epochs).steps(job.steps)
        .evalEvery(job.evalEvery).timeouts(job.rpcTimeout(), job.pullTimeout())
        .computeDelay(job.computeDelay()).commDelay(job.commDelay()).arrivals(job.arrivals())
        .slowWorkers((int) slow[0], slow[1]).wire(job.wire())
        .allowDivergence(job.allowDivergence).jobName(job.jobName).modelOptions(job.modelOptions())
        .estimateLipschitz(estimateLipschitz).elastic(ElasticPlan.parse(joins, leaves)).build();
    if (job.metricsPort < 0 || job.metricsPort > 65535) {
      throw new IllegalArgumentException("--metrics-port must be in 0..65535");
    }
    MetricsServer metrics = job.metricsPort > 0
        ? MetricsServer.start(MetricsServer.newRegistry(), "127.0.0.1", job.metricsPort) : null;
    LocalRunner.Summary s;
    Path folder;
    try {
      if (metrics != null && !quiet) {
        System.out.println("metrics on http://127.0.0.1:" + metrics.port() + "/metrics");
      }
      folder = noReport ? null
          : RunReport.newFolder(runDir, JobSettings.modeName(o.job().mode()));
      s = LocalRunner.run(o, metrics == null ? null : metrics.registry(),
          quiet ? null : System.out, folder);

    } finally {
      if (metrics != null) {
        metrics.close();
      }
    }
    System.out.print(LocalRunner.table(s));
    if (folder != null) {
      System.out.println("run folder: " + folder.toAbsolutePath().normalize());
    }
    if (summaryJson != null) {
      Path parent = summaryJson.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Files.writeString(summaryJson, s.toJson(), StandardCharsets.UTF_8);
      System.out.println("summary written to " + summaryJson);
    }
    return 0;
  }
}
