package io.parasol.worker.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The hand-written CNN against the same network as a SameDiff graph, whose gradient comes from
 * SameDiff's automatic differentiation: same layout, loss and gradient to float rounding.
 */
class LeNetKernelTest {

  /** LeCun's widths (no hidden layer), odd widths with a hidden layer, and the default. */
  static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> archs() {
    java.util.List<org.junit.jupiter.params.provider.Arguments> a = new java.util.ArrayList<>();
    for (LeNet.Arch arch : new LeNet.Arch[] {new LeNet.Arch(6, 16, 0), new LeNet.Arch(3, 5, 7),
        LeNet.Arch.DEFAULT}) {
      for (boolean loopsOnly : new boolean[] {false, true}) {
        a.add(org.junit.jupiter.params.provider.Arguments.of(arch, loopsOnly));
      }
    }
    return a.stream();
  }

  @ParameterizedTest(name = "cnn:{0}, java loops only: {1}")
  @org.junit.jupiter.params.provider.MethodSource("archs")
  void lossAndGradient_matchesTheSameDiffGraph(LeNet.Arch arch, boolean loopsOnly) {
    LeNet.Shape shape = new LeNet.Shape(2, 18, 20);
    int classes = 4;
    LeNetKernel fast = loopsOnly ? new LeNetKernel(shape, arch, classes).javaLoops()
        : new LeNetKernel(shape, arch, classes);
    SameDiffModel graph = new SameDiffModel("cnn", LeNet.graph(shape, arch, classes, 1),
        SameDiffModel.Names.DEFAULT, shape.size(), classes);
    assertThat(fast.tensors()).isEqualTo(graph.tensors().stream()
        .map(t -> new io.parasol.common.BlockLayout.Tensor(t.name(), t.size(),
            fast.tensors().stream().filter(f -> f.name().equals(t.name())).findFirst()
                .orElseThrow().init(),
            fast.tensors().stream().filter(f -> f.name().equals(t.name())).findFirst()
                .orElseThrow().initScale()))
        .toList());
    SplittableRandom r = new SplittableRandom(11);
    int rows = 3;
    float[] p = new float[fast.numParams()];
    for (int i = 0; i < p.length; i++) {
      p[i] = (float) ((r.nextDouble() - 0.5) * 0.6);
    }
    float[] x = new float[rows * shape.size()];
    for (int i = 0; i < x.length; i++) {
      x[i] = r.nextDouble() < 0.3 ? 0f : (float) r.nextDouble();
    }
    float[] y = {1, 3, 0};
    float[] g = new float[p.length];
    double loss = fast.lossAndGradient(p, x, y, rows, g);
    INDArray pa = Nd4j.create(p, new long[] {1, p.length}, DataType.FLOAT);
    INDArray xa = Nd4j.create(x, new long[] {rows, shape.size()}, DataType.FLOAT);
    INDArray ya = Nd4j.create(y, new long[] {rows}, DataType.FLOAT);
    Model.LossAndGradient ref = graph.lossAndGradient(pa, xa, ya);
    assertThat(loss).isCloseTo(ref.loss(), org.assertj.core.data.Offset.offset(1e-5));
    float[] rg = ref.gradient().toFloatVector();
    for (int i = 0; i < g.length; i++) {
      assertThat(g[i]).as("d loss / d param %d", i)
          .isCloseTo(rg[i], org.assertj.core.data.Offset.offset(2e-5f + 1e-3f * Math.abs(rg[i])));
    }
    assertThat(fast.evaluate(pa, xa, ya).loss()).isCloseTo(loss,
        org.assertj.core.data.Offset.offset(1e-6));
    assertThat(fast.evaluate(pa, xa, ya).accuracy())
        .isEqualTo(graph.evaluate(pa, xa, ya).accuracy());
  }

