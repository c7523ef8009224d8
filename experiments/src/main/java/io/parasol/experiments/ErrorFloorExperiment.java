package io.parasol.experiments;

import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.StalenessLr;
import io.parasol.worker.data.Dataset;
import io.parasol.experiments.runner.LocalRunner;
import io.parasol.experiments.report.Csv;
import io.parasol.experiments.report.Plot;
import io.parasol.worker.train.DelayModel;
import io.parasol.worker.train.JobSettings;
import io.parasol.worker.train.TrainingData;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The lecture's error floors: mini-batch SGD with constant η settles at a loss floor of order
 * ηLσ²/(2cb) above the optimum; synchronous SGD over m workers averages m gradients (floor
 * ηLσ²/(2cmb)) at the price of waiting for the slowest; asynchronous SGD updates m times as
 * often but with stale gradients, so it leads early and settles higher; with a large η fixed
 * rate async degrades and the staleness-aware step η/τ recovers.
 */
final class ErrorFloorExperiment implements Experiment {
  @Override
  public String name() {
    return "error-floor";
  }

  @Override
  public String description() {
    return "Loss against wall time for sync, async and async with eta/tau at m = 8 on digits:"
        + " async ahead early, sync lower floor; at a large eta fixed-rate async degrades and"
        + " eta/tau recovers; the floor against batch size b and workers m (eta L sigma^2 /"
        + " (2 c m b)).";
  }

