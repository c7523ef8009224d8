package io.parasol.server.optim;

/**
 * AdaGrad (Duchi, Hazan, Singer, "Adaptive Subgradient Methods for Online Learning and
 * Stochastic Optimization", JMLR 12, 2011), as DistBelief's Downpour servers ran it:
 * G ← G + g²; x ← x − η·g/(√G + ε). State: {G}.
 */
public final class AdaGrad extends StatefulOptimizer {
  private final float eps;

  public AdaGrad(int length, float eps) {
    super(1, length);
    this.eps = eps;
  }

  @Override
  protected StatefulOptimizer blank() {
    return new AdaGrad(state[0].length, eps);
  }

  @Override
  public void step(float[] x, float[] g, float lr) {
    float[] sumSq = state[0];
    for (int i = 0; i < x.length; i++) {
      float gi = g[i];
      float s = sumSq[i] + gi * gi;
      sumSq[i] = s;
      x[i] -= lr * gi / ((float) Math.sqrt(s) + eps);
    }
    steps++;
  }
}
