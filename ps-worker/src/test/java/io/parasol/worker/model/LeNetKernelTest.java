package io.parasol.worker.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The hand-written CNN against the same network as a SameDiff graph, whose gradient comes from
 * SameDiff's automatic differentiation: same layout, loss and gradient to float rounding.
 */
class LeNetKernelTest {

  @ParameterizedTest(name = "java loops only: {0}")
  @ValueSource(booleans = {false, true})
  void lossAndGradient_matchesTheSameDiffGraph(boolean loopsOnly) {
    LeNet.Shape shape = new LeNet.Shape(2, 18, 20);
    int classes = 4;
    LeNetKernel fast = loopsOnly ? new LeNetKernel(shape, classes).javaLoops()
        : new LeNetKernel(shape, classes);
    SameDiffModel graph = new SameDiffModel("cnn", LeNet.graph(shape, classes, 1),
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
   * On a worker's batch (32 images of 28x28, odd-sized maps nowhere), the OpenBLAS path and the
   * Java loops agree to float rounding, also when the batch shrinks and grows again (per-thread
   * buffers reused) and on evaluation in chunks.
   */
  @Test
  void blasPath_agreesWithTheJavaLoops() {
    LeNetKernel blas = new LeNetKernel(new LeNet.Shape(1, 28, 28), 10);
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
}