  @Override
  public List<Row> run(boolean quick, Path dir, PrintStream out) throws Exception {
    int m = 8;
    int steps = quick ? 64 : 200;
    Runs.warmUp();
    DelayModel delay = DelayModel.parse(quick ? "exp:5ms" : "exp:10ms");
    List<Row> rows = new ArrayList<>();
    Plot curves = Plot.line("Test loss against wall time, m = " + m + " (Exp compute delays)",
        "wall time (s)", "test loss");
    LocalRunner.Summary sync = curve("sync", Mode.MODE_SYNC, m, steps, 0.5f,
        StalenessLr.STALENESS_LR_CONSTANT, delay, curves);
    // Async does m times the updates of sync in the same number of steps per worker.
    LocalRunner.Summary async = curve("async", Mode.MODE_ASYNC, m, steps, 0.5f,
        StalenessLr.STALENESS_LR_CONSTANT, delay, curves);
    LocalRunner.Summary asyncInv = curve("async, eta/tau", Mode.MODE_ASYNC, m, steps, 0.5f,
        StalenessLr.STALENESS_LR_INVERSE, delay, curves);
    curves.writePng(dir.resolve("error-floor-curves.png"), 900, 540);

    double early = Math.min(sync.wallSeconds(), async.wallSeconds()) * 0.5;
    double syncEarly = meanLossUntil(sync, early);
    double asyncEarly = meanLossUntil(async, early);
    rows.add(Row.check(String.format(Locale.ROOT, "async ahead early: mean test loss over the"
        + " first %.2f s, async < sync (sync %.4f)", early, syncEarly), asyncEarly,
        asyncEarly < syncEarly, ""));
    out.printf(Locale.ROOT, "  early (%.2fs): sync %.4f async %.4f; final: sync %.4f async %.4f"
        + " async eta/tau %.4f%n", early, syncEarly, asyncEarly, sync.trainLoss(),
        async.trainLoss(), asyncInv.trainLoss());

    // A large step: fixed-rate async with stale gradients degrades, eta/tau recovers. Softmax
    // regression cannot show it (its gradient is bounded by the features, so stale steps add
    // noise but never instability); least squares can. For x ← x − η·H·(x_read − x*) the
    // delayed recursion z ← z − ηL·z_{−τ} is stable only for ηL < 2 sin(π/(2(2τ+1))), about
    // 0.21 at τ = 7, while sync (τ = 0) is stable up to ηL = 2. At η = 1/L sync converges,
    // fixed-rate async with m = 8 (mean τ ≈ 7) diverges, and η/max(1,τ) gives steps with
    // (η/τ)·L·(2τ+1) ≤ 3 < π: stable again.
    TrainingData reg = Runs.digitsRegression();
    double curvature = largestCurvature(reg.train());
    float bigLr = (float) (1.0 / curvature);
    int seeds = quick ? 1 : 3;
    double[] bigFixed = finalLosses(reg, Mode.MODE_ASYNC, m, steps, bigLr,
        StalenessLr.STALENESS_LR_CONSTANT, delay, seeds);
    double[] bigInverse = finalLosses(reg, Mode.MODE_ASYNC, m, steps, bigLr,
        StalenessLr.STALENESS_LR_INVERSE, delay, seeds);
    double[] bigSync = finalLosses(reg, Mode.MODE_SYNC, m, steps, bigLr,
        StalenessLr.STALENESS_LR_CONSTANT, delay, seeds);
    String setting = String.format(Locale.ROOT, "least squares, eta = 1/L = %.3g", bigLr);
    rows.add(Row.check(String.format(Locale.ROOT, "%s: async with eta/tau below fixed-rate"
        + " async (fixed: %s)", setting, describe(bigFixed)), worst(bigInverse),
        worst(bigInverse) < best(bigFixed), ""));
    rows.add(Row.check(String.format(Locale.ROOT, "%s: sync floor below fixed-rate async"
        + " (async: %s)", setting, describe(bigFixed)), worst(bigSync),
        worst(bigSync) < best(bigFixed), ""));
    out.printf(Locale.ROOT, "  least squares, L = %.4g, eta = 1/L = %.4g, %d seed(s): async"
        + " fixed %s; async eta/tau %s; sync %s%n", curvature, bigLr, seeds, describe(bigFixed),
        describe(bigInverse), describe(bigSync));
    float floorLr = 6f;

    // The floor against b (m = 4) and m (b = 4): sync at a large step, where the floor
    // ηLσ²/(2cmb) dominates the loss after a fixed number of steps.
    int floorSteps = quick ? 150 : 300;
    List<double[]> csv = new ArrayList<>();
    int[] bs = quick ? new int[] {4, 64} : new int[] {4, 16, 64};
    double[] byB = new double[bs.length];
    for (int i = 0; i < bs.length; i++) {
      byB[i] = finalLoss(Mode.MODE_SYNC, 4, floorSteps, floorLr,
          StalenessLr.STALENESS_LR_CONSTANT, DelayModel.NONE, bs[i]);
      csv.add(new double[] {bs[i], 4, byB[i]});
      out.printf(Locale.ROOT, "  sync m=4 b=%d: final training loss %.4f%n", bs[i], byB[i]);
    }
    rows.add(Row.check("floor falls with b: loss(b = " + bs[bs.length - 1] + ") < loss(b = "
        + bs[0] + ")", byB[bs.length - 1], byB[bs.length - 1] < byB[0], ""));
    int[] workers = quick ? new int[] {1, 8} : new int[] {1, 2, 8};
    double[] byM = new double[workers.length];
    for (int i = 0; i < workers.length; i++) {
      byM[i] = finalLoss(Mode.MODE_SYNC, workers[i], floorSteps, floorLr,
          StalenessLr.STALENESS_LR_CONSTANT, DelayModel.NONE, 4);
      csv.add(new double[] {4, workers[i], byM[i]});
      out.printf(Locale.ROOT, "  sync b=4 m=%d: final training loss %.4f%n", workers[i],
          byM[i]);
    }
    rows.add(Row.check("floor falls with m: loss(m = " + workers[workers.length - 1]
        + ") < loss(m = 1)", byM[workers.length - 1], byM[workers.length - 1] < byM[0], ""));
    Csv.write(dir.resolve("error-floor-b-m.csv"), List.of("batch", "workers", "train_loss"),
        csv);
    Plot.line("Sync, eta = " + (int) floorLr + ": final training loss against the batch size b"
            + " (m = 4)", "b", "loss")
        .series("measured", Runs.seq(bs.length, i -> bs[i]), byB)
        .writePng(dir.resolve("error-floor-b.png"), 900, 540);
    return rows;
  }

  private static LocalRunner.Summary curve(String name, Mode mode, int m, int steps, float lr,
      StalenessLr slr, DelayModel delay, Plot plot) throws Exception {
    Runs.Job j = new Runs.Job(JobSettings.builder(mode, 2, m, lr).stalenessLr(slr).build(), steps);
    j.compute = delay;
    j.evalEvery = 5;
    LocalRunner.Summary s = Runs.run(j);
    List<double[]> c = s.testCurve();
    plot.series(name, Runs.seq(c.size(), i -> c.get(i)[0]), Runs.seq(c.size(), i -> c.get(i)[2]));
    return s;
  }

