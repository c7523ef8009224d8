package io.parasol.worker.model;

import io.parasol.common.BlockLayout;
import io.parasol.proto.v1.InitKind;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The built-in {@code cnn} ({@link LeNet}'s network, of any {@link LeNet.Arch}'s widths) computed
 * in plain Java loops: the same
 * parameters, layout, loss and gradient as the SameDiff graph (to float rounding; tests compare
 * them), several times faster on a worker's batch, where SameDiff's per-operation cost dominates
 * ({@code parasol bench model} measures both in one run).
 *
 * <p>Parameters, in the graph's order (variable names sorted): conv1_W [5, 5, C, C1] (kH, kW, in,
 * out), conv1_b [C1], conv2_W [5, 5, C1, C2], conv2_b [C2], dense_W [F, D], dense_b [1, D], and
 * with a hidden layer (D = H) out_W [H, classes], out_b [1, classes] (without, D = classes), with
 * F = C2 x (((H-4)/2-4)/2) x (((W-4)/2-4)/2). Activations are kept per image
 * as channels x rows x columns; every convolution runs its inner loop along a row, which the JIT
 * turns into SIMD code. Where OpenBLAS is available ({@link Blas}), the step runs as matrix
 * products instead ({@link LeNetGemm}: unfolded convolutions through sgemm), several times
 * faster under either JIT; {@link #javaLoops()} gives the loops-only kernel. Thread-safe:
 * buffers are per thread.
 */
public final class LeNetKernel implements Model, ArrayModel {
  private static final int K = 5;
  /**
   * Images per evaluation chunk through OpenBLAS: the per-thread buffers grow to the largest
   * chunk (about 0.5 MB of unfolded input per 28x28 image), kept for the thread's steps.
   */
  private static final int EVAL_CHUNK_BLAS = 64;

  private final LeNet.Shape shape;
  private final LeNet.Arch arch;
  private final int classes;
  private final int c1;
  private final int c2;
  private final int hid; // hidden units, 0: none
  private final int d1; // the dense layer's width: hid, or classes without a hidden layer
  private final int h1;
  private final int w1; // conv1 output
  private final int hp1;
  private final int wp1; // pool1 output
  private final int h2;
  private final int w2; // conv2 output
  private final int hp2;
  private final int wp2; // pool2 output
  private final int flat;
  private final int oW1;
  private final int oB1;
  private final int oW2;
  private final int oB2;
  private final int oWd;
  private final int oBd;
  private final int oWo;
  private final int oBo;
  private final int numParams;
  private final List<BlockLayout.Tensor> tensors;
  private final ThreadLocal<Scratch> scratch;
  /** The products through OpenBLAS; null: Java loops only. */
  private final LeNetGemm gemm;

  /** The network of the default widths for {@code shape} images and {@code classes} classes. */
  public LeNetKernel(LeNet.Shape shape, int classes) {
    this(shape, LeNet.Arch.DEFAULT, classes);
  }

  /** The network of {@code arch}'s widths for {@code shape} images and {@code classes} classes. */
  public LeNetKernel(LeNet.Shape shape, LeNet.Arch arch, int classes) {
    this(shape, arch, classes, Blas.AVAILABLE);
  }

  private LeNetKernel(LeNet.Shape shape, LeNet.Arch arch, int classes, boolean blas) {
    this.shape = shape;
    this.arch = arch;
    this.classes = classes;
    c1 = arch.c1();
    c2 = arch.c2();
    hid = arch.hidden();
    d1 = hid > 0 ? hid : classes;
    h1 = shape.height() - K + 1;
    w1 = shape.width() - K + 1;
    hp1 = h1 / 2;
    wp1 = w1 / 2;
    h2 = hp1 - K + 1;
    w2 = wp1 - K + 1;
    if (h2 < 2 || w2 < 2) {
      throw new IllegalArgumentException("cnn: images of " + shape.height() + " x "
          + shape.width() + " are too small for two 5x5 convolutions and two 2x2 pools (need"
          + " at least 16 x 16)");
    }
    if (classes < 2) {
      throw new IllegalArgumentException("cnn: needs at least 2 classes, got " + classes);
    }
    hp2 = h2 / 2;
    wp2 = w2 / 2;
    flat = c2 * hp2 * wp2;
    int c = shape.channels();
    oW1 = 0;
    oB1 = oW1 + K * K * c * c1;
    oW2 = oB1 + c1;
    oB2 = oW2 + K * K * c1 * c2;
    oWd = oB2 + c2;
    oBd = oWd + flat * d1;
    oWo = oBd + d1;
    oBo = oWo + (hid > 0 ? hid * classes : 0);
    numParams = hid > 0 ? oBo + classes : oWo;
    List<BlockLayout.Tensor> t = new java.util.ArrayList<>(List.of(
        new BlockLayout.Tensor("conv1_W", K * K * c * c1, InitKind.INIT_UNIFORM,
            glorot(K * K * c, K * K * c1)),
        new BlockLayout.Tensor("conv1_b", c1, InitKind.INIT_ZEROS, 0f),
        new BlockLayout.Tensor("conv2_W", K * K * c1 * c2, InitKind.INIT_UNIFORM,
            glorot(K * K * c1, K * K * c2)),
        new BlockLayout.Tensor("conv2_b", c2, InitKind.INIT_ZEROS, 0f),
        new BlockLayout.Tensor("dense_W", flat * d1, InitKind.INIT_UNIFORM, glorot(flat, d1)),
        new BlockLayout.Tensor("dense_b", d1, InitKind.INIT_ZEROS, 0f)));
    if (hid > 0) {
      t.add(new BlockLayout.Tensor("out_W", hid * classes, InitKind.INIT_UNIFORM,
          glorot(hid, classes)));
      t.add(new BlockLayout.Tensor("out_b", classes, InitKind.INIT_ZEROS, 0f));
    }
    tensors = List.copyOf(t);
    scratch = ThreadLocal.withInitial(Scratch::new);
    gemm = blas ? new LeNetGemm(shape, arch, classes) : null;
  }

  /** The same network computing with Java loops only (for tests and {@code bench model}). */
  public LeNetKernel javaLoops() {
    return new LeNetKernel(shape, arch, classes, false);
  }

  /** The network's widths. */
  public LeNet.Arch arch() {
    return arch;
  }

  /** Whether this network's convolutions and dense layer run through OpenBLAS. */
  public boolean usesBlas() {
    return gemm != null;
  }

  private static float glorot(int fanIn, int fanOut) {
    return (float) Math.sqrt(6.0 / (fanIn + fanOut));
  }

  @Override
  public String name() {
    return arch.equals(LeNet.Arch.DEFAULT) ? "cnn" : "cnn:" + arch;
  }

  @Override
  public List<BlockLayout.Tensor> tensors() {
    return tensors;
  }

  @Override
  public int numParams() {
    return numParams;
  }

  /** Per-thread buffers for a batch of up to {@code rows} images. */
  private final class Scratch {
    int rows;
    float[] a1; // relu(conv1), per image c1 x h1 x w1
    float[] p1; // pool1, C1 x hp1 x wp1
    int[] i1; // argmax of pool1, index into a1 of the image
    float[] a2; // relu(conv2), C2 x h2 x w2
    float[] p2; // pool2, flat
    int[] i2;
    float[] u; // relu(dense), per image hid (a hidden layer only)
    float[] z; // logits, then d loss / d logits
    final float[] du = new float[d1];
    final float[] dp2 = new float[flat];
    final float[] da2 = new float[c2 * h2 * w2];
    final float[] dp1 = new float[c1 * hp1 * wp1];
    final float[] da1 = new float[c1 * h1 * w1];

    Scratch fit(int n) {
      if (n > rows) {
        rows = Math.max(n, 2 * rows);
        a1 = new float[rows * c1 * h1 * w1];
        p1 = new float[rows * c1 * hp1 * wp1];
        i1 = new int[rows * c1 * hp1 * wp1];
        a2 = new float[rows * c2 * h2 * w2];
        u = new float[rows * hid];
        p2 = new float[rows * flat];
        i2 = new int[rows * flat];
        z = new float[rows * classes];
      }
      return this;
    }
  }

  // ---------------------------------------------------------------------------------------
  // Forward

  /**
   * out[k][y][x] = b[k] + sum_{c,dy,dx} w[dy][dx][c][k] * in[c][y+dy][x+dx], then ReLU; the
   * weights in (kH, kW, in, out) order as SameDiff's conv2d takes them.
   */
  private static void conv(float[] in, int inAt, int cin, int hin, int win, float[] p, int wAt,
      int bAt, int cout, float[] out, int outAt) {
    int ho = hin - K + 1;
    int wo = win - K + 1;
    int plane = ho * wo;
    for (int k = 0; k < cout; k++) {
      Arrays.fill(out, outAt + k * plane, outAt + (k + 1) * plane, p[bAt + k]);
    }
    for (int k = 0; k < cout; k++) {
      int ok = outAt + k * plane;
      for (int c = 0; c < cin; c++) {
        int ic = inAt + c * hin * win;
        for (int dy = 0; dy < K; dy++) {
          for (int dx = 0; dx < K; dx++) {
            float w = p[wAt + ((dy * K + dx) * cin + c) * cout + k];
            for (int y = 0; y < ho; y++) {
              int o = ok + y * wo;
              int i = ic + (y + dy) * win + dx;
              for (int x = 0; x < wo; x++) {
                out[o + x] += w * in[i + x];
              }
            }
          }
        }
      }
    }
    for (int i = outAt; i < outAt + cout * plane; i++) {
      if (out[i] < 0f) {
        out[i] = 0f;
      }
    }
  }

  /** 2x2 max pooling with stride 2; idx gets each maximum's index within the input image. */
  private static void pool(float[] in, int inAt, int ch, int h, int w, float[] out, int outAt,
      int[] idx) {
    int ho = h / 2;
    int wo = w / 2;
    for (int c = 0; c < ch; c++) {
      for (int y = 0; y < ho; y++) {
        for (int x = 0; x < wo; x++) {
          int base = c * h * w + 2 * y * w + 2 * x;
          int best = base;
          float m = in[inAt + base];
          int[] cand = {base + 1, base + w, base + w + 1};
          for (int q : cand) {
            if (in[inAt + q] > m) {
              m = in[inAt + q];
              best = q;
            }
          }
          int o = outAt + (c * ho + y) * wo + x;
          out[o] = m;
          idx[o] = best;
        }
      }
    }
  }

  private void forward(float[] p, float[] x, int rows, Scratch s) {
    int c = shape.channels();
    int img = shape.size();
    int s1 = c1 * h1 * w1;
    int s1p = c1 * hp1 * wp1;
    int s2 = c2 * h2 * w2;
    float[] u = hid > 0 ? s.u : s.z; // the dense layer's output
    for (int n = 0; n < rows; n++) {
      conv(x, n * img, c, shape.height(), shape.width(), p, oW1, oB1, c1, s.a1, n * s1);
      pool(s.a1, n * s1, c1, h1, w1, s.p1, n * s1p, s.i1);
      conv(s.p1, n * s1p, c1, hp1, wp1, p, oW2, oB2, c2, s.a2, n * s2);
      pool(s.a2, n * s2, c2, h2, w2, s.p2, n * flat, s.i2);
      int ui = n * d1;
      System.arraycopy(p, oBd, u, ui, d1);
      for (int f = 0; f < flat; f++) {
        float a = s.p2[n * flat + f];
        if (a == 0f) {
          continue;
        }
        int wf = oWd + f * d1;
        for (int j = 0; j < d1; j++) {
          u[ui + j] += a * p[wf + j];
        }
      }
      if (hid > 0) {
        int zi = n * classes;
        System.arraycopy(p, oBo, s.z, zi, classes);
        for (int k = 0; k < hid; k++) {
          float a = u[ui + k];
          if (a <= 0f) {
            u[ui + k] = 0f;
            continue;
          }
          int wk = oWo + k * classes;
          for (int j = 0; j < classes; j++) {
            s.z[zi + j] += a * p[wk + j];
          }
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // Backward

  /**
   * Gradients of a convolution from d loss / d out (already masked by the ReLU): weights and
   * bias added into g; d loss / d in written into dIn (when not null).
   */
  private static void convBack(float[] in, int inAt, int cin, int hin, int win, float[] p,
      int wAt, int bAt, int cout, float[] dOut, float[] g, float[] dIn) {
    int ho = hin - K + 1;
    int wo = win - K + 1;
    int plane = ho * wo;
    if (dIn != null) {
      Arrays.fill(dIn, 0, cin * hin * win, 0f);
    }
    for (int k = 0; k < cout; k++) {
      int ok = k * plane;
      float bsum = 0f;
      for (int i = 0; i < plane; i++) {
        bsum += dOut[ok + i];
      }
      g[bAt + k] += bsum;
      for (int c = 0; c < cin; c++) {
        int ic = inAt + c * hin * win;
        int dc = c * hin * win;
        for (int dy = 0; dy < K; dy++) {
          for (int dx = 0; dx < K; dx++) {
            int wi = wAt + ((dy * K + dx) * cin + c) * cout + k;
            float w = p[wi];
            float s0 = 0f;
            float s1 = 0f;
            for (int y = 0; y < ho; y++) {
              int o = ok + y * wo;
              int i = ic + (y + dy) * win + dx;
              int x = 0;
              for (; x + 1 < wo; x += 2) {
                s0 += dOut[o + x] * in[i + x];
                s1 += dOut[o + x + 1] * in[i + x + 1];
              }
              if (x < wo) {
                s0 += dOut[o + x] * in[i + x];
              }
              if (dIn != null) {
                int d = dc + (y + dy) * win + dx;
                for (x = 0; x < wo; x++) {
                  dIn[d + x] += w * dOut[o + x];
                }
              }
            }
            g[wi] += s0 + s1;
          }
        }
      }
    }
  }

  @Override
  public double lossAndGradient(float[] params, float[] features, float[] targets, int rows,
      float[] grad) {
    check(params, features, targets, rows);
    if (grad.length < numParams) {
      throw new IllegalArgumentException("cnn: gradient of " + grad.length + " floats for "
          + numParams + " parameters");
    }
    if (gemm != null) {
      return gemm.lossAndGradient(params, features, targets, rows, grad);
    }
    Scratch s = scratch.get().fit(rows);
    forward(params, features, rows, s);
    double loss = DenseNet.softmaxCrossEntropy(s.z, targets, rows, classes, true);
    Arrays.fill(grad, 0, numParams, 0f);
    int img = shape.size();
    int s1 = c1 * h1 * w1;
    int s1p = c1 * hp1 * wp1;
    int s2 = c2 * h2 * w2;
    for (int n = 0; n < rows; n++) {
      int zi = n * classes;
      // d loss / d dense output: the logits', or back through the output layer and ReLU
      float[] du = s.z;
      int di = zi;
      if (hid > 0) {
        for (int j = 0; j < classes; j++) {
          grad[oBo + j] += s.z[zi + j];
        }
        for (int k = 0; k < hid; k++) {
          float a = s.u[n * hid + k];
          int wk = oWo + k * classes;
          float back = 0f;
          for (int j = 0; j < classes; j++) {
            grad[wk + j] += a * s.z[zi + j];
            back += params[wk + j] * s.z[zi + j];
          }
          s.du[k] = a > 0f ? back : 0f;
        }
        du = s.du;
        di = 0;
      }
      // dense
      for (int j = 0; j < d1; j++) {
        grad[oBd + j] += du[di + j];
      }
      for (int f = 0; f < flat; f++) {
        float a = s.p2[n * flat + f];
        int wf = oWd + f * d1;
        float back = 0f;
        for (int j = 0; j < d1; j++) {
          grad[wf + j] += a * du[di + j];
          back += params[wf + j] * du[di + j];
        }
        s.dp2[f] = back;
      }
      // pool2 and ReLU back
      Arrays.fill(s.da2, 0f);
      for (int f = 0; f < flat; f++) {
        int at = s.i2[n * flat + f];
        if (s.a2[n * s2 + at] > 0f) {
          s.da2[at] += s.dp2[f];
        }
      }
      convBack(s.p1, n * s1p, c1, hp1, wp1, params, oW2, oB2, c2, s.da2, grad, s.dp1);
      // pool1 and ReLU back
      Arrays.fill(s.da1, 0f);
      for (int q = 0; q < s1p; q++) {
        int at = s.i1[n * s1p + q];
        if (s.a1[n * s1 + at] > 0f) {
          s.da1[at] += s.dp1[q];
        }
      }
      convBack(features, n * img, shape.channels(), shape.height(), shape.width(), params,
          oW1, oB1, c1, s.da1, grad, null);
    }
    return loss;
  }

  private void check(float[] params, float[] features, float[] targets, int rows) {
    if (params.length < numParams) {
      throw new IllegalArgumentException("cnn: " + params.length + " parameters, expected "
          + numParams);
    }
    if (features.length < (long) rows * shape.size() || targets.length < rows) {
      throw new IllegalArgumentException("cnn: a batch of " + rows + " rows needs "
          + (long) rows * shape.size() + " feature values and " + rows + " targets");
    }
    DenseNet.checkClassTargets("cnn", targets, rows, classes);
  }

  /** Mean loss and accuracy on a whole set, in chunks. */
  public Evaluation evaluate(float[] params, float[] features, float[] targets, int rows) {
    check(params, features, targets, rows);
    int chunk = gemm != null ? EVAL_CHUNK_BLAS : 256;
    Scratch s = gemm != null ? null : new Scratch().fit(Math.min(chunk, Math.max(1, rows)));
    double lossSum = 0;
    long correct = 0;
    int img = shape.size();
    for (int start = 0; start < rows; start += chunk) {
      int n = Math.min(chunk, rows - start);
      float[] y = Arrays.copyOfRange(targets, start, start + n);
      float[] z;
      if (gemm != null) {
        z = gemm.logits(params, features, start * img, n);
      } else {
        float[] x = Arrays.copyOfRange(features, start * img, (start + n) * img);
        forward(params, x, n, s);
        z = s.z;
      }
      correct += DenseNet.countCorrect(z, y, n, classes);
      lossSum += DenseNet.softmaxCrossEntropy(z, y, n, classes, false) * n;
    }
    return new Evaluation(rows == 0 ? Double.NaN : lossSum / rows,
        rows == 0 ? Double.NaN : (double) correct / rows);
  }

  @Override
  public LossAndGradient lossAndGradient(INDArray params, INDArray features, INDArray targets) {
    float[] g = new float[numParams];
    double loss = lossAndGradient(params.dup('c').data().asFloat(),
        features.dup('c').data().asFloat(), targets.dup('c').data().asFloat(),
        (int) features.rows(), g);
    return new LossAndGradient(loss, Nd4j.create(g, new long[] {1, numParams}, DataType.FLOAT));
  }

  @Override
  public Evaluation evaluate(INDArray params, INDArray features, INDArray targets) {
    return evaluate(params.dup('c').data().asFloat(), features.dup('c').data().asFloat(),
        targets.dup('c').data().asFloat(), (int) features.rows());
  }
}
