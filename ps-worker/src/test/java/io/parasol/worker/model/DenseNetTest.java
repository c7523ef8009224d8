package io.parasol.worker.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The array kernels of {@link DenseNet} against the ND4J models whose gradients
 * {@link GradientCheckTest} checks against finite differences in double precision: same layout,
 * same loss, same gradient to float rounding; and a float finite-difference check of its own.
 */
class DenseNetTest {
  private static final int FEATURES = 20;

  static Stream<Arguments> pairs() {
    return Stream.of(
        Arguments.of(DenseNet.softmax(FEATURES, 4), new SoftmaxRegression(FEATURES, 4), 4),
        Arguments.of(DenseNet.mlp(FEATURES, new int[] {16}, 3),
            new Mlp(FEATURES, new int[] {16}, 3), 3),
        Arguments.of(DenseNet.mlp(FEATURES, new int[] {12, 7}, 5),
            new Mlp(FEATURES, new int[] {12, 7}, 5), 5));
  }

  private static float[] random(SplittableRandom r, int n, double scale, double zeros) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = r.nextDouble() < zeros ? 0f : (float) ((r.nextDouble() * 2 - 1) * scale);
    }
    return v;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("pairs")
  void lossAndGradient_matchesTheNd4jModel(DenseNet fast, Model reference, int classes) {
    assertThat(fast.tensors()).isEqualTo(reference.tensors());
    SplittableRandom r = new SplittableRandom(7);
    int rows = 9;
    float[] p = random(r, fast.numParams(), 0.5, 0);
    float[] x = random(r, rows * FEATURES, 1.0, 0.4);
    float[] y = new float[rows];
    for (int i = 0; i < rows; i++) {
      y[i] = r.nextInt(classes);
    }
    float[] g = new float[fast.numParams()];
    java.util.Arrays.fill(g, 42f); // overwritten, not added to
    double loss = fast.lossAndGradient(p, x, y, rows, g);

    Model.LossAndGradient ref = reference.lossAndGradient(
        Nd4j.create(p, new long[] {1, p.length}, DataType.FLOAT),
        Nd4j.create(x, new long[] {rows, FEATURES}, DataType.FLOAT),
        Nd4j.create(y, new long[] {rows}, DataType.FLOAT));
    assertThat(loss).isCloseTo(ref.loss(), org.assertj.core.data.Offset.offset(1e-5));
    float[] rg = ref.gradient().toFloatVector();
    for (int i = 0; i < g.length; i++) {
      assertThat(g[i]).as("d loss / d param %d", i)
          .isCloseTo(rg[i], org.assertj.core.data.Offset.offset(1e-5f + 1e-4f * Math.abs(rg[i])));
    }
    // The INDArray adapter gives the same figures, and evaluation agrees with the loss.
    INDArray pa = Nd4j.create(p, new long[] {1, p.length}, DataType.FLOAT);
    INDArray xa = Nd4j.create(x, new long[] {rows, FEATURES}, DataType.FLOAT);
    INDArray ya = Nd4j.create(y, new long[] {rows}, DataType.FLOAT);
    assertThat(fast.lossAndGradient(pa, xa, ya).loss()).isEqualTo(loss);
    assertThat(fast.evaluate(pa, xa, ya).loss()).isCloseTo(loss,
        org.assertj.core.data.Offset.offset(1e-6));
    assertThat(fast.evaluate(pa, xa, ya).accuracy())
        .isEqualTo(reference.evaluate(pa, xa, ya).accuracy());
  }

  @Test
  void lossAndGradient_matchesCentralDifferencesInFloat() {
    DenseNet m = DenseNet.mlp(6, new int[] {5}, 3);
    SplittableRandom r = new SplittableRandom(3);
    int rows = 4;
    float[] p = random(r, m.numParams(), 0.8, 0);
    float[] x = random(r, rows * 6, 1.0, 0);
    float[] y = {0, 2, 1, 2};
    float[] g = new float[m.numParams()];
    m.lossAndGradient(p, x, y, rows, g);
    float[] scratch = new float[m.numParams()];
    float eps = 1e-2f;
    for (int i = 0; i < p.length; i++) {
      float keep = p[i];
      p[i] = keep + eps;
      double up = m.lossAndGradient(p, x, y, rows, scratch);
      p[i] = keep - eps;
      double down = m.lossAndGradient(p, x, y, rows, scratch);
      p[i] = keep;
      double fd = (up - down) / (2 * eps);
      assertThat((double) g[i]).as("d loss / d param %d", i)
          .isCloseTo(fd, org.assertj.core.data.Offset.offset(2e-3 + 2e-2 * Math.abs(fd)));
    }
  }

  @Test
  void lossAndGradient_badTarget_isRejectedNamingIt() {
    DenseNet m = DenseNet.softmax(2, 3);
    assertThatThrownBy(() -> m.lossAndGradient(new float[m.numParams()], new float[2],
        new float[] {3}, 1, new float[m.numParams()]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("target 3.0");
  }
}
