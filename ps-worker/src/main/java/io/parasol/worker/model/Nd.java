package io.parasol.worker.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * ND4J helpers shared by the models: shape checks, views into the flat parameter vector, the
 * flat gradient, one-hot targets and a stable softmax cross-entropy.
 *
 * <p>ND4J pitfall: {@code reshape('c', n)} with a single size binds to {@code reshape(long rows,
 * long cols)} (the char widens to 99), so one-dimensional reshapes pass an explicit array.
 *
 * <p>Every computation runs in the data type of the parameter vector (FLOAT in training; DOUBLE
 * lets tests check gradients against finite differences); features and targets are cast to it.
 */
final class Nd {

  private Nd() {}

  /** A rank-1 view of the parameter vector (1 x d or length d), checking its length. */
  static INDArray flatParams(INDArray params, int expected, String model) {
    if (params == null) {
      throw new IllegalArgumentException(model + ": params is null");
    }
    if (params.length() != expected || params.rank() > 2
        || (params.rank() == 2 && params.rows() != 1 && params.columns() != 1)) {
      throw new IllegalArgumentException(model + ": expected a parameter vector of length "
          + expected + ", got shape " + java.util.Arrays.toString(params.shape()));
    }
    if (!params.dataType().isFPType()) {
      throw new IllegalArgumentException(
          model + ": parameters must be floating point, got " + params.dataType());
    }
    // An explicit array: reshape('c', n) would bind to reshape(long rows, long cols) = [99, n].
    return params.rank() == 1 ? params : params.reshape('c', new long[] {expected});
  }

  /** The rows x cols tensor at {@code offset} of a flat vector, as a row-major view. */
  static INDArray view(INDArray flat, long offset, long rows, long cols) {
    return flat.get(NDArrayIndex.interval(offset, offset + rows * cols)).reshape('c', rows, cols);
  }

  /** The b x numFeatures feature matrix in data type {@code dt}. */
  static INDArray features(INDArray x, int numFeatures, DataType dt, String model) {
    if (x == null || x.rank() != 2 || x.columns() != numFeatures) {
      throw new IllegalArgumentException(model + ": expected features of shape b x "
          + numFeatures + ", got " + (x == null ? "null"
          : java.util.Arrays.toString(x.shape())));
    }
    if (x.rows() == 0) {
      throw new IllegalArgumentException(model + ": the batch is empty");
    }
    return x.dataType() == dt ? x : x.castTo(dt);
  }

  /** The targets as a b x 1 column in data type {@code dt}. */
  static INDArray targetColumn(INDArray y, long b, DataType dt, String model) {
    if (y == null || y.length() != b || (y.rank() == 2 && y.rows() != 1 && y.columns() != 1)
        || y.rank() > 2) {
      throw new IllegalArgumentException(model + ": expected " + b + " targets, got shape "
          + (y == null ? "null" : java.util.Arrays.toString(y.shape())));
    }
    INDArray col = y.reshape('c', b, 1);
    return col.dataType() == dt ? col : col.castTo(dt);
  }

  /** One-hot b x numClasses matrix of the class indices in a b x 1 column. */
  static INDArray oneHot(INDArray yCol, int numClasses, String model) {
    DataType dt = yCol.dataType();
    long b = yCol.rows();
    INDArray classes = Nd4j.arange(0, numClasses).castTo(dt).reshape(1, numClasses);
    INDArray y = Nd4j.zeros(dt, b, numClasses).addiRowVector(classes).subiColumnVector(yCol)
        .eq(0.0).castTo(dt);
    if (y.sumNumber().longValue() != b) {
      checkClasses(yCol, numClasses, model);
    }
    return y;
  }

  /** Throws naming the first target that is not a class index 0..numClasses-1. */
  static void checkClasses(INDArray yCol, int numClasses, String model) {
    double[] v = yCol.toDoubleVector();
    for (int i = 0; i < v.length; i++) {
      if (v[i] != Math.rint(v[i]) || v[i] < 0 || v[i] >= numClasses) {
        throw new IllegalArgumentException(model + ": target " + v[i] + " of example " + i
            + " is not a class index in 0.." + (numClasses - 1));
      }
    }
  }

  /**
   * Mean softmax cross-entropy of logits {@code z} (b x C) against one-hot {@code y}, with
   * log-sum-exp stabilisation; if {@code dz} is true, {@code z} is overwritten with the
   * gradient (softmax(z) - y) / b.
   */
  static double softmaxCrossEntropy(INDArray z, INDArray y, boolean dz) {
    long b = z.rows();
    INDArray max = z.max(1).reshape(b, 1);
    INDArray shifted = dz ? z.subiColumnVector(max) : z.subColumnVector(max);
    INDArray e = Transforms.exp(shifted, true);
    INDArray sum = e.sum(1).reshape(b, 1);
    // loss_i = log sum_j exp(s_ij) - s_{i,y_i}, with s = z - max
    double logSum = Transforms.log(sum, true).sumNumber().doubleValue();
    double picked = shifted.mul(y).sumNumber().doubleValue();
    if (dz) {
      shifted.assign(e.diviColumnVector(sum)).subi(y).divi(b);
    }
    return (logSum - picked) / b;
  }

  /** The fraction of rows whose largest logit is at the target class. */
  static double argmaxAccuracy(INDArray z, INDArray yCol) {
    INDArray pred = Nd4j.argMax(z, 1).castTo(yCol.dataType()).reshape(yCol.rows(), 1);
    return pred.eq(yCol).castTo(yCol.dataType()).sumNumber().doubleValue() / yCol.rows();
  }

  /** A new 1 x d vector holding {@code parts} flattened row-major one after the other. */
  static INDArray concat(DataType dt, long d, INDArray... parts) {
    INDArray g = Nd4j.create(dt, 1, d);
    long offset = 0;
    for (INDArray p : parts) {
      long len = p.length();
      g.get(NDArrayIndex.point(0), NDArrayIndex.interval(offset, offset + len))
          .assign(p.reshape('c', new long[] {len}));
      offset += len;
    }
    if (offset != d) {
      throw new IllegalStateException("gradient parts hold " + offset + " values, expected " + d);
    }
    return g;
  }
}
