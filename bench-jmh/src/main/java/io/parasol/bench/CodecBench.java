package io.parasol.bench;

import com.google.protobuf.ByteString;
import io.parasol.common.FloatCodec;
import io.parasol.proto.v1.ValueEncoding;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The wire codec on one chunk: encoding a block's floats into wire bytes, decoding wire bytes
 * into a staging array, and the NaN/infinity check, each against {@code System.arraycopy} of
 * the same floats. Time per chunk; divide the chunk's bytes by it for GB/s.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CodecBench {
  @Param({"fp32", "bf16", "fp16"})
  String wire;

  /** Floats per chunk: 1 Mi is the default chunk (4 MiB of float32). */
  @Param({"1048576"})
  int n;

  float[] values;
  float[] out;
  byte[] bytes;
  ByteString encoded;
  ValueEncoding encoding;

  @Setup
  public void setUp() {
    encoding = FloatCodec.parseEncoding(wire);
    SplittableRandom rng = new SplittableRandom(1);
    values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] = (float) rng.nextGaussian();
    }
    out = new float[n];
    bytes = new byte[n * FloatCodec.bytesPerValue(encoding)];
    encoded = FloatCodec.encode(values, 0, n, encoding);
  }

  @Benchmark
  public byte[] encode() {
    FloatCodec.encodeInto(values, 0, n, encoding, bytes, 0);
    return bytes;
  }

  @Benchmark
  public float[] decode() {
    FloatCodec.decode(encoded, encoding, out, 0);
    return out;
  }

  @Benchmark
  public boolean allFinite() {
    return FloatCodec.allFinite(values, 0, n);
  }

  @Benchmark
  public float[] arraycopy() {
    System.arraycopy(values, 0, out, 0, n);
    return out;
  }
}
