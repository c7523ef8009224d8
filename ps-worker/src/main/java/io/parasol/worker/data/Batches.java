package io.parasol.worker.data;

import java.util.Iterator;
import java.util.Objects;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * An endless stream of mini-batches over a data set, epoch by epoch, for one worker.
 *
 * <p>Each epoch walks a fresh random permutation of the examples, so every example is seen
 * exactly once per epoch; the last batch of an epoch holds the remaining {@code n mod b}
 * examples when {@code b} does not divide {@code n}. The permutations come from a {@link
 * SplittableRandom} with the given seed: two instances over the same data and seed yield the
 * same batches in the same order. Not thread-safe.
 */
public final class Batches implements Iterator<Batches.Batch> {

  /**
   * A mini-batch.
   *
   * @param features b x numFeatures FLOAT matrix
   * @param targets length-b FLOAT vector
   */
  public record Batch(INDArray features, INDArray targets) {
    /** The number of examples b. */
    public int size() {
      return (int) targets.length();
    }
  }

  private final Dataset data;
  private final int batchSize;
  private final SplittableRandom rng;
  private final int[] order;
  private int position;
  private int epoch;

  /**
   * @param data the examples to draw from (at least one)
   * @param batchSize examples per batch, positive (a batch larger than the data set is the whole
   *     data set)
   * @param seed seed of the per-epoch shuffles
   */
  public Batches(Dataset data, int batchSize, long seed) {
    this.data = Objects.requireNonNull(data, "data");
    if (batchSize <= 0) {
      throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
    }
    if (data.numExamples() == 0) {
      throw new IllegalArgumentException("cannot draw batches from an empty data set");
    }
    this.batchSize = batchSize;
    this.rng = new SplittableRandom(seed);
    this.order = Splits.permutation(data.numExamples(), rng);
  }

  /** Always true: the stream starts a new epoch when one ends. */
  @Override
  public boolean hasNext() {
    return true;
  }

  /** The next batch; after the last batch of an epoch the order is reshuffled. */
  @Override
  public Batch next() {
    int n = data.numExamples();
    int b = Math.min(batchSize, n - position);
    int d = data.numFeatures();
    float[] x = new float[b * d];
    float[] y = new float[b];
    nextInto(x, y);
    return new Batch(Nd4j.create(x, new long[] {b, d}, DataType.FLOAT),
        Nd4j.create(y, new long[] {b}, DataType.FLOAT));
  }

  /**
   * The next batch, as {@link #next()} draws it, copied into {@code x} (rows x numFeatures,
   * row-major) and {@code y}, each at least a full batch long; returns the number of rows b.
   */
  public int nextInto(float[] x, float[] y) {
    int n = data.numExamples();
    int b = Math.min(batchSize, n - position);
    int d = data.numFeatures();
    if (x.length < b * d || y.length < b) {
      throw new IllegalArgumentException("buffers of " + x.length + " and " + y.length
          + " floats for a batch of " + b + " x " + d);
    }
    float[] fx = data.features();
    float[] fy = data.targets();
    for (int k = 0; k < b; k++) {
      int i = order[position + k];
      System.arraycopy(fx, i * d, x, k * d, d);
      y[k] = fy[i];
    }
    position += b;
    if (position == n) {
      position = 0;
      epoch++;
      Splits.shuffle(order, rng);
    }
    return b;
  }

  /** The number of epochs completed so far (0 until the last batch of the first epoch). */
  public int epoch() {
    return epoch;
  }

  /** Batches per epoch, ceil(n / batchSize). */
  public int stepsPerEpoch() {
    return (data.numExamples() + batchSize - 1) / batchSize;
  }

  public int batchSize() {
    return batchSize;
  }

  /** The whole data set as one batch, in its stored order (for evaluation). */
  public static Batch all(Dataset data) {
    Objects.requireNonNull(data, "data");
    return new Batch(
        Nd4j.create(data.features().clone(), new long[] {data.numExamples(),
            data.numFeatures()}, DataType.FLOAT),
        Nd4j.create(data.targets().clone(), new long[] {data.numExamples()}, DataType.FLOAT));
  }
}
