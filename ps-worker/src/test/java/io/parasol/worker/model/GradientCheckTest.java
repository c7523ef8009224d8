package io.parasol.worker.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Checks every model's analytic gradient against central finite differences, in double
 * precision (the models compute in the parameters' data type).
 */
@Tag("slow")
class GradientCheckTest {

  private static final int BATCH = 7;
  private static final int FEATURES = 5;
  private static final double EPS = 1e-6;

  static Stream<Arguments> models() {
    return Stream.of(
        Arguments.of(new LinearRegression(FEATURES), 0),
        Arguments.of(new LogisticRegression(FEATURES), 2),
        Arguments.of(new SoftmaxRegression(FEATURES, 4), 4),
        Arguments.of(new Mlp(FEATURES, new int[] {6}, 3), 3),
        Arguments.of(new Mlp(FEATURES, new int[] {6, 4}, 3), 3));
  }

  private static INDArray randn(Random r, DataType dt, double scale, long... shape) {
    int n = 1;
    for (long s : shape) {
      n *= (int) s;
    }
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = r.nextGaussian() * scale;
    }
    return Nd4j.createFromArray(v).reshape('c', shape).castTo(dt);
  }

  private static INDArray targets(Random r, int numClasses, DataType dt) {
    double[] y = new double[BATCH];
    for (int i = 0; i < BATCH; i++) {
      y[i] = numClasses == 0 ? r.nextGaussian() * 2 : r.nextInt(numClasses);
    }
    return Nd4j.createFromArray(y).castTo(dt);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void lossAndGradient_matchesCentralDifferences_inDouble(Model model, int numClasses) {
    Random r = new Random(12345);
    int d = model.numParams();
    INDArray params = randn(r, DataType.DOUBLE, 0.5, 1, d);
    INDArray x = randn(r, DataType.DOUBLE, 1.0, BATCH, FEATURES);
    INDArray y = targets(r, numClasses, DataType.DOUBLE);
    INDArray before = params.dup();

    Model.LossAndGradient lg = model.lossAndGradient(params, x, y);

    assertThat(params).isEqualTo(before);
    assertThat(lg.gradient().dataType()).isEqualTo(DataType.DOUBLE);
    assertThat(lg.gradient().shape()).containsExactly(1L, d);
    assertThat(lg.loss()).isEqualTo(model.evaluate(params, x, y).loss(),
        org.assertj.core.data.Offset.offset(1e-12));
    double[] g = lg.gradient().toDoubleVector();
    double maxAbs = 0;
    for (int i = 0; i < d; i++) {
      INDArray plus = params.dup();
      plus.putScalar(0, i, plus.getDouble(0, i) + EPS);
      INDArray minus = params.dup();
      minus.putScalar(0, i, minus.getDouble(0, i) - EPS);
      double fd = (model.lossAndGradient(plus, x, y).loss()
          - model.lossAndGradient(minus, x, y).loss()) / (2 * EPS);
      assertThat(g[i]).as("%s d loss / d param %d", model.name(), i)
          .isCloseTo(fd, org.assertj.core.data.Offset.offset(1e-7 + 1e-5 * Math.abs(fd)));
      maxAbs = Math.max(maxAbs, Math.abs(g[i]));
    }
    assertThat(maxAbs).as("gradient is not trivially zero").isGreaterThan(1e-3);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void lossAndGradient_floatMatchesDouble(Model model, int numClasses) {
    Random r = new Random(99);
    int d = model.numParams();
    INDArray params = randn(r, DataType.DOUBLE, 0.5, 1, d);
    INDArray x = randn(r, DataType.DOUBLE, 1.0, BATCH, FEATURES);
    INDArray y = targets(r, numClasses, DataType.DOUBLE);

    Model.LossAndGradient exact = model.lossAndGradient(params, x, y);
    Model.LossAndGradient single = model.lossAndGradient(params.castTo(DataType.FLOAT),
        x.castTo(DataType.FLOAT), y.castTo(DataType.FLOAT));

    assertThat(single.gradient().dataType()).isEqualTo(DataType.FLOAT);
    assertThat(single.loss()).isCloseTo(exact.loss(),
        org.assertj.core.data.Offset.offset(1e-5 * (1 + Math.abs(exact.loss()))));
    double[] a = exact.gradient().toDoubleVector();
    double[] b = single.gradient().toDoubleVector();
    for (int i = 0; i < d; i++) {
      assertThat(b[i]).isCloseTo(a[i], org.assertj.core.data.Offset.offset(1e-5));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void lossAndGradient_acceptsRank1ParamsAndFloatData(Model model, int numClasses) {
    Random r = new Random(3);
    int d = model.numParams();
    INDArray row = randn(r, DataType.FLOAT, 0.5, 1, d);
    INDArray flat = row.reshape(d);
    INDArray x = randn(r, DataType.FLOAT, 1.0, BATCH, FEATURES);
    INDArray y = targets(r, numClasses, DataType.FLOAT);

    Model.LossAndGradient a = model.lossAndGradient(row, x, y);
    Model.LossAndGradient b = model.lossAndGradient(flat, x, y);

    assertThat(b.loss()).isEqualTo(a.loss());
    assertThat(b.gradient()).isEqualTo(a.gradient());
  }
}
