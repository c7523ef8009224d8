package io.parasol.experiments;

import io.parasol.proto.v1.Mode;
import io.parasol.server.LocalCluster;
import io.parasol.experiments.runner.LocalRunner;
import io.parasol.experiments.report.Csv;
import io.parasol.experiments.report.Plot;
import io.parasol.worker.train.Arrivals;
import io.parasol.worker.train.DelayModel;
import io.parasol.worker.train.JobSettings;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * DASGD (Redder, Ramaswamy and Karl 2022): four workers each own one block of a logistic
 * model and read the others through message-arrival processes. With Bernoulli(p) arrivals and
 * one update of each block per step, the Age of Information has mean E[Δ_ij] = 1/p; a two-state
 * Markov channel (on → off a, off → on b) gives 1 + a/((a+b)·b). The error floor grows with
 * E[Δ].
 */
final class AoiExperiment implements Experiment {
  @Override
  public String name() {
    return "aoi";
  }

  @Override
  public String description() {
    return "DASGD on a logistic model with 4 blocks under Bernoulli(p) and Markov arrivals:"
        + " measured mean AoI against 1/p (and 1 + a/((a+b)b)); its running average; final"
        + " loss growing with E[Delta].";
  }

  @Override
  public List<Row> run(boolean quick, Path dir, PrintStream out) throws Exception {
    List<Arrivals> cases = quick
        ? List.of(Arrivals.bernoulli(1), Arrivals.bernoulli(0.5), Arrivals.bernoulli(0.25),
            Arrivals.markov(0.2, 0.2))
        : List.of(Arrivals.bernoulli(1), Arrivals.bernoulli(0.5), Arrivals.bernoulli(0.25),
            Arrivals.bernoulli(0.125), Arrivals.markov(0.2, 0.2), Arrivals.markov(0.1, 0.3));
    int steps = quick ? 120 : 300;
    Runs.warmUp();
    List<Row> rows = new ArrayList<>();
    List<double[]> csv = new ArrayList<>();
    Plot running = Plot.line("Running average of the AoI (all pairs)", "wall time (s)",
        "mean Delta_ij so far");
    double[] predictedMeans = new double[cases.size()];
    double[] losses = new double[cases.size()];
    for (int c = 0; c < cases.size(); c++) {
      Arrivals a = cases.get(c);
      List<double[]> curve = new ArrayList<>();
      ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "aoi-sampler");
        t.setDaemon(true);
        return t;
      });
      long start = System.nanoTime();
      Runs.Job j = new Runs.Job(JobSettings.defaults(Mode.MODE_ASYNC, 1, 4, 0.5f)
          .withUpdateBlocks("round-robin").withPartition("shared").withMaxBlockSize(22), steps);
      j.model = "logistic";
      j.data = Runs.binaryDigits();
      j.compute = DelayModel.parse(quick ? "exp:10ms" : "exp:20ms").quasiRandom();
      j.arrivals = a;
      j.onStart = cluster -> sampler.scheduleAtFixedRate(() -> sample(cluster, start, curve),
          100, 100, TimeUnit.MILLISECONDS);
      LocalRunner.Summary s;
      try {
        s = Runs.run(j);
      } finally {
        sampler.shutdownNow();
        sampler.awaitTermination(5, TimeUnit.SECONDS);
      }
      double predicted = a.predictedMeanAoi();
      predictedMeans[c] = predicted;
      losses[c] = s.trainLoss();
      rows.add(Row.compare("mean AoI, " + a, s.meanAoi(), predicted, "updates"));
      out.printf(Locale.ROOT, "  %s: mean AoI %.3f (predicted %.3f), final loss %.4f%n", a,
          s.meanAoi(), predicted, s.trainLoss());
      csv.add(new double[] {c, predicted, s.meanAoi(), s.trainLoss()});
      synchronized (curve) {
        if (!curve.isEmpty()) {
          running.series(a.toString(), Runs.seq(curve.size(), i -> curve.get(i)[0]),
              Runs.seq(curve.size(), i -> curve.get(i)[1]));
        }
      }
    }
    running.writePng(dir.resolve("aoi-running.png"), 900, 540);
    Csv.write(dir.resolve("aoi.csv"), List.of("case", "predicted_mean_aoi", "measured_mean_aoi",
        "train_loss"), csv);
    Plot.line("DASGD: final training loss against the predicted mean AoI", "E[Delta]",
            "training loss")
        .series("measured", predictedMeans, losses)
        .writePng(dir.resolve("aoi-loss.png"), 900, 540);
    int worst = 0;
    for (int c = 1; c < cases.size(); c++) {
      if (predictedMeans[c] > predictedMeans[worst]) {
        worst = c;
      }
    }
    rows.add(Row.check("final loss grows with E[Delta]: loss(" + cases.get(worst)
        + ") > loss(always)", losses[worst], losses[worst] > losses[0], ""));
    return rows;
  }

  /** Appends (seconds, mean Δ so far over all pairs) from the in-process shards. */
  private static void sample(LocalCluster cluster, long start, List<double[]> curve) {
    double sum = 0;
    long n = 0;
    for (var server : cluster.servers()) {
      var t = server.core().tracker();
      if (t == null) {
        continue;
      }
      var st = server.core().status();
      int blocks = st.getBlocksCount();
      for (int i = 0; i < blocks; i++) {
        for (int k = 0; k < blocks; k++) {
          long c = i == k ? 0 : t.aoiCount(i, k);
          if (c > 0) {
            sum += t.meanAoi(i, k) * c;
            n += c;
          }
        }
      }
    }
    if (n > 0) {
      synchronized (curve) {
        curve.add(new double[] {(System.nanoTime() - start) / 1e9, sum / n});
      }
    }
  }
}
