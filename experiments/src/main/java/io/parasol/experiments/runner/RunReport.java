package io.parasol.experiments.runner;

import io.parasol.worker.model.Model;
import io.parasol.experiments.report.Csv;
import io.parasol.experiments.report.Plot;
import io.parasol.worker.train.TrainingLoop;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;

/**
 * Records a local run's loss and accuracy over wall time and writes the run folder: the summary
 * JSON, {@code loss.csv}, {@code staleness.csv}, {@code loss.png} (loss against wall time) and
 * {@code staleness.png} (the staleness histogram, with the geometric law for async runs).
 */
public final class RunReport implements TrainingLoop.Listener {
  /** The clock's zero: construction, then the workers' first step ({@link #startClock}). */
  private volatile long start = System.nanoTime();
  private final long stride;
  private final List<Object[]> rows = new ArrayList<>();
  private final TrainingLoop.Listener next;
  private final long stepsPerWorker;
  private final java.util.concurrent.atomic.AtomicLong furthestStep =
      new java.util.concurrent.atomic.AtomicLong();

  /**
   * @param stepsPerWorker to thin the training-loss rows to about 500 per worker
   * @param next a listener to forward to (progress printing), or null
   */
  public RunReport(long stepsPerWorker, TrainingLoop.Listener next) {
    this.stride = Math.max(1, stepsPerWorker / 500);
    this.next = next;
    this.stepsPerWorker = stepsPerWorker;
  }

  /**
   * Times from now on count from {@code nanoTime} (the workers' first step, so start-up is not
   * counted as training time in the curves and the time to a target accuracy).
   */
  public void startClock(long nanoTime) {
    this.start = nanoTime;
  }

  private double seconds() {
    return (System.nanoTime() - start) / 1e9;
  }

  @Override
  public void onStep(int worker, long step, double loss) {
    furthestStep.accumulateAndGet(step, Math::max);
    if (step % stride == 0) {
      synchronized (rows) {
        rows.add(new Object[] {seconds(), worker, step, loss, null, null});
      }
    }
    if (next != null) {
      next.onStep(worker, step, loss);
    }
  }

  @Override
  public void onEval(int worker, long step, Model.Evaluation eval) {
    synchronized (rows) {
      rows.add(new Object[] {seconds(), worker, step, null, eval.loss(), eval.accuracy()});
    }
    if (next != null) {
      next.onEval(worker, step, eval);
    }
  }

  /** The evaluator's (seconds, step, test loss, test accuracy) points so far. */
  public List<double[]> testCurve() {
    List<double[]> out = new ArrayList<>();
    synchronized (rows) {
      for (Object[] r : rows) {
        if (r[4] != null) {
          out.add(new double[] {(Double) r[0], ((Long) r[2]).doubleValue(), (Double) r[4],
              (Double) r[5]});
        }
      }
    }
    return out;
  }

  /** A fresh folder under {@code base} named after the time and mode. */
  public static Path newFolder(Path base, String mode) throws IOException {
    String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    Path dir = base.resolve(stamp + "-" + mode);
    for (int i = 2; Files.exists(dir); i++) {
      dir = base.resolve(stamp + "-" + mode + "-" + i);
    }
    Files.createDirectories(dir);
    return dir;
  }

  /** Writes the run folder's files into {@code dir}. */
  public void write(Path dir, LocalRunner.Summary s) throws IOException {
    List<Object[]> copy;
    synchronized (rows) {
      copy = new ArrayList<>(rows);
    }
    Files.writeString(dir.resolve("summary.json"), s.toJson(), StandardCharsets.UTF_8);
    Csv.writeObjects(dir.resolve("loss.csv"),
        List.of("seconds", "worker", "step", "train_loss", "test_loss", "test_accuracy"), copy);

    long[] tau = trimmed(s.stalenessCounts());
    List<double[]> tauRows = new ArrayList<>();
    for (int k = 0; k < tau.length; k++) {
      tauRows.add(new double[] {k, tau[k]});
    }
    Csv.write(dir.resolve("staleness.csv"), List.of("tau", "count"), tauRows);

    writeLossPlot(dir, copy, s.mode() + ", " + s.workers() + " workers, " + s.model() + " on "
        + s.data());
    writeStaleness(dir, s, tau);
  }

