package io.parasol.common;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.parasol.proto.v1.ValueEncoding;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.Locale;

/**
 * Block values on the wire, in a {@code bytes} field: little-endian float32 (the default), or
 * 16-bit bfloat16 / binary16 values ({@link ValueEncoding}).
 *
 * <p>Bulk paths only: float32 moves through little-endian {@link FloatBuffer} views, which the
 * JDK turns into a memory copy on little-endian machines; 16-bit values are converted in slices
 * of {@value #SLICE} elements through a small per-thread scratch array that stays in the L1
 * cache. Decoders read every piece of a {@link ByteString} in place (an aliased slice of a
 * receive buffer, a wrapped direct buffer) without copying it to a flat array first.
 *
 * <p>Rounding: both 16-bit encodings round to nearest, ties to even. NaN stays NaN and infinities
 * stay infinite (so a shard still refuses them); finite values beyond the format's largest
 * finite value saturate to it instead of becoming infinite.
 */
public final class FloatCodec {
  /**
   * Default chunk size in floats: 1 Mi floats = 4 MiB of float32 payload per message. Measured
   * with {@code parasol bench pushpull} against 256 Ki and 4 Mi floats (see the README's
   * Performance section).
   */
  public static final int DEFAULT_CHUNK_FLOATS = Integer.getInteger("parasol.chunkFloats",
      1024 * 1024);

  /**
   * The ready threshold of a stream of chunks (gRPC's {@code onReadyThreshold}): a sender adds
   * a chunk while fewer bytes than this wait in the transport. Two chunks, so one is on its way
   * while the next is serialised; gRPC's default (32 KiB) would leave the socket idle meanwhile,
   * and no threshold at all would pile a whole push or pull up in the transport's buffers.
   */
  public static int streamReadyBytes(int chunkFloats) {
    return (int) Math.min(64L << 20, Integer.getInteger("parasol.readyChunks", 2) * (long) chunkFloats * Float.BYTES + 64 * 1024);
  }

  /** Elements converted per scratch slice (16-bit encodings). */
  static final int SLICE = 4096;

  private static final ThreadLocal<short[]> SCRATCH = ThreadLocal.withInitial(
      () -> new short[SLICE]);
  private static final ThreadLocal<float[]> FLOAT_SCRATCH = ThreadLocal.withInitial(
      () -> new float[SLICE]);

  /** binary16 bit pattern to float32, for every pattern. */
  private static final float[] HALF_TO_FLOAT = new float[1 << 16];

  static {
    for (int h = 0; h < HALF_TO_FLOAT.length; h++) {
      HALF_TO_FLOAT[h] = halfBitsToFloatExact((short) h);
    }
  }

  private FloatCodec() {}

  // ---------------------------------------------------------------------------------------
  // Encodings

  /** Bytes per value in {@code e}. */
  public static int bytesPerValue(ValueEncoding e) {
    return switch (e) {
      case VALUE_ENCODING_FP32 -> 4;
      case VALUE_ENCODING_BF16, VALUE_ENCODING_FP16 -> 2;
      default -> throw new IllegalArgumentException("unknown value encoding " + e);
    };
  }

  /** Parses a command-line wire precision: fp32, bf16 or fp16. */
  public static ValueEncoding parseEncoding(String s) {
    return switch (s.trim().toLowerCase(Locale.ROOT)) {
      case "fp32", "float32", "f32" -> ValueEncoding.VALUE_ENCODING_FP32;
      case "bf16", "bfloat16" -> ValueEncoding.VALUE_ENCODING_BF16;
      case "fp16", "float16", "half", "f16" -> ValueEncoding.VALUE_ENCODING_FP16;
      default -> throw new IllegalArgumentException(
          "unknown wire precision '" + s + "'; expected fp32, bf16 or fp16");
    };
  }

  /** The command-line name of an encoding: fp32, bf16 or fp16. */
  public static String encodingName(ValueEncoding e) {
    return switch (e) {
      case VALUE_ENCODING_FP32 -> "fp32";
      case VALUE_ENCODING_BF16 -> "bf16";
      case VALUE_ENCODING_FP16 -> "fp16";
      default -> e.name();
    };
  }

  /** Number of floats in an encoded float32 value; throws if its size is not a multiple of 4. */
  public static int floatCount(ByteString bytes) {
    return valueCount(bytes.size(), ValueEncoding.VALUE_ENCODING_FP32);
  }

  /**
   * Number of values in {@code byteSize} bytes of {@code e}; throws IllegalArgumentException if
   * the size is not a whole number of values.
   */
  public static int valueCount(int byteSize, ValueEncoding e) {
    int w = bytesPerValue(e);
    if (byteSize % w != 0) {
      throw new IllegalArgumentException("value of " + byteSize + " bytes is not a whole number of "
          + (w == 4 ? "float32" : encodingName(e)) + " values");
    }
    return byteSize / w;
  }

  // ---------------------------------------------------------------------------------------
  // Encode

  /** Encodes {@code src[offset, offset + length)} as float32 into a fresh buffer. */
  public static ByteString encode(float[] src, int offset, int length) {
    return encode(src, offset, length, ValueEncoding.VALUE_ENCODING_FP32);
  }

