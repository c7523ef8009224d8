package io.parasol.server;

import io.parasol.proto.v1.OptimizerSpec;

/**
 * A server-side update rule for one block: turns a gradient into a change of the block's values.
 *
 * <p>Call order: a shard creates one optimizer per block with {@link #create}, then calls
 * {@link #step} once per applied update, under the block's lock. The optimizer owns its state
 * (momentum, accumulated squares, moments); {@link #copy()} returns an independent optimizer
 * with the same settings and a copy of the state, {@link #reset()} clears the state and keeps the
 * settings. {@link #state()} exposes the state arrays for checkpoints, in a fixed order.
 */
public interface BlockOptimizer {

  /** x ← x − lr·update(g), where update depends on the optimizer and its state. */
  void step(float[] x, float[] g, float lr);

  BlockOptimizer copy();

  void reset();

  /** The state arrays (may be empty), live: writing into them restores a checkpoint. */
  float[][] state();

  /** Number of steps taken (Adam's t); restored with the state. */
  long steps();

  void setSteps(long steps);

  /** A fresh optimizer for a block of {@code length} floats. */
  static BlockOptimizer create(OptimizerSpec spec, int length) {
    return switch (spec.getKind()) {
      case OPTIMIZER_SGD -> new Optimizers.Sgd();
      case OPTIMIZER_MOMENTUM -> new Optimizers.Momentum(length, orDefault(spec.getBeta1(), 0.9f));
      case OPTIMIZER_ADAGRAD -> new Optimizers.AdaGrad(length, orDefault(spec.getEpsilon(), 1e-8f));
      case OPTIMIZER_ADAM -> new Optimizers.Adam(length, orDefault(spec.getBeta1(), 0.9f),
          orDefault(spec.getBeta2(), 0.999f), orDefault(spec.getEpsilon(), 1e-8f));
      case UNRECOGNIZED -> throw new IllegalArgumentException("unknown optimizer");
    };
  }

  private static float orDefault(float v, float d) {
    return v == 0f ? d : v;
  }
}
