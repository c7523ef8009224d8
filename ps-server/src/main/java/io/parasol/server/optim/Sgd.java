package io.parasol.server.optim;

/** Plain SGD: x ← x − η·g. No state besides the step count. */
public final class Sgd extends StatefulOptimizer {
  public Sgd() {
    super(0, 0);
  }

  @Override
  protected StatefulOptimizer blank() {
    return new Sgd();
  }

  @Override
  public void step(float[] x, float[] g, float lr) {
    for (int i = 0; i < x.length; i++) {
      x[i] -= lr * g[i];
    }
    steps++;
  }
}
