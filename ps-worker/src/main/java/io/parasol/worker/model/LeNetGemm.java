package io.parasol.worker.model;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * {@link LeNetKernel}'s network with its products through OpenBLAS's sgemm ({@link Blas}):
 * each convolution is unfolded (im2col) into a matrix whose rows are the kernel's taps and whose
 * columns are every output position of the batch, so that the forward pass and both parts of the
 * backward pass are a single product each, run at native SIMD speed under either JIT. The input
 * gradient of the second convolution is folded back (col2im) in Java.
 *
 * <p>Activations are kept channel-major over the whole batch (channel, image, row, column): a
 * product's output rows are channels, and the unfolding copies whole rows of an image. The same
 * parameters, layout, loss and gradient as {@link LeNetKernel}'s Java loops, to float rounding
 * (another summation order). Thread-safe: buffers are per thread and reused across steps.
 */
final class LeNetGemm {
  private static final int K = 5;

  private final int c1;
  private final int c2;
  private final int hid; // hidden units, 0: none
  private final int d1; // the dense layer's width: hid, or classes
  private final int c;
  private final int h;
  private final int w;
  private final int classes;
  private final int h1;
  private final int w1;
  private final int hp1;
  private final int wp1;
  private final int h2;
  private final int w2;
  private final int hp2;
  private final int wp2;
  private final int flat;
  private final int r1; // taps of conv1: K x K x c
  private final int r2; // taps of conv2: K x K x c1
  private final int oW1;
  private final int oB1;
  private final int oW2;
  private final int oB2;
  private final int oWd;
  private final int oBd;
  private final int oWo;
  private final int oBo;
  private final ThreadLocal<Scratch> scratch;

  /** Shapes as {@link LeNetKernel} has validated them. */
  LeNetGemm(LeNet.Shape shape, LeNet.Arch arch, int classes) {
    c1 = arch.c1();
    c2 = arch.c2();
    hid = arch.hidden();
    d1 = hid > 0 ? hid : classes;
    this.c = shape.channels();
    this.h = shape.height();
    this.w = shape.width();
    this.classes = classes;
    h1 = h - K + 1;
    w1 = w - K + 1;
    hp1 = h1 / 2;
    wp1 = w1 / 2;
    h2 = hp1 - K + 1;
    w2 = wp1 - K + 1;
    hp2 = h2 / 2;
    wp2 = w2 / 2;
    flat = c2 * hp2 * wp2;
    r1 = K * K * c;
    r2 = K * K * c1;
    oW1 = 0;
    oB1 = oW1 + r1 * c1;
    oW2 = oB1 + c1;
    oB2 = oW2 + r2 * c2;
    oWd = oB2 + c2;
    oBd = oWd + flat * d1;
    oWo = oBd + d1;
    oBo = oWo + hid * classes;
    scratch = ThreadLocal.withInitial(Scratch::new);
  }

  /** Per-thread buffers for a batch of up to {@code rows} images. */
  private final class Scratch {
    int rows;
    // Heap arrays: the Java passes.
    float[] col; // conv1's unfolded input (r1 x P1), later conv2's (r2 x P2) and its gradient
    float[] a1; // relu(conv1), c1 x P1; then d loss / d conv1
    float[] p1; // pool1, c1 x n x hp1 x wp1
    int[] i1; // argmax of pool1, index into a1
    float[] a2; // relu(conv2), c2 x P2; then d loss / d conv2
    float[] p2; // pool2, n x flat (the dense layer's input)
    int[] i2; // argmax of pool2, index into a2
    float[] u; // relu(dense), n x hid (a hidden layer only)
    float[] du; // d loss / d dense, n x hid
    float[] z; // logits, then d loss / d logits
    float[] d2; // d loss / d pool2, n x flat
    float[] dp1; // d loss / d pool1, like p1
    // Direct buffers: sgemm's operands.
    FloatBuffer col1b; // r1 x P1
    FloatBuffer col2b; // r2 x P2, then d loss / d unfolded pool1
    FloatBuffer a1b; // c1 x P1
    FloatBuffer a2b; // c2 x P2
    FloatBuffer p2b; // n x flat
    FloatBuffer ub; // n x hid (a hidden layer only)
    FloatBuffer zb; // n x classes
    final FloatBuffer w1b = Blas.buffer(r1 * c1);
    final FloatBuffer w2b = Blas.buffer(r2 * c2);
    final FloatBuffer wdb = Blas.buffer(flat * d1);
    final FloatBuffer wob = Blas.buffer(Math.max(1, hid * classes));
    final FloatBuffer gb = Blas.buffer(Math.max(Math.max(r1 * c1, r2 * c2),
        Math.max(flat * d1, hid * classes)));

