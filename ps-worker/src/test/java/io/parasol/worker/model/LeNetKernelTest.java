package io.parasol.worker.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The hand-written CNN against the same network as a SameDiff graph, whose gradient comes from
 * SameDiff's automatic differentiation: same layout, loss and gradient to float rounding.
 */
class LeNetKernelTest {

  @Test
  void lossAndGradient_matchesTheSameDiffGraph() {
    LeNet.Shape shape = new LeNet.Shape(2, 18, 20);
    int classes = 4;
    LeNetKernel fast = new LeNetKernel(shape, classes);
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
}
