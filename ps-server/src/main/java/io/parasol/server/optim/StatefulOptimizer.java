package io.parasol.server.optim;

import java.util.Arrays;

/**
 * The state handling every optimizer shares, written once: a fixed number of float arrays of
 * the block's length plus the step count; {@link #copy()}, {@link #reset()}, {@link #state()}
 * and the step count work on them. A subclass supplies {@link #step} and {@link #blank()}, an
 * optimizer with the same settings and zeroed state.
 */
public abstract class StatefulOptimizer implements BlockOptimizer {
  /** The state arrays, in checkpoint order. */
  protected final float[][] state;
  /** Steps taken. */
  protected long steps;

  /** {@code arrays} state arrays of {@code length} floats each. */
  protected StatefulOptimizer(int arrays, int length) {
    this.state = new float[arrays][length];
  }

  /** A fresh optimizer with the same settings and zeroed state. */
  protected abstract StatefulOptimizer blank();

  @Override
  public final BlockOptimizer copy() {
    StatefulOptimizer c = blank();
    for (int k = 0; k < state.length; k++) {
      System.arraycopy(state[k], 0, c.state[k], 0, state[k].length);
    }
    c.steps = steps;
    return c;
  }

  @Override
  public final void reset() {
    for (float[] a : state) {
      Arrays.fill(a, 0f);
    }
    steps = 0;
  }

  @Override
  public final float[][] state() {
    return state;
  }

  @Override
  public final long steps() {
    return steps;
  }

  @Override
  public final void setSteps(long steps) {
    this.steps = steps;
  }
}
