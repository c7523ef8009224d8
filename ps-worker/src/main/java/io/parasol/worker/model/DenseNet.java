package io.parasol.worker.model;

import io.parasol.common.BlockLayout;
import io.parasol.proto.v1.InitKind;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A dense classifier (softmax regression, or a multilayer perceptron with ReLU hidden layers)
 * with a softmax output and mean cross-entropy loss, computed in plain Java loops over arrays.
 *
 * <p>Why not ND4J: on the sizes Parasol trains per worker step (a batch of 32, layers of tens to
 * hundreds of units) the time of an ND4J step is dominated by per-operation overhead (native
 * calls, off-heap allocation, a new array per intermediate), not arithmetic. These loops keep
 * every buffer per thread and run each product with its inner loop over contiguous memory,
 * which the JIT turns into SIMD code; zero inputs (about half of an image's pixels) are skipped.
 * {@code parasol bench model} measures this path against the ND4J one ({@link Mlp},
 * {@link SoftmaxRegression}) in the same run; the gradients agree to float rounding (tests).
 *
 * <p>Parameters, in order: for softmax, "W" (numFeatures x numClasses, row-major) and "b"; for an
 * MLP, "W1" (numFeatures x h1), "b1", "W2", "b2", ..., the last pair mapping to numClasses.
 * Softmax starts from zeros; MLP weights are uniform on [-s, s] with the Glorot/Xavier scale
 * s = sqrt(6 / (fanIn + fanOut)) (Glorot and Bengio, AISTATS 2010), biases zero. The layout and
 * initialisation are those of {@link SoftmaxRegression} and {@link Mlp}, so jobs and checkpoints
 * are interchangeable.
 */
public final class DenseNet implements Model, ArrayModel {

  private final String name;
  private final int[] widths; // numFeatures, hidden..., numClasses
  private final int[] weightAt; // offset of W_l
  private final int[] biasAt; // offset of b_l
  private final int numParams;
  private final List<BlockLayout.Tensor> tensors;
  private final ThreadLocal<Scratch> scratch;
  /** Large layers' products through {@link Blas}; false: Java loops only. */
  private final boolean blas;

  /** Softmax regression (no hidden layer). */
  public static DenseNet softmax(int numFeatures, int numClasses) {
    return new DenseNet(numFeatures, new int[0], numClasses);
  }

  /** An MLP with the given hidden widths (at least one). */
  public static DenseNet mlp(int numFeatures, int[] hidden, int numClasses) {
    if (hidden == null || hidden.length == 0) {
      throw new IllegalArgumentException("mlp: needs at least one hidden layer");
    }
    return new DenseNet(numFeatures, hidden, numClasses);
  }

  private DenseNet(int numFeatures, int[] hidden, int numClasses) {
    this(numFeatures, hidden, numClasses, Blas.AVAILABLE);
  }

  private DenseNet(int numFeatures, int[] hidden, int numClasses, boolean blas) {
    this.blas = blas;
    boolean soft = hidden.length == 0;
    String kind = soft ? "softmax" : "mlp";
    if (numFeatures <= 0) {
      throw new IllegalArgumentException(kind + ": number of features must be positive, got "
          + numFeatures);
    }
    if (numClasses < 2) {
      throw new IllegalArgumentException(kind + ": needs at least 2 classes, got "
          + numClasses);
    }
    for (int h : hidden) {
      if (h <= 0) {
        throw new IllegalArgumentException(
            "mlp: hidden layer widths must be positive, got " + Arrays.toString(hidden));
      }
    }
    this.name = soft ? "softmax" : "mlp:" + Arrays.stream(hidden).mapToObj(Integer::toString)
        .collect(Collectors.joining(","));
    this.widths = new int[hidden.length + 2];
    widths[0] = numFeatures;
    System.arraycopy(hidden, 0, widths, 1, hidden.length);
    widths[widths.length - 1] = numClasses;
    int layers = widths.length - 1;
    weightAt = new int[layers];
    biasAt = new int[layers];
    List<BlockLayout.Tensor> t = new ArrayList<>();
    long offset = 0;
    for (int l = 0; l < layers; l++) {
      int in = widths[l];
      int out = widths[l + 1];
      long size = (long) in * out;
      if (offset + size + out > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException(kind + ": " + name + " on " + numFeatures
            + " features has too many parameters");
      }
      weightAt[l] = (int) offset;
      biasAt[l] = (int) (offset + size);
      if (soft) {
        t.add(new BlockLayout.Tensor("W", (int) size, InitKind.INIT_ZEROS, 0f));
        t.add(new BlockLayout.Tensor("b", out, InitKind.INIT_ZEROS, 0f));
      } else {
        float scale = (float) Math.sqrt(6.0 / (in + out));
        t.add(new BlockLayout.Tensor("W" + (l + 1), (int) size, InitKind.INIT_UNIFORM, scale));
        t.add(new BlockLayout.Tensor("b" + (l + 1), out, InitKind.INIT_ZEROS, 0f));
      }
      offset += size + out;
    }
    this.numParams = (int) offset;
    this.tensors = List.copyOf(t);
    this.scratch = ThreadLocal.withInitial(() -> new Scratch(widths));
  }

  /** The same network computing with Java loops only (for tests and {@code bench model}). */
  public DenseNet javaLoops() {
    return new DenseNet(widths[0], hidden(), widths[widths.length - 1], false);
  }

  /** Whether this network's large products run through OpenBLAS. */
  public boolean usesBlas() {
    return blas;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public List<BlockLayout.Tensor> tensors() {
    return tensors;
  }

  @Override
  public int numParams() {
    return numParams;
  }

  /** The hidden layer widths (empty for softmax). */
  public int[] hidden() {
    return Arrays.copyOfRange(widths, 1, widths.length - 1);
  }

  // ---------------------------------------------------------------------------------------
  // Array path

  @Override
  public double lossAndGradient(float[] params, float[] features, float[] targets, int rows,
      float[] grad) {
    check(params, features, targets, rows);
    if (grad.length < numParams) {
      throw new IllegalArgumentException(name + ": gradient of " + grad.length
          + " floats for " + numParams + " parameters");
    }
    Scratch s = scratch.get().fit(rows);
    forward(params, features, rows, s);
    int layers = widths.length - 1;
    double loss = softmaxLoss(s.act[layers], targets, rows, true);
    float[] delta = s.act[layers]; // now d loss / d logits
    for (int l = layers - 1; l >= 0; l--) {
      float[] input = l == 0 ? features : s.act[l];
      int in = widths[l];
      int out = widths[l + 1];
      if (s.gemm[l]) {
        // dW = input^T . delta, with the layer's input still in its buffer from forward.
        s.delta[l].put(0, delta, 0, rows * out);
        Blas.gemm(true, false, in, out, rows, s.in[l], s.delta[l], s.prod[l]);
        s.prod[l].get(0, grad, weightAt[l], in * out);
      } else {
        outerProductSum(input, delta, rows, in, out, grad, weightAt[l]);
      }
      int b = biasAt[l];
      Arrays.fill(grad, b, b + out, 0f);
      for (int i = 0; i < rows; i++) {
        int di = i * out;
        for (int j = 0; j < out; j++) {
          grad[b + j] += delta[di + j];
        }
      }
      if (l > 0) {
        float[] back = s.back[l];
        if (s.gemm[l]) {
          // back = delta . W^T (W still in its buffer from forward), then the ReLU's mask.
          Blas.gemm(false, true, rows, in, out, s.delta[l], s.w[l], s.in[l]);
          s.in[l].get(0, back, 0, rows * in);
          for (int k = 0, n = rows * in; k < n; k++) {
            if (input[k] <= 0f) {
              back[k] = 0f;
            }
          }
        } else {
          backThroughRelu(delta, params, weightAt[l], input, rows, in, out, back);
        }
        delta = back;
      }
    }
    return loss;
  }

  /** Mean loss and accuracy of {@code params} on a whole set, in chunks of rows. */
  public Evaluation evaluate(float[] params, float[] features, float[] targets, int rows) {
    check(params, features, targets, rows);
    int chunk = 256;
    int f = widths[0];
    int classes = widths[widths.length - 1];
    double lossSum = 0;
    long correct = 0;
    Scratch s = new Scratch(widths).fit(Math.min(chunk, Math.max(1, rows)));
    for (int start = 0; start < rows; start += chunk) {
      int n = Math.min(chunk, rows - start);
      float[] x = Arrays.copyOfRange(features, start * f, (start + n) * f);
      float[] y = Arrays.copyOfRange(targets, start, start + n);
      forward(params, x, n, s);
      float[] z = s.act[widths.length - 1];
      correct += countCorrect(z, y, n, classes);
      lossSum += softmaxLoss(z, y, n, false) * n;
    }
    return new Evaluation(rows == 0 ? Double.NaN : lossSum / rows,
        rows == 0 ? Double.NaN : (double) correct / rows);
  }

  private void check(float[] params, float[] features, float[] targets, int rows) {
    if (params.length < numParams) {
      throw new IllegalArgumentException(name + ": " + params.length + " parameters, expected "
          + numParams);
    }
    if (features.length < (long) rows * widths[0] || targets.length < rows) {
      throw new IllegalArgumentException(name + ": a batch of " + rows + " rows needs "
          + (long) rows * widths[0] + " feature values and " + rows + " targets, got "
          + features.length + " and " + targets.length);
    }
    checkClassTargets(name, targets, rows, widths[widths.length - 1]);
  }

  /** Each of the first {@code rows} targets is a class index in 0..classes-1. */
  static void checkClassTargets(String model, float[] targets, int rows, int classes) {
    for (int i = 0; i < rows; i++) {
      float y = targets[i];
      if (!(y >= 0 && y < classes) || y != Math.rint(y)) {
        throw new IllegalArgumentException(model + ": target " + y + " is not a class index in"
            + " 0.." + (classes - 1));
      }
    }
  }

  /** How many of the {@code n} rows of scores {@code z} have their largest score at y. */
  static long countCorrect(float[] z, float[] y, int n, int classes) {
    long correct = 0;
    for (int i = 0; i < n; i++) {
      int best = 0;
      for (int c = 1; c < classes; c++) {
        if (z[i * classes + c] > z[i * classes + best]) {
          best = c;
        }
      }
      if (best == (int) y[i]) {
        correct++;
      }
    }
    return correct;
  }

  /** act[l+1] = act[l] . W_l + b_l, ReLU on hidden layers; act[0] is the features. */
  private void forward(float[] p, float[] x, int rows, Scratch s) {
    int layers = widths.length - 1;
    float[] input = x;
    for (int l = 0; l < layers; l++) {
      int in = widths[l];
      int out = widths[l + 1];
      float[] z = s.act[l + 1];
      int w = weightAt[l];
      int b = biasAt[l];
      s.gemm[l] = blas && Blas.worth(rows, in, out);
      if (s.gemm[l]) {
        s.fitBuffers(l, in, out);
        s.in[l].put(0, input, 0, rows * in);
        s.w[l].put(0, p, w, in * out);
        Blas.gemm(false, false, rows, out, in, s.in[l], s.w[l], s.prod[l]);
        s.prod[l].get(0, z, 0, rows * out);
        for (int i = 0; i < rows; i++) {
          int zi = i * out;
          for (int j = 0; j < out; j++) {
            float v = z[zi + j] + p[b + j];
            z[zi + j] = l < layers - 1 && v < 0f ? 0f : v;
          }
        }
        input = z;
        continue;
      }
      for (int i = 0; i < rows; i++) {
        int zi = i * out;
        System.arraycopy(p, b, z, zi, out);
        int xi = i * in;
        for (int k = 0; k < in; k++) {
          float a = input[xi + k];
          if (a == 0f) {
            continue;
          }
          int wk = w + k * out;
          for (int j = 0; j < out; j++) {
            z[zi + j] += a * p[wk + j];
          }
        }
        if (l < layers - 1) {
          for (int j = 0; j < out; j++) {
            if (z[zi + j] < 0f) {
              z[zi + j] = 0f;
            }
          }
        }
      }
      input = z;
    }
  }

  /** g[w + k*out + j] = sum_i input[i,k] * delta[i,j] (overwrites that block of g). */
  private static void outerProductSum(float[] input, float[] delta, int rows, int in, int out,
      float[] g, int w) {
    Arrays.fill(g, w, w + in * out, 0f);
    for (int i = 0; i < rows; i++) {
      int xi = i * in;
      int di = i * out;
      for (int k = 0; k < in; k++) {
        float a = input[xi + k];
        if (a == 0f) {
          continue;
        }
        int gk = w + k * out;
        for (int j = 0; j < out; j++) {
          g[gk + j] += a * delta[di + j];
        }
      }
    }
  }

  /** back[i,k] = (sum_j delta[i,j] * W[k,j]) where input[i,k] > 0, else 0. */
  private static void backThroughRelu(float[] delta, float[] p, int w, float[] input, int rows,
      int in, int out, float[] back) {
    for (int i = 0; i < rows; i++) {
      int xi = i * in;
      int di = i * out;
      for (int k = 0; k < in; k++) {
        if (input[xi + k] <= 0f) {
          back[xi + k] = 0f;
          continue;
        }
        int wk = w + k * out;
        float s0 = 0f;
        float s1 = 0f;
        int j = 0;
        for (; j + 1 < out; j += 2) {
          s0 += delta[di + j] * p[wk + j];
          s1 += delta[di + j + 1] * p[wk + j + 1];
        }
        if (j < out) {
          s0 += delta[di + j] * p[wk + j];
        }
        back[xi + k] = s0 + s1;
      }
    }
  }

  /**
   * Mean cross-entropy of softmax(z) against the class targets; with {@code gradient}, z is
   * overwritten with d loss / d z = (softmax(z) - onehot(y)) / rows.
   */
  private double softmaxLoss(float[] z, float[] y, int rows, boolean gradient) {
    return softmaxCrossEntropy(z, y, rows, widths[widths.length - 1], gradient);
  }

  /**
   * Mean cross-entropy of softmax(z) (rows x classes) against class targets; with
   * {@code gradient}, z is overwritten with d loss / d z = (softmax(z) - onehot(y)) / rows.
   */
  static double softmaxCrossEntropy(float[] z, float[] y, int rows, int classes,
      boolean gradient) {
    double loss = 0;
    float invRows = 1f / rows;
    for (int i = 0; i < rows; i++) {
      int zi = i * classes;
      float max = Float.NEGATIVE_INFINITY;
      for (int c = 0; c < classes; c++) {
        max = Math.max(max, z[zi + c]);
      }
      double sum = 0;
      for (int c = 0; c < classes; c++) {
        sum += Math.exp(z[zi + c] - max);
      }
      int label = (int) y[i];
      double logSum = Math.log(sum);
      loss += logSum - (z[zi + label] - max);
      if (gradient) {
        for (int c = 0; c < classes; c++) {
          z[zi + c] = (float) Math.exp(z[zi + c] - max - logSum) * invRows;
        }
        z[zi + label] -= invRows;
      }
    }
    return loss / rows;
  }

  /** Per-thread buffers: activations and back-propagated deltas for up to {@code rows}. */
  private static final class Scratch {
    private final int[] widths;
    private int rows;
    float[][] act;
    float[][] back;
    /** Per layer: whether the last forward pass ran it through sgemm. */
    final boolean[] gemm;
    /** Per layer, direct buffers for sgemm: its input, weights, a product, a delta. */
    final FloatBuffer[] in;
    final FloatBuffer[] w;
    final FloatBuffer[] prod;
    final FloatBuffer[] delta;
    private final int[] bufferRows;

    Scratch(int[] widths) {
      this.widths = widths;
      int layers = widths.length - 1;
      gemm = new boolean[layers];
      in = new FloatBuffer[layers];
      w = new FloatBuffer[layers];
      prod = new FloatBuffer[layers];
      delta = new FloatBuffer[layers];
      bufferRows = new int[layers];
    }

    /** Direct buffers of layer l for {@link #rows} rows (allocated once, grown with rows). */
    void fitBuffers(int l, int inWidth, int outWidth) {
      if (bufferRows[l] < rows) {
        bufferRows[l] = rows;
        in[l] = Blas.buffer(rows * inWidth);
        w[l] = Blas.buffer(inWidth * outWidth);
        // The product holds rows x out (forward) and in x out (dW).
        prod[l] = Blas.buffer(Math.max(rows, inWidth) * outWidth);
        delta[l] = Blas.buffer(rows * outWidth);
      }
    }

    Scratch fit(int n) {
      if (n > rows) {
        rows = Math.max(n, 2 * rows);
        act = new float[widths.length][];
        back = new float[widths.length][];
        for (int l = 1; l < widths.length; l++) {
          act[l] = new float[rows * widths[l]];
          back[l] = new float[rows * widths[l]];
        }
      }
      return this;
    }
  }

  // ---------------------------------------------------------------------------------------
  // ND4J adapters of the Model interface

  @Override
  public LossAndGradient lossAndGradient(INDArray params, INDArray features, INDArray targets) {
    int rows = (int) features.rows();
    float[] g = new float[numParams];
    double loss = lossAndGradient(vector(params), matrix(features), vector(targets), rows, g);
    return new LossAndGradient(loss, Nd4j.create(g, new long[] {1, numParams}, DataType.FLOAT));
  }

  @Override
  public Evaluation evaluate(INDArray params, INDArray features, INDArray targets) {
    return evaluate(vector(params), matrix(features), vector(targets), (int) features.rows());
  }

  private float[] matrix(INDArray x) {
    if (x.rank() != 2 || x.columns() != widths[0]) {
      throw new IllegalArgumentException(name + ": features must be b x " + widths[0]
          + ", got " + Arrays.toString(x.shape()));
    }
    return x.dup('c').data().asFloat();
  }

  private static float[] vector(INDArray v) {
    return v.dup('c').data().asFloat();
  }
}
