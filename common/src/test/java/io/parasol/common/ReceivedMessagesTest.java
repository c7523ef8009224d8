package io.parasol.common;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnknownFieldSet;
import io.grpc.Detachable;
import io.grpc.HasByteBuffer;
import io.parasol.proto.v1.BlockChunk;
import io.parasol.proto.v1.BlockRead;
import io.parasol.proto.v1.PullChunk;
import io.parasol.proto.v1.PushHeader;
import io.parasol.proto.v1.PushMessage;
import io.parasol.proto.v1.ValueEncoding;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The in-place parsers of pushed and pulled chunks ({@link ReceivedPush}, {@link ReceivedPull})
 * against protobuf's own parser: the same message, whatever way the transport cut the bytes
 * into buffers (cuts inside varints and inside values included), and never an exception for
 * bytes that are no message.
 */
class ReceivedMessagesTest {
  private static final ValueEncoding[] ENCODINGS = {ValueEncoding.VALUE_ENCODING_FP32,
      ValueEncoding.VALUE_ENCODING_BF16, ValueEncoding.VALUE_ENCODING_FP16};

  @Test
  void pushMessages_parseAsProtobufDoes_forEveryWayOfCuttingTheBytes() throws Exception {
    SplittableRandom rng = new SplittableRandom(21);
    for (int trial = 0; trial < 2_000; trial++) {
      PushMessage m = randomPush(rng);
      PiecedStream in = PiecedStream.cut(m.toByteArray(), rng);
      ReceivedPush r = ReceivedPush.marshaller().parse(in);
      assertThat(r.malformed()).isNull();
      assertThat(r.toMessage()).isEqualTo(m);
      if (m.hasChunk()) {
        BlockChunk c = m.getChunk();
        float[] want = new float[FloatCodec.valueCount(c.getValues().size(), c.getEncoding())];
        FloatCodec.decode(c.getValues(), c.getEncoding(), want, 0);
        float[] got = new float[want.length + 3];
        assertThat(r.chunk().values().decodeTo(c.getEncoding(), got, 3, true)).isTrue();
        for (int i = 0; i < want.length; i++) {
          assertThat(Float.floatToRawIntBits(got[3 + i])).isEqualTo(
              Float.floatToRawIntBits(want[i]));
        }
      }
      r.release();
      r.release(); // idempotent
      assertThat(in.detachedClosed()).isEqualTo(in.wasDetached());
    }
  }

  @Test
  void pullChunks_parseAsProtobufDoes_intoArraysAndOffHeapBuffers() throws Exception {
    SplittableRandom rng = new SplittableRandom(22);
    for (int trial = 0; trial < 2_000; trial++) {
      BlockChunk c = randomChunk(rng);
      PullChunk m = PullChunk.newBuilder().setChunk(c).setVersion(rng.nextLong(0, 1L << 40))
          .setWaitedMicros(rng.nextInt(1_000_000)).build();
      PiecedStream in = PiecedStream.cut(m.toByteArray(), rng);
      ReceivedPull r = ReceivedPull.marshaller().parse(in);
      assertThat(r.malformed()).isNull();
      assertThat(r.toMessage()).isEqualTo(m);
      int n = FloatCodec.valueCount(c.getValues().size(), c.getEncoding());
      float[] want = new float[n];
      FloatCodec.decode(c.getValues(), c.getEncoding(), want, 0);
      java.nio.FloatBuffer off = ByteBuffer.allocateDirect(4 * (n + 5))
          .order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer();
      r.chunk().values().decodeTo(c.getEncoding(), off, 5);
      for (int i = 0; i < n; i++) {
        assertThat(Float.floatToRawIntBits(off.get(5 + i))).isEqualTo(
            Float.floatToRawIntBits(want[i]));
      }
      r.release();
      assertThat(in.detachedClosed()).isTrue();
    }
  }

