package io.parasol.common;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.parasol.proto.v1.BlockChunk;
import io.parasol.proto.v1.PushMessage;
import io.parasol.proto.v1.ValueEncoding;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One message of a push stream as the worker sends it: a {@link PushMessage} (the header), or a
 * chunk whose values are read from the worker's own memory, a {@code float[]} or an off-heap
 * vector such as an ND4J gradient, only when gRPC serialises the message.
 *
 * <p>The bytes on the wire are exactly those of the equivalent {@code PushMessage} (a
 * {@link BlockChunk} in field 2, its fields in number order), so shards need not know. What
 * changes is the copying: the values go from the source, encoded on the fly through a 64 KiB
 * per-thread scratch array that stays in cache, straight into the transport's buffers; no
 * {@code ByteString} or heap copy of the chunk is ever made. (Protobuf 4 copies off-heap memory
 * into a new array when it is wrapped in a {@code ByteString}, so wrapping is not an option for
 * ND4J's buffers.)
 *
 * <p>The source must not change until the push completes: a retried stream reads it again.
 */
public final class PushFrame {
  private static final int SCRATCH = 64 * 1024;
  private static final ThreadLocal<byte[]> SCRATCH_BUFFER = ThreadLocal.withInitial(
      () -> new byte[SCRATCH]);

  private final PushMessage message;
  private final int blockId;
  private final int offset;
  private final ValueEncoding encoding;
  private final float[] array;
  private final ByteBuffer memory;
  private final int from;
  private final int count;

  private PushFrame(PushMessage message, int blockId, int offset, ValueEncoding encoding,
      float[] array, ByteBuffer memory, int from, int count) {
    this.message = message;
    this.blockId = blockId;
    this.offset = offset;
    this.encoding = encoding;
    this.array = array;
    this.memory = memory;
    this.from = from;
    this.count = count;
  }

  /** A plain message, e.g. the header. */
  public static PushFrame of(PushMessage message) {
    return new PushFrame(message, 0, 0, null, null, null, 0, 0);
  }

  /**
   * A chunk of block {@code blockId} from element {@code offset}: {@code src[from, from+count)}
   * encoded in {@code e}.
   */
  public static PushFrame chunk(int blockId, int offset, ValueEncoding e, float[] src, int from,
      int count) {
    checkRange(from, count, src.length);
    return new PushFrame(null, blockId, offset, e, src, null, from, count);
  }

  /**
   * A chunk from float memory: {@code src} holds native-order float32 values (a direct buffer
   * over an off-heap vector, say); floats {@code [from, from+count)} are sent, encoded in
   * {@code e}.
   */
  public static PushFrame chunk(int blockId, int offset, ValueEncoding e, ByteBuffer src,
      int from, int count) {
    checkRange(from, count, src.capacity() / Float.BYTES);
    return new PushFrame(null, blockId, offset, e, null, src.duplicate().order(
        ByteOrder.nativeOrder()), from, count);
  }

  private static void checkRange(int from, int count, int length) {
    if (from < 0 || count <= 0 || from > length - count) {
      throw new IndexOutOfBoundsException("values [" + from + ", " + ((long) from + count)
          + ") of a vector of " + length);
    }
  }

  /** True for a chunk frame. */
  public boolean isChunk() {
    return message == null;
  }

  /** The equivalent message (copies the values; for tests and logs). */
  public PushMessage toMessage() {
    if (message != null) {
      return message;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(serializedSize());
    try {
      writeTo(out);
      return PushMessage.parseFrom(out.toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private int valueBytes() {
    return count * FloatCodec.bytesPerValue(encoding);
  }

  private int chunkSize() {
    int n = 0;
    if (blockId != 0) {
      n += CodedOutputStream.computeUInt32Size(BlockChunk.BLOCK_ID_FIELD_NUMBER, blockId);
    }
    if (offset != 0) {
      n += CodedOutputStream.computeUInt32Size(BlockChunk.OFFSET_FIELD_NUMBER, offset);
    }
    int vb = valueBytes();
    n += CodedOutputStream.computeTagSize(BlockChunk.VALUES_FIELD_NUMBER)
        + CodedOutputStream.computeUInt32SizeNoTag(vb) + vb;
    if (encoding.getNumber() != 0) {
      n += CodedOutputStream.computeEnumSize(BlockChunk.ENCODING_FIELD_NUMBER,
          encoding.getNumber());
    }
    return n;
  }

  /** Bytes this frame takes on the wire. */
  public int serializedSize() {
    if (message != null) {
      return message.getSerializedSize();
    }
    int c = chunkSize();
    return CodedOutputStream.computeTagSize(PushMessage.CHUNK_FIELD_NUMBER)
        + CodedOutputStream.computeUInt32SizeNoTag(c) + c;
  }

  /** Writes the frame's wire bytes to {@code out}. */
  void writeTo(OutputStream out) throws IOException {
    if (message != null) {
      message.writeTo(out);
      return;
    }
    byte[] head = new byte[40];
    CodedOutputStream h = CodedOutputStream.newInstance(head);
    h.writeTag(PushMessage.CHUNK_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED);
    h.writeUInt32NoTag(chunkSize());
    if (blockId != 0) {
      h.writeUInt32(BlockChunk.BLOCK_ID_FIELD_NUMBER, blockId);
    }
    if (offset != 0) {
      h.writeUInt32(BlockChunk.OFFSET_FIELD_NUMBER, offset);
    }
    h.writeTag(BlockChunk.VALUES_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED);
    h.writeUInt32NoTag(valueBytes());
    h.flush();
    out.write(head, 0, h.getTotalBytesWritten());
    writeValues(out);
    if (encoding.getNumber() != 0) {
      byte[] tail = new byte[8];
      CodedOutputStream t = CodedOutputStream.newInstance(tail);
      t.writeEnum(BlockChunk.ENCODING_FIELD_NUMBER, encoding.getNumber());
      t.flush();
      out.write(tail, 0, t.getTotalBytesWritten());
    }
  }

  private void writeValues(OutputStream out) throws IOException {
    byte[] scratch = SCRATCH_BUFFER.get();
    int w = FloatCodec.bytesPerValue(encoding);
    int per = scratch.length / w;
    boolean rawCopy = memory != null && encoding == ValueEncoding.VALUE_ENCODING_FP32
        && memory.order() == ByteOrder.LITTLE_ENDIAN;
    ByteBuffer src = memory == null ? null : memory.duplicate().order(memory.order());
    java.nio.FloatBuffer floats = src == null || rawCopy ? null : src.asFloatBuffer();
    for (int done = 0; done < count; ) {
      int k = Math.min(per, count - done);
      int bytes;
      if (array != null) {
        bytes = FloatCodec.encodeInto(array, from + done, k, encoding, scratch, 0);
      } else if (rawCopy) {
        src.limit((from + done + k) * Float.BYTES).position((from + done) * Float.BYTES);
        src.get(scratch, 0, k * Float.BYTES);
        bytes = k * Float.BYTES;
      } else {
        bytes = FloatCodec.encodeInto(floats, from + done, k, encoding, scratch, 0);
      }
      out.write(scratch, 0, bytes);
      done += k;
    }
  }

  /** The marshaller of push frames; the worker only sends them, so it does not parse. */
  public static MethodDescriptor.Marshaller<PushFrame> marshaller() {
    return MARSHALLER;
  }

  private static final MethodDescriptor.Marshaller<PushFrame> MARSHALLER =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(PushFrame value) {
          return new FrameStream(value);
        }

        @Override
        public PushFrame parse(InputStream stream) {
          try {
            return of(PushMessage.parseFrom(stream));
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      };

  /** A frame as gRPC consumes it: drained into the transport, or read as a plain stream. */
  private static final class FrameStream extends InputStream implements Drainable, KnownLength {
    private PushFrame frame;
    private InputStream copy;

    FrameStream(PushFrame frame) {
      this.frame = frame;
    }

    @Override
    public int drainTo(OutputStream target) throws IOException {
      if (frame == null) {
        return (int) copy().transferTo(target);
      }
      int size = frame.serializedSize();
      frame.writeTo(target);
      frame = null;
      copy = new ByteArrayInputStream(new byte[0]);
      return size;
    }

    private InputStream copy() throws IOException {
      if (copy == null) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(frame.serializedSize());
        frame.writeTo(out);
        copy = new ByteArrayInputStream(out.toByteArray());
        frame = null;
      }
      return copy;
    }

    @Override
    public int read() throws IOException {
      return copy().read();
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      return copy().read(b, off, len);
    }

    @Override
    public int available() throws IOException {
      return frame != null ? frame.serializedSize() : copy().available();
    }
  }
}