  /**
   * Writes what an interrupted run measured: loss.csv, loss.png and a summary.json holding
   * {@code info}, {@code "complete": false} and the furthest step any worker completed.
   */
  public void writePartial(Path dir, java.util.Map<String, Object> info) throws IOException {
    List<Object[]> copy;
    synchronized (rows) {
      copy = new ArrayList<>(rows);
    }
    java.util.Map<String, Object> m = new java.util.LinkedHashMap<>(info);
    m.put("complete", false);
    m.put("steps_reached", furthestStep.get());
    m.put("steps_per_worker", stepsPerWorker);
    Files.writeString(dir.resolve("summary.json"), Json.write(m), StandardCharsets.UTF_8);
    Csv.writeObjects(dir.resolve("loss.csv"),
        List.of("seconds", "worker", "step", "train_loss", "test_loss", "test_accuracy"), copy);
    writeLossPlot(dir, copy, info.getOrDefault("mode", "") + " (interrupted)");
  }

  private void writeLossPlot(Path dir, List<Object[]> copy, String what) throws IOException {
    Plot loss = Plot.line("Loss over wall time: " + what, "wall time (s)", "loss");
    Plot accuracy = Plot.line("Test accuracy over wall time (evaluator)", "wall time (s)",
        "test accuracy");
    TreeMap<Integer, List<double[]>> byWorker = new TreeMap<>();
    List<double[]> test = new ArrayList<>();
    for (Object[] r : copy) {
      if (r[3] != null) {
        byWorker.computeIfAbsent((Integer) r[1], k -> new ArrayList<>())
            .add(new double[] {(Double) r[0], (Double) r[3]});
      } else {
        test.add(new double[] {(Double) r[0], (Double) r[4], (Double) r[5]});
      }
    }
    for (var e : byWorker.entrySet()) {
      loss.series("train loss, worker " + e.getKey(), column(e.getValue(), 0),
          column(e.getValue(), 1));
    }
    if (!test.isEmpty()) {
      loss.series("test loss", column(test, 0), column(test, 1));
      accuracy.series("test accuracy", column(test, 0), column(test, 2));
    }
    Plot.writePng(dir.resolve("loss.png"), 900, 450, List.of(loss, accuracy));
  }

  private void writeStaleness(Path dir, LocalRunner.Summary s, long[] tau) throws IOException {
    double[] ks = new double[tau.length];
    double[] counts = new double[tau.length];
    long total = 0;
    for (int k = 0; k < tau.length; k++) {
      ks[k] = k;
      counts[k] = tau[k];
      total += tau[k];
    }
    Plot hist = Plot.bars(String.format(Locale.ROOT, "Staleness of applied updates: %s, %d"
            + " workers (mean %.2f)", s.mode(), s.workers(), s.meanStaleness()),
        "staleness tau (updates)", "updates").series("measured", ks, counts);
    if (s.mode().equals("async") && s.workers() > 1 && total > 0) {
      // The lecture's geometric law for m homogeneous workers: P(tau = k) = (1/m)(1 - 1/m)^k.
      double m = s.workers();
      double[] law = new double[tau.length];
      for (int k = 0; k < tau.length; k++) {
        law[k] = total * (1 / m) * Math.pow(1 - 1 / m, k);
      }
      hist.curve("geometric law, m = " + s.workers(), ks, law);
    }
    hist.writePng(dir.resolve("staleness.png"), 900, 540);
  }

  private static long[] trimmed(long[] counts) {
    int n = counts.length;
    while (n > 1 && counts[n - 1] == 0) {
      n--;
    }
    return java.util.Arrays.copyOf(counts, Math.max(n, 1));
  }

  private static double[] column(List<double[]> rows, int c) {
    double[] out = new double[rows.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = rows.get(i)[c];
    }
    return out;
  }
}