  @Test
  void damagedBytes_areRefusedWhenProtobufRefusesThem_andNeverThrow() {
    SplittableRandom rng = new SplittableRandom(23);
    int refused = 0;
    for (int trial = 0; trial < 20_000; trial++) {
      byte[] b = damage(randomPush(rng).toByteArray(), rng);
      PushMessage proto;
      try {
        proto = PushMessage.parseFrom(b);
      } catch (InvalidProtocolBufferException e) {
        proto = null;
      }
      ReceivedPush r = ReceivedPush.marshaller().parse(PiecedStream.cut(b, rng));
      if (proto == null) {
        assertThat(r.malformed()).as("trial %d: protobuf refuses these bytes", trial).isNotNull();
        refused++;
      } else if (r.malformed() == null && !twoKinds(b)) {
        assertThat(r.toMessage()).as("trial %d", trial).isEqualTo(withoutUnknownFields(proto));
      }
      r.release();
      ReceivedPull p = ReceivedPull.marshaller().parse(PiecedStream.cut(b, rng));
      p.release();
    }
    assertThat(refused).isGreaterThan(1_000); // the damage does make bad messages
  }

  @Test
  void unreadableValuesOfAKnownChunk_areCheckedByTheDecoder() {
    float[] v = {1f, Float.NaN, 3f};
    PushMessage m = PushMessage.newBuilder().setChunk(BlockChunk.newBuilder().setBlockId(2)
        .setValues(FloatCodec.encode(v))).build();
    ReceivedPush r = ReceivedPush.marshaller().parse(
        PiecedStream.cut(m.toByteArray(), new SplittableRandom(1)));
    assertThat(r.chunk().values().decodeTo(ValueEncoding.VALUE_ENCODING_FP32, new float[3], 0,
        true)).isFalse();
    r.release();
  }

  /** {@code m} without the fields this schema does not know, which the receivers skip. */
  private static PushMessage withoutUnknownFields(PushMessage m) {
    PushMessage.Builder b = m.toBuilder().setUnknownFields(UnknownFieldSet.getDefaultInstance());
    if (m.hasChunk()) {
      b.setChunk(m.getChunk().toBuilder().setUnknownFields(UnknownFieldSet.getDefaultInstance()));
    }
    return b.build();
  }

  /**
   * True when the bytes hold more than one top-level header or chunk field: protobuf then
   * merges the embedded messages while the push receiver keeps the last one; our own clients
   * never send that.
   */
  private static boolean twoKinds(byte[] b) {
    try {
      com.google.protobuf.CodedInputStream in = com.google.protobuf.CodedInputStream.newInstance(b);
      int kinds = 0;
      int tag;
      while ((tag = in.readTag()) != 0) {
        int field = tag >>> 3;
        if (field == PushMessage.HEADER_FIELD_NUMBER || field == PushMessage.CHUNK_FIELD_NUMBER) {
          kinds++;
        }
        in.skipField(tag);
      }
      return kinds > 1;
    } catch (Exception e) {
      return true;
    }
  }

  private static byte[] damage(byte[] b, SplittableRandom rng) {
    switch (rng.nextInt(4)) {
      case 0 -> {
        int k = 1 + rng.nextInt(3);
        for (int i = 0; i < k && b.length > 0; i++) {
          b[rng.nextInt(b.length)] = (byte) rng.nextInt(256);
        }
        return b;
      }
      case 1 -> {
        return java.util.Arrays.copyOf(b, b.length == 0 ? 0 : rng.nextInt(b.length));
      }
      case 2 -> {
        byte[] r = new byte[rng.nextInt(64)];
        rng.nextBytes(r);
        return r;
      }
      default -> {
        byte[] extra = new byte[1 + rng.nextInt(8)];
        rng.nextBytes(extra);
        byte[] out = java.util.Arrays.copyOf(b, b.length + extra.length);
        System.arraycopy(extra, 0, out, b.length, extra.length);
        return out;
      }
    }
  }

