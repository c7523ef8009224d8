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
 * E[Δ]: each run also reports the live error-floor term Σ_i (α_i/κ_i)·Σ_{j≠i} L_ij·avg Δ_ij
 * (κ_i = 1/4 here, L_ij estimated online from gradient differences), and the check is that the
 * Bernoulli runs order their final loss as the term orders them.
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
        ? List.of(Arrivals.bernoulli(1), Arrivals.bernoulli(0.25), Arrivals.bernoulli(0.125),
            Arrivals.markov(0.2, 0.2))
        : List.of(Arrivals.bernoulli(1), Arrivals.bernoulli(0.5), Arrivals.bernoulli(0.25),
            Arrivals.bernoulli(0.125), Arrivals.bernoulli(0.0625), Arrivals.markov(0.2, 0.2),
            Arrivals.markov(0.1, 0.3));
    int steps = quick ? 120 : 300;
    Runs.warmUp();
    List<Row> rows = new ArrayList<>();
    List<double[]> csv = new ArrayList<>();
    Plot running = Plot.line("Running average of the AoI (all pairs)", "wall time (s)",
        "mean Delta_ij so far");
    double[] predictedMeans = new double[cases.size()];
    double[] losses = new double[cases.size()];
    double[] floors = new double[cases.size()];
    double[] tails = new double[cases.size()];
    for (int c = 0; c < cases.size(); c++) {
      Arrivals a = cases.get(c);
      List<double[]> curve = new ArrayList<>();
      ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "aoi-sampler");
        t.setDaemon(true);
        return t;
      });
      long start = System.nanoTime();
      Runs.Job j = new Runs.Job(JobSettings.builder(Mode.MODE_ASYNC, 1, 4, 0.5f)
          .updateBlocks("round-robin").partition("shared").maxBlockSize(22).build(), steps);
      j.model = "logistic";
      j.data = Runs.binaryDigits();
      j.compute = DelayModel.parse(quick ? "exp:10ms" : "exp:20ms").quasiRandom();
      j.arrivals = a;
      j.estimateLipschitz = true;
      j.evalEvery = 5;
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
      floors[c] = s.floor().errorFloor();
      tails[c] = tailMean(s.testCurve(), steps / 2);
      rows.add(Row.compare("mean AoI, " + a, s.meanAoi(), predicted, "updates"));
      out.printf(Locale.ROOT, "  %s: mean AoI %.3f (predicted %.3f), kappa %.3f,"
              + " error-floor term %.4f, final loss %.4f, mean test loss over the second half"
              + " %.4f%n", a, s.meanAoi(), predicted,
          java.util.Arrays.stream(s.floor().kappa()).average().orElse(Double.NaN), floors[c],
          s.trainLoss(), tails[c]);
      csv.add(new double[] {c, predicted, s.meanAoi(), s.trainLoss(), floors[c], tails[c]});
      synchronized (curve) {
        if (!curve.isEmpty()) {
          running.series(a.toString(), Runs.seq(curve.size(), i -> curve.get(i)[0]),
              Runs.seq(curve.size(), i -> curve.get(i)[1]));
        }
      }
    }
    running.writePng(dir.resolve("aoi-running.png"), 900, 540);
    Csv.write(dir.resolve("aoi.csv"), List.of("case", "predicted_mean_aoi", "measured_mean_aoi",
        "train_loss", "error_floor_term", "tail_test_loss"), csv);
    Plot.line("DASGD: final training loss against the error-floor term", "error-floor term",
            "training loss")
        .series("final training loss", floors, losses)
        .series("mean test loss, second half", floors, tails)
        .writePng(dir.resolve("aoi-floor.png"), 900, 540);
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
    // Every run, ordered by its error-floor term: the losses in the same order? The final loss
    // (the final model on the whole training set) is the claim; the theorem bounds an average
    // over the iterates, so the mean test loss over the second half is shown too.
    Integer[] order = new Integer[cases.size()];
    for (int c = 0; c < order.length; c++) {
      order[c] = c;
    }
    java.util.Arrays.sort(order, (x, y) -> Double.compare(floors[x], floors[y]));
    out.println("  runs by error-floor term (term -> final loss; mean test loss, second half):");
    for (int c : order) {
      out.printf(Locale.ROOT, "    %-16s %9.3f -> %.4f; %.4f%n", cases.get(c), floors[c],
          losses[c], tails[c]);
    }
    // The runs that differ in their arrival probability p (Bernoulli): the claim checked.
    int[] bern = java.util.stream.IntStream.range(0, cases.size())
        .filter(c -> cases.get(c).toString().startsWith("bernoulli")).toArray();
    double[] bernFloors = java.util.Arrays.stream(bern).mapToDouble(c -> floors[c]).toArray();
    double tau = kendall(bernFloors,
        java.util.Arrays.stream(bern).mapToDouble(c -> losses[c]).toArray());
    rows.add(Row.check("Bernoulli(p) runs order their final loss as their error-floor term"
        + " (Kendall tau)", tau, tau == 1.0, ""));
    double tauTail = kendall(bernFloors,
        java.util.Arrays.stream(bern).mapToDouble(c -> tails[c]).toArray());
    rows.add(Row.check("Bernoulli(p) runs order their mean test loss over the second half as"
        + " their error-floor term (Kendall tau)", tauTail, tauTail == 1.0, ""));
    // Every run, Markov channels included (their terms can lie close to a Bernoulli run's).
    double tauAll = kendall(floors, losses);
    rows.add(Row.check("all runs order their final loss as their error-floor term (Kendall"
        + " tau)", tauAll, tauAll == 1.0, ""));
    return rows;
  }

  /** Kendall's τ of two equally long samples (pairs tied in either count as discordant). */
  static double kendall(double[] a, double[] b) {
    int concordant = 0;
    int pairs = 0;
    for (int i = 0; i < a.length; i++) {
      for (int k = i + 1; k < a.length; k++) {
        pairs++;
        concordant += Math.signum(a[i] - a[k]) * Math.signum(b[i] - b[k]) > 0 ? 1 : 0;
      }
    }
    return pairs == 0 ? Double.NaN : (2.0 * concordant - pairs) / pairs;
  }

  /** Mean test loss of the evaluations at step {@code from} or later (NaN if none). */
  static double tailMean(List<double[]> curve, long from) {
    return curve.stream().filter(p -> p[1] >= from).mapToDouble(p -> p[2]).average()
        .orElse(Double.NaN);
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
