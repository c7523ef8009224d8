package io.parasol.worker.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * {@link DenseNet}'s sgemm path against its Java loops on layers large enough to take it
 * (784-64-48-10 on 32 rows: the first two layers' forward, weight gradient and back-propagated
 * delta run through OpenBLAS, the last layer stays in Java): same loss and gradient to float
 * rounding, also when several threads compute at once, as a process's workers do.
 */
class DenseNetBlasTest {
  private static final int FEATURES = 784;
  private static final int ROWS = 32;

  private final DenseNet blas = DenseNet.mlp(FEATURES, new int[] {64, 48}, 10);
  private final DenseNet loops = blas.javaLoops();

  private static float[] random(SplittableRandom r, int n, double scale, double zeros) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = r.nextDouble() < zeros ? 0f : (float) ((r.nextDouble() * 2 - 1) * scale);
    }
    return v;
  }

  private record Case(float[] p, float[] x, float[] y) {}

  private Case data(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] y = new float[ROWS];
    for (int i = 0; i < ROWS; i++) {
      y[i] = r.nextInt(10);
    }
    return new Case(random(r, blas.numParams(), 0.1, 0), random(r, ROWS * FEATURES, 1.0, 0.5),
        y);
  }

  private static void assertClose(float[] a, float[] b) {
    float max = 0;
    for (float v : b) {
      max = Math.max(max, Math.abs(v));
    }
    assertThat(max).isPositive();
    for (int i = 0; i < a.length; i++) {
      assertThat(Math.abs(a[i] - b[i])).as("element %d", i).isLessThanOrEqualTo(1e-5f * max
          + 1e-7f);
    }
  }

  @Test
  void gemmPath_matchesTheJavaLoops() {
    assumeThat(blas.usesBlas()).as("OpenBLAS loads on this machine").isTrue();
    assertThat(loops.usesBlas()).isFalse();
    for (long seed = 1; seed <= 3; seed++) {
      Case c = data(seed);
      float[] g1 = new float[blas.numParams()];
      float[] g2 = new float[blas.numParams()];
      java.util.Arrays.fill(g1, 42f); // overwritten, not added to
      double l1 = blas.lossAndGradient(c.p(), c.x(), c.y(), ROWS, g1);
      double l2 = loops.lossAndGradient(c.p(), c.x(), c.y(), ROWS, g2);
      assertThat(l1).isCloseTo(l2, org.assertj.core.data.Offset.offset(1e-5 * Math.abs(l2)));
      assertClose(g1, g2);
      Model.Evaluation e1 = blas.evaluate(c.p(), c.x(), c.y(), ROWS);
      Model.Evaluation e2 = loops.evaluate(c.p(), c.x(), c.y(), ROWS);
      assertThat(e1.loss()).isCloseTo(e2.loss(), org.assertj.core.data.Offset.offset(1e-5));
    }
  }

  @Test
  void threadsComputingAtOnce_getTheirOwnResults() throws Exception {
    assumeThat(blas.usesBlas()).as("OpenBLAS loads on this machine").isTrue();
    int threads = 4;
    List<Case> cases = new ArrayList<>();
    List<float[]> expected = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Case c = data(100 + t);
      float[] g = new float[blas.numParams()];
      blas.lossAndGradient(c.p(), c.x(), c.y(), ROWS, g);
      cases.add(c);
      expected.add(g);
    }
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Boolean>> fs = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        Case c = cases.get(t);
        float[] want = expected.get(t);
        Callable<Boolean> job = () -> {
          float[] g = new float[blas.numParams()];
          for (int rep = 0; rep < 50; rep++) {
            blas.lossAndGradient(c.p(), c.x(), c.y(), ROWS, g);
            if (!java.util.Arrays.equals(g, want)) {
              return false;
            }
          }
          return true;
        };
        fs.add(pool.submit(job));
      }
      for (Future<Boolean> f : fs) {
        assertThat(f.get()).isTrue();
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
