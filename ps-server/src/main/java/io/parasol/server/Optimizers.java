package io.parasol.server;

import java.util.Arrays;

/** The server-side optimizers. Loops are plain indexed loops the JIT vectorises. */
final class Optimizers {
  private Optimizers() {}

  /** Plain SGD: x ← x − η·g. */
  static final class Sgd implements BlockOptimizer {
    private long steps;

    @Override
    public void step(float[] x, float[] g, float lr) {
      for (int i = 0; i < x.length; i++) {
        x[i] -= lr * g[i];
      }
      steps++;
    }

    @Override
    public BlockOptimizer copy() {
      Sgd c = new Sgd();
      c.steps = steps;
      return c;
    }

    @Override
    public void reset() {
      steps = 0;
    }

    @Override
    public float[][] state() {
      return new float[0][];
    }

    @Override
    public long steps() {
      return steps;
    }

    @Override
    public void setSteps(long steps) {
      this.steps = steps;
    }
  }

  /** Heavy-ball momentum: v ← β·v + g; x ← x − η·v. */
  static final class Momentum implements BlockOptimizer {
    final float beta;
    final float[] v;
    private long steps;

    Momentum(int length, float beta) {
      this.beta = beta;
      this.v = new float[length];
    }

    @Override
    public void step(float[] x, float[] g, float lr) {
      for (int i = 0; i < x.length; i++) {
        float vi = beta * v[i] + g[i];
        v[i] = vi;
        x[i] -= lr * vi;
      }
      steps++;
    }

    @Override
    public BlockOptimizer copy() {
      Momentum c = new Momentum(v.length, beta);
      System.arraycopy(v, 0, c.v, 0, v.length);
      c.steps = steps;
      return c;
    }

    @Override
    public void reset() {
      Arrays.fill(v, 0f);
      steps = 0;
    }

    @Override
    public float[][] state() {
      return new float[][] {v};
    }

    @Override
    public long steps() {
      return steps;
    }

    @Override
    public void setSteps(long steps) {
      this.steps = steps;
    }
  }

  /**
   * AdaGrad (Duchi, Hazan, Singer, "Adaptive Subgradient Methods for Online Learning and
   * Stochastic Optimization", JMLR 2011), as DistBelief's Downpour servers ran it:
   * G ← G + g²; x ← x − η·g/(√G + ε).
   */
  static final class AdaGrad implements BlockOptimizer {
    final float eps;
    final float[] sumSq;
    private long steps;

    AdaGrad(int length, float eps) {
      this.eps = eps;
      this.sumSq = new float[length];
    }

    @Override
    public void step(float[] x, float[] g, float lr) {
      for (int i = 0; i < x.length; i++) {
        float gi = g[i];
        float s = sumSq[i] + gi * gi;
        sumSq[i] = s;
        x[i] -= lr * gi / ((float) Math.sqrt(s) + eps);
      }
      steps++;
    }

    @Override
    public BlockOptimizer copy() {
      AdaGrad c = new AdaGrad(sumSq.length, eps);
      System.arraycopy(sumSq, 0, c.sumSq, 0, sumSq.length);
      c.steps = steps;
      return c;
    }

    @Override
    public void reset() {
      Arrays.fill(sumSq, 0f);
      steps = 0;
    }

    @Override
    public float[][] state() {
      return new float[][] {sumSq};
    }

    @Override
    public long steps() {
      return steps;
    }

    @Override
    public void setSteps(long steps) {
      this.steps = steps;
    }
  }

  /**
   * Adam (Kingma and Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015):
   * m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; x ← x − η·m̂/(√v̂ + ε) with bias-corrected
   * m̂ = m/(1−β1^t), v̂ = v/(1−β2^t).
   */
  static final class Adam implements BlockOptimizer {
    final float beta1;
    final float beta2;
    final float eps;
    final float[] m;
    final float[] v;
    private long steps;

    Adam(int length, float beta1, float beta2, float eps) {
      this.beta1 = beta1;
      this.beta2 = beta2;
      this.eps = eps;
      this.m = new float[length];
      this.v = new float[length];
    }

    @Override
    public void step(float[] x, float[] g, float lr) {
      steps++;
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

    @Override
    public BlockOptimizer copy() {
      Adam c = new Adam(m.length, beta1, beta2, eps);
      System.arraycopy(m, 0, c.m, 0, m.length);
      System.arraycopy(v, 0, c.v, 0, v.length);
      c.steps = steps;
      return c;
    }

    @Override
    public void reset() {
      Arrays.fill(m, 0f);
      Arrays.fill(v, 0f);
      steps = 0;
    }

    @Override
    public float[][] state() {
      return new float[][] {m, v};
    }

    @Override
    public long steps() {
      return steps;
    }

    @Override
    public void setSteps(long steps) {
      this.steps = steps;
    }
  }
}
