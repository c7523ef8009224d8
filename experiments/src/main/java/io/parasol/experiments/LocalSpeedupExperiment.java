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
 * Local-update SGD trades communication for staleness of the model: with compute Y per local
 * step and communication D = αY per round, a local step costs Y + D/τ against Y + D for
 * synchronous SGD, a speed-up of (1 + α)/(1 + α/τ); the price is an error term growing with
 * (τ − 1). Delays are injected (compute per step, communication per round), large against the
 * real compute of a step, and the time per local step is the difference between a run of 2n
 * and a run of n local steps divided by n, which cancels what a run spends once (start-up,
 * init, the final evaluation). Subtracting zero-delay runs instead would subtract figures
 * taken with the cores busy, which the delayed runs never are.
 */
final class LocalSpeedupExperiment implements Experiment {
  @Override
  public String name() {
    return "local-speedup";
  }

  @Override
  public String description() {
    return "Local-update SGD with injected compute Y and communication D = alpha Y for tau in"
        + " {1, 2, 4, 8, 16} and alpha in {0.25, 1, 4}: speed-up per local step against"
        + " (1 + alpha)/(1 + alpha/tau); final loss against tau.";
  }

  @Override
  public List<Row> run(boolean quick, Path dir, PrintStream out) throws Exception {
    int[] taus = quick ? new int[] {1, 4, 16} : new int[] {1, 2, 4, 8, 16};
    double[] alphas = quick ? new double[] {1, 4} : new double[] {0.25, 1, 4};
    double yMs = quick ? 10 : 50;
    int steps = quick ? 32 : 64;
    // Runs are at the mercy of a busy machine's hiccups, which only ever add time: keep the
    // faster of two runs of each length.
    int repeats = 2;
    int m = 4;
    List<Row> rows = new ArrayList<>();
    List<double[]> csv = new ArrayList<>();
    Runs.warmUp();
    Plot plot = Plot.line("Local-update SGD: speed-up per local step over tau = 1", "tau",
        "speed-up");
    for (double alpha : alphas) {
      double[] t = new double[taus.length];
      for (int i = 0; i < taus.length; i++) {
        t[i] = perStep(taus[i], m, steps, repeats, DelayModel.parse("const:" + yMs + "ms"),
            DelayModel.parse("const:" + (alpha * yMs) + "ms"));
      }
      double[] measured = new double[taus.length];
      double[] predicted = new double[taus.length];
      double[] xs = new double[taus.length];
      for (int i = 0; i < taus.length; i++) {
        int tau = taus[i];
        measured[i] = t[0] / t[i];
        predicted[i] = (1 + alpha) / (1 + alpha / tau);
        xs[i] = tau;
        if (tau > 1) {
          rows.add(Row.compare(String.format(Locale.ROOT, "speed-up, alpha = %s, tau = %d",
              fmt(alpha), tau), measured[i], predicted[i], "x"));
        }
        out.printf(Locale.ROOT, "  alpha=%s tau=%2d: %.2f ms per local step, speed-up %.3f"
            + " (predicted %.3f)%n", fmt(alpha), tau, t[i] * 1000, measured[i], predicted[i]);
        csv.add(new double[] {alpha, tau, t[i] * 1000, measured[i], predicted[i]});
      }
      plot.series("measured, alpha = " + fmt(alpha), xs, measured);
      plot.series("(1+a)/(1+a/tau), alpha = " + fmt(alpha), xs, predicted);
    }
    plot.writePng(dir.resolve("local-speedup.png"), 900, 540);
    Csv.write(dir.resolve("local-speedup.csv"), List.of("alpha", "tau", "ms_per_local_step",
        "speedup", "predicted"), csv);

    // The error term: same number of local steps, no delays; final training loss against tau.
    int lossSteps = quick ? 96 : 240;
    double[] losses = new double[taus.length];
    List<double[]> lossCsv = new ArrayList<>();
    for (int i = 0; i < taus.length; i++) {
      Runs.Job j = new Runs.Job(JobSettings.builder(Mode.MODE_LOCAL, 1, m, 0.5f)
          .localSteps(taus[i]).partition("label-skew:0.3").build(), lossSteps);
      losses[i] = Runs.run(j).trainLoss();
      lossCsv.add(new double[] {taus[i], losses[i]});
      out.printf(Locale.ROOT, "  tau=%2d: final training loss %.4f (non-IID parts)%n", taus[i],
          losses[i]);
    }
    Csv.write(dir.resolve("local-loss.csv"), List.of("tau", "train_loss"), lossCsv);
    Plot.line("Local-update SGD: final training loss after " + lossSteps + " local steps"
            + " (label-skew parts)", "tau", "training loss")
        .series("measured", Runs.seq(taus.length, i -> taus[i]), losses)
        .writePng(dir.resolve("local-loss.png"), 900, 540);
    rows.add(Row.check("final loss grows with tau: loss(tau = " + taus[taus.length - 1]
        + ") > loss(tau = 1)", losses[taus.length - 1], losses[taus.length - 1] > losses[0],
        ""));
    return rows;
  }

  private static String fmt(double a) {
    return a == Math.rint(a) ? Long.toString((long) a) : Double.toString(a);
  }

  /**
   * Seconds per local step of a local-update job: the wall time of 2n local steps less that of
   * n, divided by n.
   */
  private static double perStep(int tau, int m, int n, int repeats, DelayModel compute,
      DelayModel comm) throws Exception {
    double longer = Double.MAX_VALUE;
    double shorter = Double.MAX_VALUE;
    for (int r = 0; r < repeats; r++) {
      longer = Math.min(longer, wall(tau, m, 2 * n, compute, comm));
      shorter = Math.min(shorter, wall(tau, m, n, compute, comm));
    }
    return (longer - shorter) / n;
  }

  private static double wall(int tau, int m, int steps, DelayModel compute, DelayModel comm)
      throws Exception {
    Runs.Job j = new Runs.Job(JobSettings.builder(Mode.MODE_LOCAL, 1, m, 0.1f)
        .localSteps(tau).build(), steps);
    j.compute = compute;
    j.comm = comm;
    LocalRunner.Summary s = Runs.run(j);
    if (s.stepsPerWorker() != steps) {
      throw new IllegalStateException("ran " + s.stepsPerWorker() + " steps, not " + steps);
    }
    return s.wallSeconds();
  }
}
