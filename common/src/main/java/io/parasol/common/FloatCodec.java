package io.parasol.common;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * Block values on the wire: little-endian float32 bytes in a {@code bytes} field.
 *
 * <p>Encoding writes straight into a fresh heap buffer that the returned {@link ByteString}
 * wraps without copying it again; decoding reads through a little-endian view of the
 * ByteString's own bytes into the destination array.
 */
public final class FloatCodec {
  /** Default chunk size in floats: 256 Ki floats = 1 MiB of payload per message. */
  public static final int DEFAULT_CHUNK_FLOATS = 256 * 1024;

  private FloatCodec() {}

  /** Encodes {@code src[offset, offset + length)}. */
  public static ByteString encode(float[] src, int offset, int length) {
    ByteBuffer buf = ByteBuffer.allocate(length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    buf.asFloatBuffer().put(src, offset, length);
    return UnsafeByteOperations.unsafeWrap(buf.array());
  }

  /** Encodes all of {@code src}. */
  public static ByteString encode(float[] src) {
    return encode(src, 0, src.length);
  }

  /** Number of floats in an encoded value; throws if its size is not a multiple of 4. */
  public static int floatCount(ByteString bytes) {
    if (bytes.size() % Float.BYTES != 0) {
      throw new IllegalArgumentException(
          "value of " + bytes.size() + " bytes is not a whole number of float32 values");
    }
    return bytes.size() / Float.BYTES;
  }

  /** Decodes {@code bytes} into {@code dst} starting at {@code dstOffset}. */
  public static void decode(ByteString bytes, float[] dst, int dstOffset) {
    int n = floatCount(bytes);
    FloatBuffer fb = bytes.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    fb.get(dst, dstOffset, n);
  }

  /** Decodes {@code bytes} into a new array. */
  public static float[] decode(ByteString bytes) {
    float[] out = new float[floatCount(bytes)];
    decode(bytes, out, 0);
    return out;
  }

  /** True when every value in {@code v[offset, offset+length)} is finite. */
  public static boolean allFinite(float[] v, int offset, int length) {
    for (int i = offset, end = offset + length; i < end; i++) {
      if (!Float.isFinite(v[i])) {
        return false;
      }
    }
    return true;
  }
}