    Scratch fit(int n) {
      if (n > rows) {
        rows = n;
        int pp1 = n * h1 * w1;
        int pp2 = n * h2 * w2;
        col = new float[Math.max(r1 * pp1, r2 * pp2)];
        a1 = new float[c1 * pp1];
        p1 = new float[c1 * n * hp1 * wp1];
        i1 = new int[p1.length];
        a2 = new float[c2 * pp2];
        u = new float[n * hid];
        du = new float[n * hid];
        p2 = new float[n * flat];
        i2 = new int[p2.length];
        z = new float[n * classes];
        d2 = new float[n * flat];
        dp1 = new float[p1.length];
        col1b = Blas.buffer(r1 * pp1);
        col2b = Blas.buffer(r2 * pp2);
        a1b = Blas.buffer(c1 * pp1);
        a2b = Blas.buffer(c2 * pp2);
        p2b = Blas.buffer(n * flat);
        ub = Blas.buffer(Math.max(1, n * hid));
        zb = Blas.buffer(n * classes);
      }
      return this;
    }
  }

  /** The logits of {@code rows} images from features[xAt..], in the returned (scratch) array. */
  float[] logits(float[] p, float[] x, int xAt, int rows) {
    Scratch s = scratch.get().fit(rows);
    forward(p, x, xAt, rows, s);
    return s.z;
  }

  /** Mean loss over the batch; the gradient written (not added) into grad[0..numParams). */
  double lossAndGradient(float[] p, float[] x, float[] y, int rows, float[] grad) {
    Scratch s = scratch.get().fit(rows);
    forward(p, x, 0, rows, s);
    double loss = DenseNet.softmaxCrossEntropy(s.z, y, rows, classes, true);
    backward(p, rows, s, grad);
    return loss;
  }

  // ---------------------------------------------------------------------------------------

  private void forward(float[] p, float[] x, int xAt, int n, Scratch s) {
    int pp1 = n * h1 * w1;
    int pp2 = n * h2 * w2;
    // conv1: unfold the images, a1 [c1 x P1] = W1^T [c1 x r1] . col1 [r1 x P1]
    float[] col = s.col;
    for (int ci = 0; ci < c; ci++) {
      for (int dy = 0; dy < K; dy++) {
        for (int dx = 0; dx < K; dx++) {
          int row = ((dy * K + dx) * c + ci) * pp1;
          for (int i = 0; i < n; i++) {
            int src = xAt + (i * c + ci) * h * w + dy * w + dx;
            int dst = row + i * h1 * w1;
            for (int yy = 0; yy < h1; yy++) {
              System.arraycopy(x, src + yy * w, col, dst + yy * w1, w1);
            }
          }
        }
      }
    }
    s.col1b.put(0, col, 0, r1 * pp1);
    s.w1b.put(0, p, oW1, r1 * c1);
    Blas.gemm(true, false, c1, pp1, r1, s.w1b, s.col1b, s.a1b);
    s.a1b.get(0, s.a1, 0, c1 * pp1);
    pool(s.a1, c1, n, h1, w1, p, oB1, s.p1, n * hp1 * wp1, hp1 * wp1, s.i1);
    // conv2: unfold pool1, a2 [c2 x P2] = W2^T [c2 x r2] . col2 [r2 x P2]
    int plane1 = hp1 * wp1;
    for (int ci = 0; ci < c1; ci++) {
      for (int dy = 0; dy < K; dy++) {
        for (int dx = 0; dx < K; dx++) {
          int row = ((dy * K + dx) * c1 + ci) * pp2;
          for (int i = 0; i < n; i++) {
            int src = (ci * n + i) * plane1 + dy * wp1 + dx;
            int dst = row + i * h2 * w2;
            for (int yy = 0; yy < h2; yy++) {
              System.arraycopy(s.p1, src + yy * wp1, col, dst + yy * w2, w2);
            }
          }
        }
      }
    }
    s.col2b.put(0, col, 0, r2 * pp2);
    s.w2b.put(0, p, oW2, r2 * c2);
    Blas.gemm(true, false, c2, pp2, r2, s.w2b, s.col2b, s.a2b);
    s.a2b.get(0, s.a2, 0, c2 * pp2);
    // pool2 straight into the dense layer's input order (channel, row, column per image)
    pool(s.a2, c2, n, h2, w2, p, oB2, s.p2, hp2 * wp2, flat, s.i2);
    s.p2b.put(0, s.p2, 0, n * flat);
    s.wdb.put(0, p, oWd, flat * d1);
    if (hid == 0) {
      // dense: z [n x classes] = p2 [n x flat] . Wd [flat x classes] + b
      Blas.gemm(false, false, n, classes, flat, s.p2b, s.wdb, s.zb);
      s.zb.get(0, s.z, 0, n * classes);
      addBias(s.z, n, classes, p, oBd);
      return;
    }
    // dense: u [n x hid] = relu(p2 [n x flat] . Wd [flat x hid] + b)
    Blas.gemm(false, false, n, hid, flat, s.p2b, s.wdb, s.ub);
    s.ub.get(0, s.u, 0, n * hid);
    addBias(s.u, n, hid, p, oBd);
    for (int i = 0; i < n * hid; i++) {
      s.u[i] = Math.max(s.u[i], 0f);
    }
    // out: z [n x classes] = u [n x hid] . Wo [hid x classes] + b
    s.ub.put(0, s.u, 0, n * hid);
    s.wob.put(0, p, oWo, hid * classes);
    Blas.gemm(false, false, n, classes, hid, s.ub, s.wob, s.zb);
    s.zb.get(0, s.z, 0, n * classes);
    addBias(s.z, n, classes, p, oBo);
  }

