package io.parasol.worker.train;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** {@link OffHeap#floats}: the row-major values of any float array, as ND4J reads them. */
class OffHeapTest {
  private static INDArray matrix() {
    return Nd4j.create(new float[] {1, 2, 3, 4, 5, 6}, new long[] {2, 3}, DataType.FLOAT);
  }

  @Test
  void floats_ofAContiguousMatrix() {
    assertThat(OffHeap.floats(matrix())).containsExactly(1, 2, 3, 4, 5, 6);
  }

  @Test
  void floats_ofViews_areTheirRowMajorValues() {
    INDArray m = matrix();
    assertThat(OffHeap.floats(m.transpose())).containsExactly(1, 4, 2, 5, 3, 6);
    assertThat(OffHeap.floats(m.getRow(1))).containsExactly(4, 5, 6);
    assertThat(OffHeap.floats(m.dup('f'))).containsExactly(1, 2, 3, 4, 5, 6);
    assertThat(OffHeap.floats(m.castTo(DataType.DOUBLE))).containsExactly(1, 2, 3, 4, 5, 6);
  }
}