  /** Encodes all of {@code src} as float32. */
  public static ByteString encode(float[] src) {
    return encode(src, 0, src.length);
  }

  /** Encodes {@code src[offset, offset + length)} in {@code e} into a fresh buffer. */
  public static ByteString encode(float[] src, int offset, int length, ValueEncoding e) {
    byte[] out = new byte[length * bytesPerValue(e)];
    encodeInto(src, offset, length, e, out, 0);
    return UnsafeByteOperations.unsafeWrap(out);
  }

  /**
   * Encodes {@code src[offset, offset + length)} in {@code e} into {@code dst} from
   * {@code dstOffset}; returns the number of bytes written.
   */
  public static int encodeInto(float[] src, int offset, int length, ValueEncoding e, byte[] dst,
      int dstOffset) {
    int n = length * bytesPerValue(e);
    ByteBuffer out = ByteBuffer.wrap(dst, dstOffset, n).order(ByteOrder.LITTLE_ENDIAN);
    if (e == ValueEncoding.VALUE_ENCODING_FP32) {
      out.asFloatBuffer().put(src, offset, length);
      return n;
    }
    ShortBuffer sb = out.asShortBuffer();
    short[] s = SCRATCH.get();
    boolean bf = e == ValueEncoding.VALUE_ENCODING_BF16;
    for (int done = 0; done < length; ) {
      int k = Math.min(SLICE, length - done);
      if (bf) {
        toBf16(src, offset + done, s, k);
      } else {
        toHalf(src, offset + done, s, k);
      }
      sb.put(s, 0, k);
      done += k;
    }
    return n;
  }

  /**
   * Encodes {@code length} floats of {@code src} from absolute index {@code srcIndex} (an
   * off-heap vector, say) in {@code e} into {@code dst} from {@code dstOffset}; returns the
   * number of bytes written.
   */
  public static int encodeInto(FloatBuffer src, int srcIndex, int length, ValueEncoding e,
      byte[] dst, int dstOffset) {
    int n = length * bytesPerValue(e);
    ByteBuffer out = ByteBuffer.wrap(dst, dstOffset, n).order(ByteOrder.LITTLE_ENDIAN);
    FloatBuffer in = src.duplicate();
    in.position(srcIndex).limit(srcIndex + length);
    if (e == ValueEncoding.VALUE_ENCODING_FP32) {
      out.asFloatBuffer().put(in);
      return n;
    }
    ShortBuffer sb = out.asShortBuffer();
    short[] s = SCRATCH.get();
    float[] f = FLOAT_SCRATCH.get();
    boolean bf = e == ValueEncoding.VALUE_ENCODING_BF16;
    for (int done = 0; done < length; ) {
      int k = Math.min(SLICE, length - done);
      in.get(f, 0, k);
      if (bf) {
        toBf16(f, 0, s, k);
      } else {
        toHalf(f, 0, s, k);
      }
      sb.put(s, 0, k);
      done += k;
    }
    return n;
  }

  // ---------------------------------------------------------------------------------------
  // Decode

  /** Decodes float32 {@code bytes} into {@code dst} starting at {@code dstOffset}. */
  public static void decode(ByteString bytes, float[] dst, int dstOffset) {
    decode(bytes, ValueEncoding.VALUE_ENCODING_FP32, dst, dstOffset);
  }

  /** Decodes float32 {@code bytes} into a new array. */
  public static float[] decode(ByteString bytes) {
    float[] out = new float[floatCount(bytes)];
    decode(bytes, out, 0);
    return out;
  }

  /** Decodes {@code bytes} of encoding {@code e} into {@code dst} from {@code dstOffset}. */
  public static void decode(ByteString bytes, ValueEncoding e, float[] dst, int dstOffset) {
    ChunkValues.of(bytes).decodeTo(e, dst, dstOffset, false);
  }

  /**
   * Decodes {@code bytes} of encoding {@code e} into {@code dst} (a float vector, e.g. a view of
   * off-heap memory) from absolute index {@code dstIndex}.
   */
  public static void decode(ByteString bytes, ValueEncoding e, FloatBuffer dst, int dstIndex) {
    ChunkValues.of(bytes).decodeTo(e, dst, dstIndex);
  }

  /**
   * Decodes {@code k} values in {@code e} from {@code in} (little-endian, from its position;
   * the position does not move) into {@code dst[at, at+k)}.
   */
  static void decodeSlice(ByteBuffer in, ValueEncoding e, float[] dst, int at, int k) {
    if (e == ValueEncoding.VALUE_ENCODING_FP32) {
      in.asFloatBuffer().get(dst, at, k);
    } else {
      decode16(in.asShortBuffer(), e, dst, at, k);
    }
  }

  /** Decodes all of {@code in} (little-endian, whole values in {@code e}) into {@code out}. */
  static void decodeSlice(ByteBuffer in, ValueEncoding e, FloatBuffer out) {
    if (e == ValueEncoding.VALUE_ENCODING_FP32) {
      out.put(in.asFloatBuffer());
      return;
    }
    float[] f = FLOAT_SCRATCH.get();
    ShortBuffer sb = in.asShortBuffer();
    while (sb.hasRemaining()) {
      int m = Math.min(SLICE, sb.remaining());
      decode16(sb, e, f, 0, m);
      out.put(f, 0, m);
    }
  }