  private static PushMessage randomPush(SplittableRandom rng) {
    if (rng.nextInt(4) == 0) {
      PushHeader.Builder h = PushHeader.newBuilder().setFingerprint("fp-" + rng.nextInt(1000))
          .setWorker(rng.nextInt(64)).setSequence(rng.nextLong(1, 1L << 50))
          .setStep(rng.nextInt(1 << 20));
      for (int i = rng.nextInt(4); i >= 0; i--) {
        h.addBlocks(BlockRead.newBuilder().setBlockId(rng.nextInt(16))
            .setVersion(rng.nextLong(0, 1L << 30)));
      }
      return PushMessage.newBuilder().setHeader(h).build();
    }
    return PushMessage.newBuilder().setChunk(randomChunk(rng)).build();
  }

  private static BlockChunk randomChunk(SplittableRandom rng) {
    ValueEncoding e = ENCODINGS[rng.nextInt(ENCODINGS.length)];
    float[] v = new float[rng.nextInt(0, 700)];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) rng.nextGaussian();
    }
    return BlockChunk.newBuilder().setBlockId(rng.nextInt(1 << 12))
        .setOffset(rng.nextInt(1 << 22)).setEncoding(e)
        .setValues(FloatCodec.encode(v, 0, v.length, e)).build();
  }

  /**
   * A message stream as gRPC's transport hands it over: detachable, and viewable buffer by
   * buffer (here: cut at random points, often inside a value or a varint).
   */
  static final class PiecedStream extends InputStream implements Detachable, HasByteBuffer {
    private final List<ByteBuffer> pieces;
    private int piece;
    private PiecedStream detached;
    private boolean closed;

    private PiecedStream(List<ByteBuffer> pieces) {
      this.pieces = pieces;
    }

    static PiecedStream cut(byte[] b, SplittableRandom rng) {
      List<ByteBuffer> pieces = new ArrayList<>();
      int at = 0;
      while (at < b.length) {
        int n = rng.nextInt(3) == 0 ? 1 + rng.nextInt(5) : 1 + rng.nextInt(Math.max(1, b.length));
        n = Math.min(n, b.length - at);
        // Each piece in a buffer of its own with bytes around it, as slices of a larger buffer.
        ByteBuffer big = ByteBuffer.allocate(n + 16);
        big.position(7);
        big.put(b, at, n);
        big.position(7).limit(7 + n);
        pieces.add(big.slice());
        at += n;
      }
      return new PiecedStream(pieces);
    }

    boolean wasDetached() {
      return detached != null;
    }

    boolean detachedClosed() {
      return detached != null && detached.closed;
    }

    private ByteBuffer current() {
      while (piece < pieces.size() && !pieces.get(piece).hasRemaining()) {
        piece++;
      }
      return piece < pieces.size() ? pieces.get(piece) : null;
    }

    @Override
    public int read() {
      ByteBuffer c = current();
      return c == null ? -1 : c.get() & 0xff;
    }

    @Override
    public int read(byte[] dst, int off, int len) {
      ByteBuffer c = current();
      if (c == null) {
        return len == 0 ? 0 : -1;
      }
      int n = Math.min(len, c.remaining());
      c.get(dst, off, n);
      return n;
    }

    @Override
    public long skip(long n) {
      long done = 0;
      while (done < n) {
        ByteBuffer c = current();
        if (c == null) {
          break;
        }
        int k = (int) Math.min(n - done, c.remaining());
        c.position(c.position() + k);
        done += k;
      }
      return done;
    }

    @Override
    public int available() {
      int n = 0;
      for (int i = piece; i < pieces.size(); i++) {
        n += pieces.get(i).remaining();
      }
      return n;
    }

    @Override
    public boolean markSupported() {
      return true;
    }

    @Override
    public synchronized void mark(int limit) {
      // the pieces are kept until close anyway
    }

    @Override
    public boolean byteBufferSupported() {
      return true;
    }

    @Override
    public ByteBuffer getByteBuffer() {
      ByteBuffer c = current();
      return c == null ? null : c.slice().asReadOnlyBuffer();
    }

    @Override
    public InputStream detach() {
      List<ByteBuffer> rest = new ArrayList<>();
      for (int i = piece; i < pieces.size(); i++) {
        rest.add(pieces.get(i));
      }
      detached = new PiecedStream(rest);
      pieces.clear();
      piece = 0;
      return detached;
    }

    @Override
    public void close() {
      closed = true;
    }
  }
}
