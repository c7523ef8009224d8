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
 * The lecture's runtime analysis with exponential compute times X ~ Exp(μ): a synchronous
 * iteration waits for the slowest of m workers, E[X_{m:m}] = H_m/μ; asynchronous SGD applies
 * an update every E[T] = 1/(mμ) on average. Measured with injected Exp(μ) delays that dominate
 * real compute; the zero-delay run of the same job is subtracted.
 */
final class SyncRuntimeExperiment implements Experiment {
  @Override
  public String name() {
    return "sync-runtime";
  }

  @Override
  public String description() {
    return "Sync iteration time with Exp(mu) compute delays for m = 1, 2, 4, 8 against"
        + " E[X_{m:m}] = H_m/mu, and async time between updates against 1/(m mu).";
  }

  @Override
  public List<Row> run(boolean quick, Path dir, PrintStream out) throws Exception {
    double meanMs = quick ? 40 : 100;
    int steps = quick ? 40 : 100;
    int[] ms = {1, 2, 4, 8};
    DelayModel exp = DelayModel.parse("exp:" + meanMs + "ms").quasiRandom();
    // A busy machine's hiccups only ever add time, and short runs feel them most: the quick
    // version keeps the fastest of two runs of each job.
    int repeats = quick ? 2 : 1;
    Runs.warmUp();
    List<Row> rows = new ArrayList<>();
    List<double[]> csv = new ArrayList<>();
    double[] syncMeasured = new double[ms.length];
    double[] syncPredicted = new double[ms.length];
    for (int i = 0; i < ms.length; i++) {
      int m = ms[i];
      double base = wall(Mode.MODE_SYNC, m, steps, DelayModel.NONE, repeats);
      double delayed = wall(Mode.MODE_SYNC, m, steps, exp, repeats);
      double measured = (delayed - base) / steps * 1000;
      double predicted = Runs.harmonic(m) * meanMs;
      syncMeasured[i] = measured;
      syncPredicted[i] = predicted;
      rows.add(Row.compare("sync iteration time, m = " + m, measured, predicted, "ms"));
      out.printf(Locale.ROOT, "  sync m=%d: %.2f ms per iteration (H_m/mu = %.2f ms)%n", m,
          measured, predicted);
      csv.add(new double[] {0, m, measured, predicted, base / steps * 1000});
    }
    for (int m : ms) {
      double base = wall(Mode.MODE_ASYNC, m, steps, DelayModel.NONE, repeats);
      double delayed = wall(Mode.MODE_ASYNC, m, steps, exp, repeats);
      double measured = (delayed - base) / ((double) steps * m) * 1000;
      double predicted = meanMs / m;
      rows.add(Row.compare("async time between updates, m = " + m, measured, predicted, "ms"));
      out.printf(Locale.ROOT, "  async m=%d: %.2f ms between updates (1/(m mu) = %.2f ms)%n", m,
          measured, predicted);
      csv.add(new double[] {1, m, measured, predicted, base / ((double) steps * m) * 1000});
    }
    Csv.write(dir.resolve("sync-runtime.csv"),
        List.of("async", "workers", "measured_ms", "predicted_ms", "overhead_ms"), csv);
    double[] x = java.util.Arrays.stream(ms).asDoubleStream().toArray();
    Plot.bars("Sync iteration time with Exp(mu) delays, mean " + meanMs + " ms",
            "workers m", "ms per iteration")
        .series("measured", x, syncMeasured)
        .series("H_m / mu", x, syncPredicted)
        .writePng(dir.resolve("sync-runtime.png"), 900, 540);
    return rows;
  }

  /** The fewest wall seconds of {@code repeats} runs of a job (evaluation off). */
  private static double wall(Mode mode, int m, int steps, DelayModel delay, int repeats)
      throws Exception {
    double best = Double.MAX_VALUE;
    for (int r = 0; r < repeats; r++) {
      Runs.Job j = new Runs.Job(JobSettings.defaults(mode, 1, m, 0.1f), steps);
      j.compute = delay;
      LocalRunner.Summary s = Runs.run(j);
      best = Math.min(best, s.wallSeconds());
    }
    return best;
  }
}
