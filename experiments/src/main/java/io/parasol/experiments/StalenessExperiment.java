package io.parasol.experiments;

import io.parasol.proto.v1.Mode;
import io.parasol.experiments.runner.LocalRunner;
import io.parasol.experiments.report.Csv;
import io.parasol.experiments.report.Plot;
import io.parasol.worker.train.DelayModel;
import io.parasol.worker.train.JobSettings;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The staleness of asynchronous SGD with m homogeneous workers and exponential compute times:
 * while one worker computes, each of the other m−1 pushes at the same rate, so the number of
 * updates between a read and its write is geometric, P(τ = k) = (1/m)(1 − 1/m)^k, with mean
 * m − 1.
 */
final class StalenessExperiment implements Experiment {
  @Override
  public String name() {
    return "staleness";
  }

  @Override
  public String description() {
    return "Async staleness distribution for m = 2, 4, 8 with Exp(mu) delays against the"
        + " geometric law P(tau = k) = (1/m)(1 - 1/m)^k, mean m - 1.";
  }

  @Override
  public List<Row> run(boolean quick, Path dir, PrintStream out) throws Exception {
    String delay = quick ? "exp:40ms" : "exp:100ms";
    int steps = quick ? 40 : 100;
    Runs.warmUp();
    List<Row> rows = new ArrayList<>();
    List<double[]> csv = new ArrayList<>();
    for (int m : new int[] {2, 4, 8}) {
      Runs.Job j = new Runs.Job(JobSettings.defaults(Mode.MODE_ASYNC, 1, m, 0.1f), steps);
      j.compute = DelayModel.parse(delay).quasiRandom();
      LocalRunner.Summary s = Runs.run(j);
      rows.add(Row.compare("mean staleness, m = " + m, s.meanStaleness(), m - 1, "updates"));
      out.printf(Locale.ROOT, "  m=%d: mean staleness %.3f (m - 1 = %d)%n", m,
          s.meanStaleness(), m - 1);
      long[] counts = s.stalenessCounts();
      long total = 0;
      for (long c : counts) {
        total += c;
      }
      int kmax = Math.min(counts.length, 4 * m + 1);
      double[] ks = Runs.seq(kmax, k -> k);
      double[] measured = new double[kmax];
      double[] law = new double[kmax];
      for (int k = 0; k < kmax; k++) {
        measured[k] = total == 0 ? 0 : (double) counts[k] / total;
        law[k] = (1.0 / m) * Math.pow(1 - 1.0 / m, k);
        csv.add(new double[] {m, k, measured[k], law[k]});
      }
      Plot.bars(String.format(Locale.ROOT, "Async staleness, m = %d (%s compute delays):"
              + " mean %.2f vs m - 1 = %d", m, delay, s.meanStaleness(), m - 1),
          "staleness tau", "P(tau = k)")
          .series("measured", ks, measured)
          .curve("geometric law (1/m)(1 - 1/m)^k", ks, law)
          .writePng(dir.resolve("staleness-m" + m + ".png"), 900, 540);
    }
    Csv.write(dir.resolve("staleness.csv"), List.of("workers", "tau", "measured_p", "law_p"),
        csv);
    return rows;
  }
}
