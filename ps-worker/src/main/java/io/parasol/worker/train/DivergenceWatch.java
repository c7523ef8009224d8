package io.parasol.worker.train;

import java.util.Locale;

/**
 * Watches one worker's training loss and says when the run has diverged: a non-finite loss, or
 * a loss that climbed far above its early level and stayed there.
 *
 * <p>The <em>reference</em> is the lower of the first loss (the model as initialised, or as the
 * worker first read it) and the lowest exponential moving average of the loss so far (weight
 * {@link #ALPHA} on the newest loss). After {@link #WARMUP} steps, the run has diverged once
 * every one of {@link #PATIENCE} consecutive losses is above {@link #FACTOR} times the larger of
 * the reference and {@link #FLOOR}. A loss that rises for a few steps and recovers (a noisy
 * batch, a stale gradient) is not divergence, since one ordinary loss starts the count again; a
 * loss that blew up is, {@link #PATIENCE} steps after the blow-up (or after the warm-up, when it
 * blew up at once), and a NaN or infinite loss at once.
 *
 * <p>Not thread-safe: one instance per worker, called from its loop.
 */
public final class DivergenceWatch {
  /** Weight of the newest loss in the moving average. */
  static final double ALPHA = 0.1;
  /** Steps before losses are judged. */
  static final int WARMUP = 10;
  /** How far above the reference a loss must be. */
  static final double FACTOR = 4.0;
  /** References below this count as this (a loss near 0 may rise a lot and still be small). */
  static final double FLOOR = 0.25;
  /** How many consecutive losses must stay up. */
  static final int PATIENCE = 20;

  /** The run diverged; the message is one line naming the step, the loss and what to try. */
  public static final class DivergedException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final long step;
    private final double loss;

    DivergedException(String message, long step, double loss) {
      super(message);
      this.step = step;
      this.loss = loss;
    }

    public long step() {
      return step;
    }

    public double loss() {
      return loss;
    }
  }

  private final int worker;
  private final double learningRate;
  private final boolean enabled;
  private long seen;
  private double average = Double.NaN;
  private double first = Double.NaN;
  private double lowest = Double.POSITIVE_INFINITY;
  private int above;

  /**
   * @param worker the worker's index, for the message
   * @param learningRate the job's step size, for the message
   * @param enabled false: never report (--allow-divergence), still tracks the average
   */
  public DivergenceWatch(int worker, double learningRate, boolean enabled) {
    this.worker = worker;
    this.learningRate = learningRate;
    this.enabled = enabled;
  }

  /**
   * Takes the loss of step {@code step}.
   *
   * @throws DivergedException if the run has diverged (and the watch is enabled)
   */
  public void observe(long step, double loss) {
    if (!Double.isFinite(loss)) {
      fail(step, loss, "the training loss is " + loss);
    }
    seen++;
    average = Double.isNaN(average) ? loss : (1 - ALPHA) * average + ALPHA * loss;
    if (Double.isNaN(first)) {
      first = loss;
    }
    lowest = Math.min(lowest, average);
    if (seen <= WARMUP) {
      return;
    }
    double reference = Math.min(first, lowest);
    double limit = FACTOR * Math.max(reference, FLOOR);
    above = loss > limit ? above + 1 : 0;
    if (above >= PATIENCE) {
      fail(step, loss, String.format(Locale.ROOT,
          "the training loss climbed from %.4g to %.4g and stayed above %.4g for %d steps",
          reference, loss, limit, PATIENCE));
    }
  }

  /** The smoothed loss so far (NaN before the first step). */
  public double average() {
    return average;
  }

  private void fail(long step, double loss, String what) {
    if (!enabled) {
      return;
    }
    throw new DivergedException(String.format(Locale.ROOT,
        "training diverged at step %d on worker %d: %s (lr %s); try a smaller --lr (e.g. %s),"
            + " --staleness-lr inverse, or fewer workers; --allow-divergence keeps going",
        step, worker, what, fmt(learningRate), fmt(learningRate / 5)), step, loss);
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.3g", v).replaceAll("\\.?0+$", "");
  }
}
