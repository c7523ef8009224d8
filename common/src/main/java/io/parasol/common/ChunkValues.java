package io.parasol.common;

import com.google.protobuf.ByteString;
import io.parasol.proto.v1.ValueEncoding;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * The value bytes of one chunk, as a sequence of buffers: the slices of the transport's receive
 * buffers a received chunk arrived in (see {@link ReceivedPush}, {@link ReceivedPull}), or the
 * pieces of a {@link ByteString}. Decoding reads each piece in place, straight into the
 * destination, and (on request) checks each decoded piece for NaN and infinities while it is
 * still in cache. A value split across two pieces is put together on the way.
 *
 * <p>Valid only as long as the buffers behind it: a received chunk's until it is released.
 */
public final class ChunkValues {
  private final ByteBuffer[] pieces;
  /** The values start in {@code pieces[from]} at absolute index {@code start}. */
  private final int from;
  private final int start;
  private final int size;

  ChunkValues(ByteBuffer[] pieces, int from, int start, int size) {
    this.pieces = pieces;
    this.from = from;
    this.start = start;
    this.size = size;
  }

  /** The values of a {@code bytes} field. */
  public static ChunkValues of(ByteString bytes) {
    List<ByteBuffer> list = bytes.asReadOnlyByteBufferList();
    ByteBuffer[] p = list.toArray(new ByteBuffer[0]);
    return new ChunkValues(p, 0, p.length > 0 ? p[0].position() : 0, bytes.size());
  }

  /** Number of bytes. */
  public int size() {
    return size;
  }

  /** A copy of the bytes (tests, re-encoding). */
  public ByteString toByteString() {
    ByteString out = ByteString.EMPTY;
    for (ByteBuffer p : views()) {
      out = out.concat(ByteString.copyFrom(p));
    }
    return out;
  }

  /** Views of the value bytes, one per piece they span, little-endian. */
  private ByteBuffer[] views() {
    int n = 0;
    int left = size;
    for (int i = from; i < pieces.length && left > 0; i++) {
      int s = i == from ? start : pieces[i].position();
      left -= Math.min(left, pieces[i].limit() - s);
      n++;
    }
    ByteBuffer[] out = new ByteBuffer[n];
    left = size;
    for (int i = 0; i < n; i++) {
      ByteBuffer p = pieces[from + i];
      int s = i == 0 ? start : p.position();
      int len = Math.min(left, p.limit() - s);
      out[i] = p.slice(s, len).order(ByteOrder.LITTLE_ENDIAN);
      left -= len;
    }
    return out;
  }

  /**
   * Decodes the values, encoded in {@code e}, into {@code dst} from {@code at}; with
   * {@code checkFinite}, returns false as soon as a decoded value is NaN or infinite (the
   * destination then holds some of the values). The size must be a whole number of values
   * (see {@link FloatCodec#valueCount}).
   */
  public boolean decodeTo(ValueEncoding e, float[] dst, int at, boolean checkFinite) {
    int w = FloatCodec.bytesPerValue(e);
    int n = FloatCodec.valueCount(size, e);
    if (at < 0 || at > dst.length - n) {
      throw new IndexOutOfBoundsException("decoding " + n + " values at " + at + " into "
          + dst.length);
    }
    byte[] carry = null;
    int carried = 0;
    for (ByteBuffer in : views()) {
      if (carried > 0) {
        while (carried < w && in.hasRemaining()) {
          carry[carried++] = in.get();
        }
        if (carried < w) {
          continue;
        }
        FloatCodec.decodeSlice(ByteBuffer.wrap(carry, 0, w).order(ByteOrder.LITTLE_ENDIAN), e,
            dst, at, 1);
        if (checkFinite && !FloatCodec.allFinite(dst, at, 1)) {
          return false;
        }
        at++;
        carried = 0;
      }
      int k = in.remaining() / w;
      if (k > 0) {
        FloatCodec.decodeSlice(in, e, dst, at, k);
        if (checkFinite && !FloatCodec.allFinite(dst, at, k)) {
          return false;
        }
        at += k;
        in.position(in.position() + k * w);
      }
      if (in.hasRemaining()) {
        if (carry == null) {
          carry = new byte[4];
        }
        while (in.hasRemaining()) {
          carry[carried++] = in.get();
        }
      }
    }
    return true;
  }

  /**
   * Decodes the values, encoded in {@code e}, into the float vector {@code dst} (off-heap
   * memory, say) from absolute index {@code at}.
   */
  public void decodeTo(ValueEncoding e, FloatBuffer dst, int at) {
    int w = FloatCodec.bytesPerValue(e);
    int n = FloatCodec.valueCount(size, e);
    FloatBuffer out = dst.duplicate();
    out.position(at).limit(at + n);
    float[] one = null;
    byte[] carry = null;
    int carried = 0;
    for (ByteBuffer in : views()) {
      if (carried > 0) {
        while (carried < w && in.hasRemaining()) {
          carry[carried++] = in.get();
        }
        if (carried < w) {
          continue;
        }
        if (one == null) {
          one = new float[1];
        }
        FloatCodec.decodeSlice(ByteBuffer.wrap(carry, 0, w).order(ByteOrder.LITTLE_ENDIAN), e,
            one, 0, 1);
        out.put(one[0]);
        carried = 0;
      }
      int k = in.remaining() / w;
      if (k > 0) {
        ByteBuffer whole = in.slice().order(ByteOrder.LITTLE_ENDIAN);
        whole.limit(k * w);
        FloatCodec.decodeSlice(whole, e, out);
        in.position(in.position() + k * w);
      }
      if (in.hasRemaining()) {
        if (carry == null) {
          carry = new byte[4];
        }
        while (in.hasRemaining()) {
          carry[carried++] = in.get();
        }
      }
    }
  }
}