  /**
   * The gradient against central differences of the loss along random directions (float
   * arithmetic: a directional derivative sums every parameter's error instead of needing each
   * one's difference above rounding), for both paths and with and without a hidden layer.
   */
  @ParameterizedTest(name = "cnn:{0}, java loops only: {1}")
  @org.junit.jupiter.params.provider.MethodSource("archs")
  void gradient_matchesCentralDifferences(LeNet.Arch arch, boolean loopsOnly) {
    LeNet.Shape shape = new LeNet.Shape(1, 16, 17);
    int classes = 3;
    LeNetKernel m = loopsOnly ? new LeNetKernel(shape, arch, classes).javaLoops()
        : new LeNetKernel(shape, arch, classes);
    SplittableRandom r = new SplittableRandom(3);
    int rows = 4;
    float[] p = new float[m.numParams()];
    for (int i = 0; i < p.length; i++) {
      p[i] = (float) ((r.nextDouble() - 0.5) * 0.5);
    }
    float[] x = new float[rows * shape.size()];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextDouble();
    }
    float[] y = {0, 2, 1, 2};
    float[] g = new float[p.length];
    m.lossAndGradient(p, x, y, rows, g);
    double eps = 1e-3;
    for (int trial = 0; trial < 3; trial++) {
      double[] v = new double[p.length];
      double norm = 0;
      for (int i = 0; i < v.length; i++) {
        v[i] = r.nextDouble() - 0.5;
        norm += v[i] * v[i];
      }
      double dot = 0;
      float[] plus = new float[p.length];
      float[] minus = new float[p.length];
      for (int i = 0; i < v.length; i++) {
        v[i] /= Math.sqrt(norm);
        dot += g[i] * v[i];
        plus[i] = (float) (p[i] + eps * v[i]);
        minus[i] = (float) (p[i] - eps * v[i]);
      }
      float[] scratch = new float[p.length];
      double fd = (m.lossAndGradient(plus, x, y, rows, scratch)
          - m.lossAndGradient(minus, x, y, rows, scratch)) / (2 * eps);
      assertThat(dot).as("directional derivative %d", trial)
          .isCloseTo(fd, org.assertj.core.data.Offset.offset(2e-3 + 2e-2 * Math.abs(fd)));
    }
  }

  /**
   * On a worker's batch (32 images of 28x28, odd-sized maps nowhere), the OpenBLAS path and the
   * Java loops agree to float rounding, also when the batch shrinks and grows again (per-thread
   * buffers reused) and on evaluation in chunks; with the default widths and LeCun's.
   */
  @ParameterizedTest(name = "cnn:{0}")
  @org.junit.jupiter.params.provider.MethodSource("widths")
  void blasPath_agreesWithTheJavaLoops(LeNet.Arch arch) {
    LeNetKernel blas = new LeNetKernel(new LeNet.Shape(1, 28, 28), arch, 10);
    org.junit.jupiter.api.Assumptions.assumeTrue(blas.usesBlas(), "OpenBLAS not loadable");
    LeNetKernel loops = blas.javaLoops();
    assertThat(loops.usesBlas()).isFalse();
    SplittableRandom r = new SplittableRandom(5);
    float[] p = new float[blas.numParams()];
    for (int i = 0; i < p.length; i++) {
      p[i] = (float) ((r.nextDouble() - 0.5) * 0.4);
    }
    for (int rows : new int[] {32, 7, 32, 70}) {
      float[] x = new float[rows * 784];
      for (int i = 0; i < x.length; i++) {
        x[i] = r.nextDouble() < 0.5 ? 0f : (float) r.nextDouble();
      }
      float[] y = new float[rows];
      for (int i = 0; i < rows; i++) {
        y[i] = r.nextInt(10);
      }
      float[] g = new float[p.length];
      java.util.Arrays.fill(g, 99f); // overwritten, not added to
      float[] rg = new float[p.length];
      double loss = blas.lossAndGradient(p, x, y, rows, g);
      double refLoss = loops.lossAndGradient(p, x, y, rows, rg);
      assertThat(loss).as("loss, %d rows", rows)
          .isCloseTo(refLoss, org.assertj.core.data.Offset.offset(1e-5));
      for (int i = 0; i < g.length; i++) {
        assertThat(g[i]).as("d loss / d param %d, %d rows", i, rows).isCloseTo(rg[i],
            org.assertj.core.data.Offset.offset(2e-5f + 1e-3f * Math.abs(rg[i])));
      }
      Model.Evaluation e = blas.evaluate(p, x, y, rows);
      Model.Evaluation re = loops.evaluate(p, x, y, rows);
      assertThat(e.loss()).isCloseTo(re.loss(), org.assertj.core.data.Offset.offset(1e-5));
      assertThat(e.accuracy()).isEqualTo(re.accuracy());
    }
  }

  static java.util.stream.Stream<LeNet.Arch> widths() {
    return java.util.stream.Stream.of(LeNet.Arch.DEFAULT, new LeNet.Arch(6, 16, 0));
  }

  @Test
  void arch_parsesAndRefuses() {
    assertThat(LeNet.Arch.parse("16, 32,128")).isEqualTo(new LeNet.Arch(16, 32, 128));
    assertThat(LeNet.Arch.parse("6,16")).isEqualTo(new LeNet.Arch(6, 16, 0));
    assertThat(Models.create("cnn:6,16", 784, 10).numParams()).isEqualTo(156 + 2416 + 2570);
    assertThat(Models.create("cnn", 784, 10).numParams())
        .isEqualTo(416 + 12_832 + 65_664 + 1_290);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Models.create("cnn:6", 784, 10))
        .hasMessageContaining("cnn:C1,C2[,H]");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Models.create("cnn:6,x", 784, 10))
        .hasMessageContaining("'x' is not an integer");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Models.create("cnn:0,16", 784, 10))
        .hasMessageContaining("must be positive");
  }
}
