package io.parasol.worker.experiment;

import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.StalenessLr;
import io.parasol.worker.local.LocalRunner;
import io.parasol.worker.report.Csv;
import io.parasol.worker.report.Plot;
import io.parasol.worker.train.DelayModel;
import io.parasol.worker.train.JobSettings;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
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

    // A large step: fixed-rate async with stale gradients degrades, eta/tau recovers. The
    // final loss at a large step swings from run to run, so each figure is the mean over
    // seeds. Large enough that stale gradients hurt: 6 for the short quick runs, 40 for full.
    float bigLr = quick ? 6f : 40f;
    int seeds = quick ? 1 : 3;
    float floorLr = 6f;
    double bigFixed = meanFinalLoss(Mode.MODE_ASYNC, m, steps, bigLr,
        StalenessLr.STALENESS_LR_CONSTANT, delay, seeds);
    double bigInverse = meanFinalLoss(Mode.MODE_ASYNC, m, steps, bigLr,
        StalenessLr.STALENESS_LR_INVERSE, delay, seeds);
    rows.add(Row.check(String.format(Locale.ROOT, "eta = %.0f: async with eta/tau below"
        + " fixed-rate async (fixed %.4f; mean of %d seeds)", bigLr, bigFixed, seeds),
        bigInverse, bigInverse < bigFixed, ""));
    // At a step size where the floor dominates, sync's averaged gradients settle lower than
    // async's single stale ones.
    double bigSync = meanFinalLoss(Mode.MODE_SYNC, m, steps, bigLr,
        StalenessLr.STALENESS_LR_CONSTANT, delay, seeds);
    rows.add(Row.check(String.format(Locale.ROOT, "eta = %.0f: sync floor below fixed-rate"
        + " async (async %.4f; mean of %d seeds)", bigLr, bigFixed, seeds), bigSync,
        bigSync < bigFixed, ""));
    out.printf(Locale.ROOT, "  eta=%.0f (mean of %d seeds): async fixed %.4f, async eta/tau"
        + " %.4f, sync %.4f%n", bigLr, seeds, bigFixed, bigInverse, bigSync);

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
    Runs.Job j = new Runs.Job(JobSettings.defaults(mode, 2, m, lr).withStaleness(0, slr), steps);
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

  /** The mean of {@link #finalLoss} over seeds 1..{@code seeds}, batch 32. */
  private static double meanFinalLoss(Mode mode, int m, int steps, float lr, StalenessLr slr,
      DelayModel delay, int seeds) throws Exception {
    double sum = 0;
    for (int seed = 1; seed <= seeds; seed++) {
      sum += finalLoss(mode, m, steps, lr, slr, delay, 32, seed);
    }
    return sum / seeds;
  }

  private static double finalLoss(Mode mode, int m, int steps, float lr, StalenessLr slr,
      DelayModel delay, int batch) throws Exception {
    return finalLoss(mode, m, steps, lr, slr, delay, batch, 1);
  }

  private static double finalLoss(Mode mode, int m, int steps, float lr, StalenessLr slr,
      DelayModel delay, int batch, long seed) throws Exception {
    Runs.Job j = new Runs.Job(JobSettings.defaults(mode, 1, m, lr).withStaleness(0, slr)
        .withSeed(seed), steps);
    j.compute = delay;
    j.batchSize = batch;
    try {
      double loss = Runs.run(j).trainLoss();
      return Double.isFinite(loss) ? loss : Double.MAX_VALUE;
    } catch (io.grpc.StatusRuntimeException e) {
      // A diverged run pushes non-finite values, which the shard refuses.
      return Double.MAX_VALUE;
    }
  }
}