  /** The mean of the evaluator's test losses measured up to {@code seconds}. */
  private static double meanLossUntil(LocalRunner.Summary s, double seconds) {
    double sum = 0;
    int n = 0;
    for (double[] p : s.testCurve()) {
      if (p[0] <= seconds) {
        sum += p[2];
        n++;
      }
    }
    return n == 0 ? Double.NaN : sum / n;
  }

  /**
   * The final training loss of least-squares regression for seeds 1..{@code seeds}, batch 32;
   * a run that diverged is {@link Double#POSITIVE_INFINITY}.
   */
  private static double[] finalLosses(TrainingData data, Mode mode, int m, int steps, float lr,
      StalenessLr slr, DelayModel delay, int seeds) throws Exception {
    double[] out = new double[seeds];
    for (int seed = 1; seed <= seeds; seed++) {
      Runs.Job j = new Runs.Job(JobSettings.builder(mode, 1, m, lr).stalenessLr(slr)
          .seed(seed).build(), steps);
      j.model = "linear";
      j.data = data;
      j.compute = delay;
      out[seed - 1] = finalLoss(j);
    }
    return out;
  }

  private static double finalLoss(Mode mode, int m, int steps, float lr, StalenessLr slr,
      DelayModel delay, int batch) throws Exception {
    Runs.Job j = new Runs.Job(JobSettings.builder(mode, 1, m, lr).stalenessLr(slr).build(), steps);
    j.compute = delay;
    j.batchSize = batch;
    return finalLoss(j);
  }

  private static double finalLoss(Runs.Job j) throws Exception {
    try {
      double loss = Runs.run(j).trainLoss();
      return Double.isFinite(loss) ? loss : Double.POSITIVE_INFINITY;
    } catch (io.grpc.StatusRuntimeException e) {
      // A diverged run pushes non-finite values, which the shard refuses (INVALID_ARGUMENT).
      if (e.getStatus().getCode() != io.grpc.Status.Code.INVALID_ARGUMENT) {
        throw e;
      }
      return Double.POSITIVE_INFINITY;
    }
  }

  private static double worst(double[] losses) {
    return Arrays.stream(losses).max().orElseThrow();
  }

  private static double best(double[] losses) {
    return Arrays.stream(losses).min().orElseThrow();
  }

  /** "diverged in 3 of 3 seeds" or the final losses, e.g. "0.812, 0.799, 0.805". */
  private static String describe(double[] losses) {
    long diverged = Arrays.stream(losses).filter(l -> !Double.isFinite(l)).count();
    if (diverged == losses.length) {
      return "diverged in " + diverged + " of " + losses.length + " seeds";
    }
    StringBuilder sb = new StringBuilder();
    for (double l : losses) {
      sb.append(sb.length() == 0 ? "" : ", ")
          .append(Double.isFinite(l) ? String.format(Locale.ROOT, "%.4g", l) : "diverged");
    }
    return sb.toString();
  }

  /**
   * L, the largest eigenvalue of the least-squares Hessian [X 1]ᵀ[X 1]/n of the linear model's
   * loss 0.5·mean((Xw + b − y)²), by power iteration (it converges fast: the top eigenvalue of
   * non-negative pixel data stands well apart, dominated by the mean image).
   */
  static double largestCurvature(Dataset d) {
    int n = d.numExamples();
    int f = d.numFeatures();
    float[] x = d.features();
    double[] v = new double[f + 1];
    Arrays.fill(v, 1.0 / Math.sqrt(f + 1));
    double lambda = 0;
    for (int it = 0; it < 500; it++) {
      double[] hv = new double[f + 1];
      for (int r = 0; r < n; r++) {
        double dot = v[f];
        for (int c = 0; c < f; c++) {
          dot += x[r * f + c] * v[c];
        }
        for (int c = 0; c < f; c++) {
          hv[c] += x[r * f + c] * dot;
        }
        hv[f] += dot;
      }
      double norm = 0;
      for (int c = 0; c <= f; c++) {
        hv[c] /= n;
        norm += hv[c] * hv[c];
      }
      norm = Math.sqrt(norm);
      double next = norm; // ‖Hv‖ with ‖v‖ = 1
      for (int c = 0; c <= f; c++) {
        v[c] = hv[c] / norm;
      }
      if (Math.abs(next - lambda) <= 1e-9 * next) {
        return next;
      }
      lambda = next;
    }
    return lambda;
  }
}
