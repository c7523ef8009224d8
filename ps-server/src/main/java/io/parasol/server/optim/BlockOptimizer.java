package io.parasol.server.optim;

import io.parasol.proto.v1.OptimizerSpec;

/**
 * A server-side optimizer for one block: turns a gradient into a change of the block's values.
 * (The consistency mode — how pushes become updates — is a separate concern, see
 * {@code io.parasol.server.consistency.ConsistencyRule}.)
 *
 * <p>Contract, in the manner of Tribuo's {@code StochasticGradientOptimiser}: an optimizer is
 * created once per block with {@link #create}, for a fixed block length. {@link #step} is then
 * called once per applied update with the block's values and the gradient (both of that length);
 * it changes {@code x} in place and advances {@link #steps()}. {@link #copy()} returns an
 * independent optimizer with the same settings and a copy of the state; {@link #reset()} clears
 * the state and the step count and keeps the settings. {@link #state()} exposes the state arrays
 * (live, in a fixed order) so a checkpoint can save and restore them, with
 * {@link #setSteps(long)}.
 *
 * <p>Thread safety: none. The shard calls every method under the block's lock.
 */
public interface BlockOptimizer {

  /** x ← x − lr·update(g), where update depends on the optimizer and its state. */
  void step(float[] x, float[] g, float lr);

  /** An independent optimizer with the same settings, state and step count. */
  BlockOptimizer copy();

  /** Clears the state and the step count; keeps the settings. */
  void reset();

  /** The state arrays (may be empty), live: writing into them restores a checkpoint. */
  float[][] state();

  /** Number of steps taken (Adam's t); restored with the state. */
  long steps();

  /** Sets the step count (restoring a checkpoint). */
  void setSteps(long steps);

  /** A fresh optimizer for a block of {@code length} floats, with the spec's defaults filled. */
  static BlockOptimizer create(OptimizerSpec spec, int length) {
    return switch (spec.getKind()) {
      case OPTIMIZER_SGD -> new Sgd();
      case OPTIMIZER_MOMENTUM -> new Momentum(length, orDefault(spec.getBeta1(), 0.9f));
      case OPTIMIZER_ADAGRAD -> new AdaGrad(length, orDefault(spec.getEpsilon(), 1e-8f));
      case OPTIMIZER_ADAM -> new Adam(length, orDefault(spec.getBeta1(), 0.9f),
          orDefault(spec.getBeta2(), 0.999f), orDefault(spec.getEpsilon(), 1e-8f));
      case UNRECOGNIZED -> throw new IllegalArgumentException("unknown optimizer");
    };
  }

  private static float orDefault(float v, float d) {
    return v == 0f ? d : v;
  }
}
