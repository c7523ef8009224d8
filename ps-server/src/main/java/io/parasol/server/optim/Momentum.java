package io.parasol.server.optim;

/**
 * Heavy-ball momentum (Polyak, "Some methods of speeding up the convergence of iteration
 * methods", 1964): v ← β·v + g; x ← x − η·v. State: {v}.
 */
public final class Momentum extends StatefulOptimizer {
  private final float beta;

  public Momentum(int length, float beta) {
    super(1, length);
    this.beta = beta;
  }

  @Override
  protected StatefulOptimizer blank() {
    return new Momentum(state[0].length, beta);
  }

  @Override
  public void step(float[] x, float[] g, float lr) {
    float[] v = state[0];
    for (int i = 0; i < x.length; i++) {
      float vi = beta * v[i] + g[i];
      v[i] = vi;
      x[i] -= lr * vi;
    }
    steps++;
  }
}
