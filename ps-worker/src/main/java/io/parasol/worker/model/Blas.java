package io.parasol.worker.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Single-precision matrix products through OpenBLAS's {@code cblas_sgemm} (the native library
 * that ND4J's CPU backend already ships), for the hand-written models' large layers.
 *
 * <p>Why: a worker's step is a few products of a 32-row batch with a weight matrix. Java loops
 * run them at the speed of what the JIT makes of them, which under the C1-only JIT the launcher
 * uses for short runs is a third of C2's; sgemm runs at native SIMD speed under either, and a
 * call on direct buffers costs microseconds (no ND4J array, no op dispatch). {@code parasol bench
 * model} times both paths on the same batch.
 *
 * <p>OpenBLAS is set to one thread per call: the workers of a process are the parallelism. The
 * product is deterministic for given shapes on a given CPU; its rounding differs from the Java
 * loops' (another summation order) within float tolerance. Where the native library cannot be
 * loaded, {@link #AVAILABLE} is false and the models keep their Java loops; the system property
 * {@code parasol.blas=false} forces that.
 */
final class Blas {
  private static final Logger log = LoggerFactory.getLogger(Blas.class);

  /** Products below this many multiply-adds stay in Java: the call would cost more. */
  static final long MIN_MACS = 16_384;

  /** Whether sgemm can be called. */
  static final boolean AVAILABLE = load();

  private Blas() {}

  private static boolean load() {
    if (!Boolean.parseBoolean(System.getProperty("parasol.blas", "true"))) {
      return false;
    }
    try {
      Loader.load(openblas.class);
      openblas.blas_set_num_threads(1);
      return true;
    } catch (Throwable e) {
      log.warn("OpenBLAS could not be loaded ({}); the built-in models compute with Java loops",
          e.toString());
      return false;
    }
  }

  /** Whether a product of this size goes to sgemm. */
  static boolean worth(long m, long n, long k) {
    return AVAILABLE && m * n * k >= MIN_MACS;
  }

  /** A direct, native-order float buffer of {@code n} floats. */
  static FloatBuffer buffer(int n) {
    return ByteBuffer.allocateDirect(Math.max(1, n) * Float.BYTES).order(ByteOrder.nativeOrder())
        .asFloatBuffer();
  }

  /**
   * Row-major C[m x n] = op(A) . op(B) (beta 0), op(A) m x k, op(B) k x n; {@code transA}: A is
   * stored k x m, {@code transB}: B is stored n x k. Buffers must be direct and at position 0.
   */
  static void gemm(boolean transA, boolean transB, int m, int n, int k, FloatBuffer a,
      FloatBuffer b, FloatBuffer c) {
    int lda = transA ? m : k;
    int ldb = transB ? k : n;
    openblas.cblas_sgemm(openblas.CblasRowMajor,
        transA ? openblas.CblasTrans : openblas.CblasNoTrans,
        transB ? openblas.CblasTrans : openblas.CblasNoTrans,
        m, n, k, 1f, a, lda, b, ldb, 0f, c, n);
  }
}