  /**
   * Decodes {@code k} 16-bit values from {@code in} (advancing it) into {@code dst[at, at+k)}.
   */
  private static void decode16(ShortBuffer in, ValueEncoding e, float[] dst, int at, int k) {
    short[] s = SCRATCH.get();
    boolean bf = e == ValueEncoding.VALUE_ENCODING_BF16;
    for (int done = 0; done < k; ) {
      int m = Math.min(SLICE, k - done);
      in.get(s, 0, m);
      if (bf) {
        fromBf16(s, dst, at + done, m);
      } else {
        fromHalf(s, dst, at + done, m);
      }
      done += m;
    }
  }

  /** True when every value in {@code v[offset, offset+length)} is finite. */
  public static boolean allFinite(float[] v, int offset, int length) {
    // A value is NaN or infinite iff its exponent bits are all ones, and then (and only then)
    // exponent + 2^23 carries into the sign bit. Branch-free within a slice, so the JIT can
    // vectorise it; one test per slice.
    int end = offset + length;
    for (int i = offset; i < end; ) {
      int stop = Math.min(end, i + SLICE);
      int acc = 0;
      for (; i < stop; i++) {
        acc |= (Float.floatToRawIntBits(v[i]) & 0x7f800000) + 0x00800000;
      }
      if (acc < 0) {
        return false;
      }
    }
    return true;
  }

  // ---------------------------------------------------------------------------------------
  // 16-bit conversions

  /** float32 to bfloat16 bits, rounded to nearest even; NaN stays NaN; finite values saturate. */
  public static short floatToBf16(float f) {
    int bits = Float.floatToRawIntBits(f);
    int abs = bits & 0x7fffffff;
    if (abs > 0x7f800000) {
      return (short) ((bits >>> 16) | 0x0040); // quiet NaN, sign kept
    }
    if (abs == 0x7f800000) {
      return (short) (bits >>> 16);
    }
    int r = (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16;
    if ((r & 0x7f80) == 0x7f80) {
      r = (bits >>> 16 & 0x8000) | 0x7f7f; // rounded past the largest finite value
    }
    return (short) r;
  }

  /** bfloat16 bits to float32 (exact). */
  public static float bf16ToFloat(short h) {
    return Float.intBitsToFloat(h << 16);
  }

  /**
   * float32 to IEEE binary16 bits, rounded to nearest even (subnormals included); NaN stays
   * NaN, infinities stay infinite, finite values beyond ±65504 saturate to ±65504.
   */
  public static short floatToHalf(float f) {
    int bits = Float.floatToRawIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int abs = bits & 0x7fffffff;
    int h;
    if (abs >= 0x47800000) { // |f| >= 65536, infinity or NaN
      if (abs > 0x7f800000) {
        h = 0x7e00 | ((abs >>> 13) & 0x3ff);
      } else if (abs == 0x7f800000) {
        h = 0x7c00;
      } else {
        h = 0x7bff;
      }
    } else if (abs < 0x38800000) { // below 2^-14: binary16 subnormal or zero
      // Adding 0.5 aligns the 10 subnormal mantissa bits at the bottom of the float; float
      // addition rounds to nearest even, which is the rounding wanted.
      float a = Float.intBitsToFloat(abs) + 0.5f;
      h = Float.floatToRawIntBits(a) - 0x3f000000;
    } else {
      int mantOdd = (abs >>> 13) & 1;
      h = (abs + 0xc8000fff + mantOdd) >>> 13; // rebias exponent (-112 << 23) and round
      if (h >= 0x7c00) {
        h = 0x7bff; // rounded past 65504
      }
    }
    return (short) (sign | h);
  }

  /** IEEE binary16 bits to float32 (exact). */
  public static float halfToFloat(short h) {
    return HALF_TO_FLOAT[h & 0xffff];
  }

  private static float halfBitsToFloatExact(short h) {
    int bits = h & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1f;
    int mant = bits & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      float v = mant * 0x1p-24f; // exact: mant < 2^10
      return sign != 0 ? -v : v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  static void toBf16(float[] src, int offset, short[] dst, int k) {
    for (int i = 0; i < k; i++) {
      dst[i] = floatToBf16(src[offset + i]);
    }
  }

  static void toHalf(float[] src, int offset, short[] dst, int k) {
    for (int i = 0; i < k; i++) {
      dst[i] = floatToHalf(src[offset + i]);
    }
  }

  static void fromBf16(short[] src, float[] dst, int offset, int k) {
    for (int i = 0; i < k; i++) {
      dst[offset + i] = Float.intBitsToFloat(src[i] << 16);
    }
  }

  static void fromHalf(short[] src, float[] dst, int offset, int k) {
    float[] t = HALF_TO_FLOAT;
    for (int i = 0; i < k; i++) {
      dst[offset + i] = t[src[i] & 0xffff];
    }
  }
}
