package io.parasol.experiments.runner;

import io.parasol.worker.model.Model;
import io.parasol.worker.train.TrainingLoop;
import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Worker 0's progress lines: step, train loss (a dash before the first step), test loss and
 * accuracy, samples per second over all workers (the steps every live worker made, times b:
 * right with workers joining and leaving), and the time left at worker 0's pace.
 */
final class Progress implements TrainingLoop.Listener {
  private final PrintStream out;
  private final long steps;
  private final long start;
  private final long batchSize;
  private final LongSupplier nanoTime;
  /** Steps of all workers so far. */
  private final AtomicLong allSteps = new AtomicLong();
  private final AtomicLong lastLossBits = new AtomicLong(Double.doubleToLongBits(Double.NaN));

  Progress(PrintStream out, long steps, long start, long batchSize) {
    this(out, steps, start, batchSize, System::nanoTime);
  }

  /** As above, reading time from {@code nanoTime} (tests pass a fixed clock). */
  Progress(PrintStream out, long steps, long start, long batchSize, LongSupplier nanoTime) {
    this.nanoTime = nanoTime;
    this.out = out;
    this.steps = steps;
    this.start = start;
    this.batchSize = batchSize;
  }

  @Override
  public void onStep(int worker, long step, double loss) {
    allSteps.incrementAndGet();
    if (worker == 0) {
      lastLossBits.set(Double.doubleToLongBits(loss));
    }
  }

  @Override
  public void onEval(int worker, long step, Model.Evaluation eval) {
    if (out == null) {
      return;
    }
    double elapsed = (nanoTime.getAsLong() - start) / 1e9;
    double loss = Double.longBitsToDouble(lastLossBits.get());
    String train = Double.isNaN(loss) ? "     -" : String.format(Locale.ROOT, "%.4f", loss);
    String rate = step == 0 ? "" : String.format(Locale.ROOT, "  %,.0f samples/s  eta %s",
        allSteps.get() * batchSize / elapsed, eta(elapsed / step * (steps - step)));
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