  private static void addBias(float[] z, int n, int width, float[] p, int at) {
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < width; j++) {
        z[i * width + j] += p[at + j];
      }
    }
  }

  /** grad[at + j] = the sum of column j of d (n rows of width). */
  private static void colSums(float[] d, int n, int width, float[] grad, int at) {
    java.util.Arrays.fill(grad, at, at + width, 0f);
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < width; j++) {
        grad[at + j] += d[i * width + j];
      }
    }
  }

  private void backward(float[] p, int n, Scratch s, float[] grad) {
    int pp1 = n * h1 * w1;
    int pp2 = n * h2 * w2;
    s.zb.put(0, s.z, 0, n * classes);
    FloatBuffer db = s.zb; // d loss / d dense output [n x d1]
    if (hid > 0) {
      // out: d bias = column sums of dz; dWo = u^T . dz; du = dz . Wo^T, masked by the ReLU
      colSums(s.z, n, classes, grad, oBo);
      Blas.gemm(true, false, hid, classes, n, s.ub, s.zb, s.gb);
      s.gb.get(0, grad, oWo, hid * classes);
      Blas.gemm(false, true, n, hid, classes, s.zb, s.wob, s.ub);
      s.ub.get(0, s.du, 0, n * hid);
      for (int i = 0; i < n * hid; i++) {
        if (s.u[i] <= 0f) {
          s.du[i] = 0f;
        }
      }
      s.ub.put(0, s.du, 0, n * hid);
      db = s.ub;
      colSums(s.du, n, hid, grad, oBd);
    } else {
      colSums(s.z, n, classes, grad, oBd);
    }
    // dense: d bias (above); dWd = p2^T . du; d pool2 = du . Wd^T
    Blas.gemm(true, false, flat, d1, n, s.p2b, db, s.gb);
    s.gb.get(0, grad, oWd, flat * d1);
    Blas.gemm(false, true, n, flat, d1, db, s.wdb, s.p2b);
    s.p2b.get(0, s.d2, 0, n * flat);
    // pool2 and ReLU back (pool windows do not overlap): a2 becomes d loss / d conv2
    unpool(s.a2, c2 * pp2, s.i2, s.p2, s.d2, n * flat);
    rowSums(s.a2, c2, pp2, grad, oB2);
    s.a2b.put(0, s.a2, 0, c2 * pp2);
    // conv2: dW2 [r2 x c2] = col2 . da2^T; d col2 [r2 x P2] = W2 . da2, folded back into dp1
    Blas.gemm(false, true, r2, c2, pp2, s.col2b, s.a2b, s.gb);
    s.gb.get(0, grad, oW2, r2 * c2);
    Blas.gemm(false, false, r2, pp2, c2, s.w2b, s.a2b, s.col2b);
    float[] col = s.col;
    s.col2b.get(0, col, 0, r2 * pp2);
    float[] dp1 = s.dp1;
    Arrays.fill(dp1, 0, c1 * n * hp1 * wp1, 0f);
    int plane1 = hp1 * wp1;
    for (int ci = 0; ci < c1; ci++) {
      for (int dy = 0; dy < K; dy++) {
        for (int dx = 0; dx < K; dx++) {
          int row = ((dy * K + dx) * c1 + ci) * pp2;
          for (int i = 0; i < n; i++) {
            int dst = (ci * n + i) * plane1 + dy * wp1 + dx;
            int src = row + i * h2 * w2;
            for (int yy = 0; yy < h2; yy++) {
              int d = dst + yy * wp1;
              int q = src + yy * w2;
              for (int xx = 0; xx < w2; xx++) {
                dp1[d + xx] += col[q + xx];
              }
            }
          }
        }
      }
    }
    // pool1 and ReLU back: a1 becomes d loss / d conv1
    unpool(s.a1, c1 * pp1, s.i1, s.p1, dp1, c1 * n * hp1 * wp1);
    rowSums(s.a1, c1, pp1, grad, oB1);
    s.a1b.put(0, s.a1, 0, c1 * pp1);
    // conv1: dW1 [r1 x c1] = col1 . da1^T
    Blas.gemm(false, true, r1, c1, pp1, s.col1b, s.a1b, s.gb);
    s.gb.get(0, grad, oW1, r1 * c1);
  }

  /** grad[at + k] = the sum of row k of d (ch rows of len). */
  private static void rowSums(float[] d, int ch, int len, float[] grad, int at) {
    for (int k = 0; k < ch; k++) {
      float s0 = 0f;
      float s1 = 0f;
      int i = k * len;
      int e = i + len;
      for (; i + 1 < e; i += 2) {
        s0 += d[i];
        s1 += d[i + 1];
      }
      if (i < e) {
        s0 += d[i];
      }
      grad[at + k] = s0 + s1;
    }
  }

  /**
   * Bias, ReLU and 2x2 max pooling with stride 2 of ch x n planes of hh x ww convolution sums
   * (channel-major): out = relu(max of the window + bias), which is the max of the window's
   * relu(sum + bias) (ReLU and the bias preserve order). The output of plane (k, i) starts at
   * k * outK + i * outI; idx gets each maximum's index within {@code in}, ties going to the
   * first of top-left, top-right, bottom-left, bottom-right, as in the Java loops (where ReLU
   * makes several zero, the gradient is zero anyway). Branch-free: the comparisons of random
   * activations would mispredict half the time.
   */
  private static void pool(float[] in, int ch, int n, int hh, int ww, float[] p, int bAt,
      float[] out, int outK, int outI, int[] idx) {
    int ho = hh / 2;
    int wo = ww / 2;
    for (int k = 0; k < ch; k++) {
      float b = p[bAt + k];
      for (int i = 0; i < n; i++) {
        int plane = (k * n + i) * hh * ww;
        int o = k * outK + i * outI;
        for (int y = 0; y < ho; y++) {
          int top = plane + 2 * y * ww;
          for (int x = 0; x < wo; x++) {
            int q = top + 2 * x;
            long m = max(max(key(in[q], 3), key(in[q + 1], 2)),
                max(key(in[q + ww], 1), key(in[q + ww + 1], 0)));
            int j = 3 - (int) (m & 3);
            int ord = (int) (m >> 2);
            float v = Float.intBitsToFloat(ord ^ ((ord >> 31) & 0x7FFFFFFF)) + b;
            int bits = Float.floatToRawIntBits(v);
            out[o + y * wo + x] = Float.intBitsToFloat(bits & ~(bits >> 31));
            idx[o + y * wo + x] = q + (j >> 1) * ww + (j & 1);
          }
        }
      }
    }
  }

  /**
   * A float's order as a long, with a 2-bit tag that breaks ties (the larger tag wins): the
   * raw bits of a float, made two's-complement ordered (-0 counted as +0).
   */
  private static long key(float f, int tag) {
    int bits = Float.floatToRawIntBits(f + 0f);
    return ((long) (bits ^ ((bits >> 31) & 0x7FFFFFFF)) << 2) | tag;
  }

  /** max(a, b) without a branch (the difference of two keys cannot overflow). */
  private static long max(long a, long b) {
    long d = a - b;
    return a - (d & (d >> 63));
  }

  /**
   * Pooling and ReLU backward: a (len activations, no longer needed) becomes d loss / d a,
   * d[q] going to the input idx[q] whose maximum pooled[q] was positive, zero elsewhere.
   */
  private static void unpool(float[] a, int len, int[] idx, float[] pooled, float[] d,
      int outLen) {
    Arrays.fill(a, 0, len, 0f);
    for (int q = 0; q < outLen; q++) {
      if (pooled[q] > 0f) {
        a[idx[q]] = d[q];
      }
    }
  }
}
