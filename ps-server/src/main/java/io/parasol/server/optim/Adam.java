package io.parasol.server.optim;

/**
 * Adam (Kingma and Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015,
 * arXiv:1412.6980): m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; x ← x − η·m̂/(√v̂ + ε) with
 * bias-corrected m̂ = m/(1−β1^t), v̂ = v/(1−β2^t). State: {m, v}.
 */
public final class Adam extends StatefulOptimizer {
  private final float beta1;
  private final float beta2;
  private final float eps;

  public Adam(int length, float beta1, float beta2, float eps) {
    super(2, length);
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
  }

  @Override
  protected StatefulOptimizer blank() {
    return new Adam(state[0].length, beta1, beta2, eps);
  }

  @Override
  public void step(float[] x, float[] g, float lr) {
    steps++;
    float[] m = state[0];
    float[] v = state[1];
    float c1 = (float) (1 - Math.pow(beta1, steps));
    float c2 = (float) (1 - Math.pow(beta2, steps));
    float a = 1 - beta1;
    float b = 1 - beta2;
    for (int i = 0; i < x.length; i++) {
      float gi = g[i];
      float mi = beta1 * m[i] + a * gi;
      float vi = beta2 * v[i] + b * gi * gi;
      m[i] = mi;
      v[i] = vi;
      x[i] -= lr * (mi / c1) / ((float) Math.sqrt(vi / c2) + eps);
    }
  }
}
