package io.parasol.experiments.runner;

import io.parasol.worker.model.Model;
import io.parasol.worker.train.TrainingLoop;
import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Worker 0's progress lines: step, train loss (a dash before the first step), test loss and
 * accuracy, samples per second over all workers (worker 0's steps times m times b), and the
 * time left at that rate.
 */
final class Progress implements TrainingLoop.Listener {
  private final PrintStream out;
  private final long steps;
  private final long start;
  private final long samplesPerStep;
  private final AtomicLong lastLossBits = new AtomicLong(Double.doubleToLongBits(Double.NaN));

  Progress(PrintStream out, long steps, long start, long samplesPerStep) {
    this.out = out;
    this.steps = steps;
    this.start = start;
    this.samplesPerStep = samplesPerStep;
  }

  @Override
  public void onStep(int worker, long step, double loss) {
    if (worker == 0) {
      lastLossBits.set(Double.doubleToLongBits(loss));
    }
  }

  @Override
  public void onEval(int worker, long step, Model.Evaluation eval) {
    if (out == null) {
      return;
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    double loss = Double.longBitsToDouble(lastLossBits.get());
    String train = Double.isNaN(loss) ? "     -" : String.format(Locale.ROOT, "%.4f", loss);
    String rate = step == 0 ? "" : String.format(Locale.ROOT, "  %,.0f samples/s  eta %s",
        step * samplesPerStep / elapsed, eta(elapsed / step * (steps - step)));
    out.printf(Locale.ROOT,
        "  [%6.2fs] step %6d/%d  train loss %s  test loss %.4f  test acc %.4f%s%n",
        elapsed, step, steps, train, eval.loss(), eval.accuracy(), rate);
  }

  private static String eta(double seconds) {
    long s = Math.round(Math.max(0, seconds));
    return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s / 60 % 60)
        : s >= 60 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60) : s + "s";
  }
}
