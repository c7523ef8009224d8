package io.parasol.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;

@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class FiniteVariants {
  int n = 1 << 20;
  float[] v;
  float[] w;
  byte[] b;

  @Setup
  public void setUp() {
    v = new float[n];
    w = new float[n];
    b = new byte[4 * n];
    SplittableRandom r = new SplittableRandom(1);
    for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
  }

  @Benchmark
  public boolean intOr() {
    int acc = 0;
    for (int i = 0; i < n; i++) acc |= (Float.floatToRawIntBits(v[i]) & 0x7f800000) + 0x00800000;
    return acc >= 0;
  }

  @Benchmark
  public boolean mulZeroSum() {
    float acc = 0;
    for (int i = 0; i < n; i++) acc += v[i] * 0f;
    return acc == 0;
  }

  @Benchmark
  public boolean mulZeroLanes() {
    float a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
      a0 += v[i] * 0f; a1 += v[i + 1] * 0f; a2 += v[i + 2] * 0f; a3 += v[i + 3] * 0f;
      a4 += v[i + 4] * 0f; a5 += v[i + 5] * 0f; a6 += v[i + 6] * 0f; a7 += v[i + 7] * 0f;
    }
    return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 == 0;
  }

  @Benchmark
  public boolean absCompare() {
    boolean ok = true;
    for (int i = 0; i < n; i++) ok &= Math.abs(v[i]) <= Float.MAX_VALUE;
    return ok;
  }

  @Benchmark
  public float copyAndMulZero() {
    // fused: copy into w and accumulate check in lanes
    float acc = 0;
    for (int i = 0; i < n; i++) {
      float x = v[i];
      w[i] = x;
      acc += x * 0f;
    }
    return acc;
  }

  @Benchmark
  public float[] mulZeroArray() {
    // elementwise: w = v*0 (vectorizable), then a cheap check of w in an int reduction
    for (int i = 0; i < n; i++) w[i] = v[i] * 0f;
    return w;
  }

  static final float[] ZEROS = new float[4096];
  final float[] scratch = new float[4096];
  final int[] iscratch = new int[4096];

  @Benchmark
  public boolean mulZeroScratchEquals() {
    for (int s = 0; s < n; s += 4096) {
      for (int i = 0; i < 4096; i++) scratch[i] = v[s + i] * 0f + 0f;
      if (java.util.Arrays.mismatch(scratch, 0, 4096, ZEROS, 0, 4096) >= 0) return false;
    }
    return true;
  }

  @Benchmark
  public boolean intScratchFromBytes() {
    java.nio.IntBuffer ib = java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).asIntBuffer();
    for (int s = 0; s < n; s += 4096) {
      ib.get(iscratch, 0, 4096);
      int acc = 0;
      for (int i = 0; i < 4096; i++) acc |= (iscratch[i] & 0x7f800000) + 0x00800000;
      if (acc < 0) return false;
    }
    return true;
  }

  @Benchmark
  public float[] arraycopy() {
    System.arraycopy(v, 0, w, 0, n);
    return w;
  }

  @Benchmark
  public boolean minmax() {
    float mx = 0, mn = 0;
    for (int i = 0; i < n; i++) { mx = Math.max(mx, v[i]); mn = Math.min(mn, v[i]); }
    return mx <= Float.MAX_VALUE && mn >= -Float.MAX_VALUE;
  }
}
