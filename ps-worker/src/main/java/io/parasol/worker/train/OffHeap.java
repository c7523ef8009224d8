package io.parasol.worker.train;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The bridge between ND4J arrays and the client's ND4J-free API: an array's off-heap memory as
 * a {@link ByteBuffer} the client reads from (push) or decodes into (pull), in place.
 */
public final class OffHeap {
  private OffHeap() {}

  /**
   * The memory of {@code a}, a contiguous float32 vector of at least {@code d} values (any
   * shape with unit element stride, e.g. 1 x d), as native-order bytes of its first d values.
   */
  public static ByteBuffer bytes(INDArray a, int d) {
    if (a.dataType() != DataType.FLOAT) {
      throw new IllegalArgumentException("expected a FLOAT vector, got " + a.dataType());
    }
    if (a.length() < d || (a.length() > 1 && a.elementWiseStride() != 1)
        || !(a.isVector() || a.ordering() == 'c')) {
      throw new IllegalArgumentException("expected a contiguous float vector of " + d
          + " values, got shape " + Arrays.toString(a.shape()));
    }
    ByteBuffer all = a.data().asNio().order(ByteOrder.nativeOrder());
    int from = (int) (a.offset() * Float.BYTES);
    return all.slice(from, d * Float.BYTES).order(ByteOrder.nativeOrder());
  }

  /**
   * The values of a float32 array in row-major order as a new {@code float[]}, copied in bulk
   * from its memory (ND4J's {@code data().asFloat()} reads element by element).
   */
  public static float[] floats(INDArray a) {
    INDArray c = a.dataType() == DataType.FLOAT && a.ordering() == 'c'
        && a.elementWiseStride() == 1 ? a : a.castTo(DataType.FLOAT).dup('c');
    long n = c.length();
    if (n > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("array of " + n + " values does not fit a float[]");
    }
    float[] out = new float[(int) n];
    if (n > 0) {
      bytes(c.reshape(n), (int) n).asFloatBuffer().get(out);
    }
    return out;
  }
}
