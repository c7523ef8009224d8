package io.parasol.worker.train;

import io.parasol.common.BlockLayout;
import java.util.SplittableRandom;

/**
 * Online estimates of the block Lipschitz constants L_ij of the error floor
 * Σ_i (α_i/κ_i)·Σ_{j≠i} L_ij·avg Δ_ij: how much ∇_i f moves per unit move of block j.
 *
 * <p>How: each probe takes the point x and gradient g = ∇F(x; batch) of a training step, picks
 * the next block j (in turn), moves x along a random unit direction u of block j by a step h
 * (relative to the block's size: h = {@code relStep}·max(1, ‖x^j‖)), and computes
 * g' = ∇F(x + h·u; same batch). For every other block i the ratio ‖g'^i − g^i‖ / h is a
 * secant estimate of ‖∇²_ij f · u‖, at most L_ij, and exactly ‖A_ij u‖ for a quadratic
 * f = ½ xᵀAx. Since the same mini-batch is used on both sides, the sampling noise cancels; what
 * remains is the coupling of the two blocks. L_ij is the largest ratio seen so far (the
 * Lipschitz constant is a supremum over points and directions); for blocks of one coordinate,
 * or blocks A_ij = c·I, one probe gives L_ij exactly. A pair not yet probed reads NaN.
 *
 * <p>Cost: one extra gradient per probe. Not thread-safe: one per worker loop.
 */
public final class LipschitzEstimator {
  /** A gradient at a point, on a fixed mini-batch: writes ∇F(x) into {@code grad}. */
  @FunctionalInterface
  public interface Gradient {
    void at(float[] x, float[] grad);
  }

  private final int[] offset;
  private final int[] length;
  private final double relStep;
  private final SplittableRandom rng;
  private final double[][] estimate;
  private int next;
  private float[] probe;
  private float[] probeGrad;

  /**
   * @param layout the model's blocks
   * @param relStep the probe step relative to max(1, ‖x^j‖), e.g. 1e-2
   * @param seed the directions' seed
   */
  public LipschitzEstimator(BlockLayout layout, double relStep, long seed) {
    int blocks = layout.numBlocks();
    offset = new int[blocks];
    length = new int[blocks];
    for (BlockLayout.Block b : layout.blocks()) {
      offset[b.id()] = b.offset();
      length[b.id()] = b.length();
    }
    if (!(relStep > 0)) {
      throw new IllegalArgumentException("probe step must be positive, got " + relStep);
    }
    this.relStep = relStep;
    this.rng = new SplittableRandom(seed);
    this.estimate = new double[blocks][blocks];
    for (double[] row : estimate) {
      java.util.Arrays.fill(row, Double.NaN);
    }
  }

  /**
   * Probes the next block j at {@code x}, whose gradient on the batch {@code gradient}
   * computes is {@code grad}; neither array is changed.
   *
   * @return j, the block probed
   */
  public int probe(float[] x, float[] grad, Gradient gradient) {
    int blocks = offset.length;
    int j = next;
    next = (next + 1) % blocks;
    if (blocks < 2) {
      return j;
    }
    if (probe == null || probe.length != x.length) {
      probe = new float[x.length];
      probeGrad = new float[x.length];
    }
    System.arraycopy(x, 0, probe, 0, x.length);
    double norm = 0;
    double[] u = new double[length[j]];
    for (int k = 0; k < u.length; k++) {
      u[k] = rng.nextDouble() * 2 - 1;
      norm += u[k] * u[k];
    }
    norm = Math.sqrt(norm);
    if (norm == 0) {
      return j;
    }
    double xj = 0;
    for (int k = 0; k < u.length; k++) {
      xj += (double) x[offset[j] + k] * x[offset[j] + k];
    }
    double h = relStep * Math.max(1.0, Math.sqrt(xj));
    double moved = 0;
    for (int k = 0; k < u.length; k++) {
      float before = probe[offset[j] + k];
      probe[offset[j] + k] = (float) (before + h * u[k] / norm);
      double d = (double) probe[offset[j] + k] - before;
      moved += d * d;
    }
    // The step actually taken, after float rounding.
    moved = Math.sqrt(moved);
    if (moved == 0) {
      return j;
    }
    gradient.at(probe, probeGrad);
    for (int i = 0; i < blocks; i++) {
      if (i == j) {
        continue;
      }
      double diff = 0;
      for (int k = 0; k < length[i]; k++) {
        double d = (double) probeGrad[offset[i] + k] - grad[offset[i] + k];
        diff += d * d;
      }
      double ratio = Math.sqrt(diff) / moved;
      if (Double.isNaN(estimate[i][j]) || ratio > estimate[i][j]) {
        estimate[i][j] = ratio;
      }
    }
    return j;
  }

  /** L_ij so far (NaN: not probed yet). */
  public double get(int i, int j) {
    return estimate[i][j];
  }

  /** A copy of every L_ij so far (NaN: not probed yet; the diagonal is always NaN). */
  public double[][] snapshot() {
    double[][] out = new double[estimate.length][];
    for (int i = 0; i < out.length; i++) {
      out[i] = estimate[i].clone();
    }
    return out;
  }
}
