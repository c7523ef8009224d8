package io.parasol.common;

/**
 * The Age-of-Information term of the error floor in Redder, Ramaswamy and Karl, "Rate of
 * Convergence Analysis of Constant Step-Size Distributed Stochastic Gradient Descent" (2022):
 *
 * <pre>  Σ_i (α_i/κ_i) · Σ_{j≠i} L_ij · avg_k Δ_ij(k)</pre>
 *
 * <p>with α_i the step size of block i, κ_i = liminf ν(n,i)/n the fraction of global iterations
 * that update block i, L_ij the Lipschitz constant of ∇_i f in block j, and avg_k Δ_ij(k) the
 * mean Age of Information of block j seen by the updates of block i. It is a bound up to a
 * constant, not a loss: runs are compared by it, not measured in it.
 *
 * <p>Stateless and thread-safe.
 */
public final class ErrorFloor {
  private ErrorFloor() {}

  /**
   * The term over the blocks whose {@code kappa} is a positive number; others (NaN: not
   * owned or not updated yet) are left out, as are pairs whose {@code meanAoi} is NaN (no
   * sample yet).
   *
   * @param alpha α_i by block id
   * @param kappa κ_i by block id
   * @param lipschitz L_ij by block ids i, j; null means L_ij = 1 for every pair
   * @param meanAoi mean Δ_ij by block ids i, j
   * @return the term; 0 when nothing was measured
   */
  public static double term(double[] alpha, double[] kappa, double[][] lipschitz,
      double[][] meanAoi) {
    double sum = 0;
    for (int i = 0; i < kappa.length; i++) {
      if (!(kappa[i] > 0)) {
        continue;
      }
      sum += alpha[i] / kappa[i] * local(i, lipschitz, meanAoi);
    }
    return sum;
  }

  /**
   * The talk's local quantity of block i: Σ_{j≠i} L_ij · avg Δ_ij (pairs without a sample,
   * NaN, are left out).
   */
  public static double local(int i, double[][] lipschitz, double[][] meanAoi) {
    double s = 0;
    for (int j = 0; j < meanAoi[i].length; j++) {
      double d = meanAoi[i][j];
      if (j == i || Double.isNaN(d)) {
        continue;
      }
      s += (lipschitz == null ? 1.0 : lipschitz[i][j]) * d;
    }
    return s;
  }
}
