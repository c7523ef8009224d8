package io.parasol.common;

import com.google.protobuf.WireFormat;
import io.grpc.MethodDescriptor;
import io.parasol.proto.v1.PullChunk;
import java.io.IOException;
import java.io.InputStream;

/**
 * A {@code PullChunk} as the worker receives it: the block version, the wait, and a chunk
 * whose values are still in the transport's receive buffers, to be decoded straight into the
 * worker's model vector; then {@link #release() released}. Parsed by {@link #marshaller()}.
 */
public final class ReceivedPull extends ReceivedMessage {
  private static final int CHUNK = WireReader.tag(PullChunk.CHUNK_FIELD_NUMBER,
      WireFormat.WIRETYPE_LENGTH_DELIMITED);
  private static final int VERSION = WireReader.tag(PullChunk.VERSION_FIELD_NUMBER,
      WireFormat.WIRETYPE_VARINT);
  private static final int WAITED = WireReader.tag(PullChunk.WAITED_MICROS_FIELD_NUMBER,
      WireFormat.WIRETYPE_VARINT);
  private static final int INCARNATION = WireReader.tag(PullChunk.INCARNATION_FIELD_NUMBER,
      WireFormat.WIRETYPE_VARINT);

  private final ReceivedChunk chunk;
  private final long version;
  private final long waitedMicros;
  private final long incarnation;

  private ReceivedPull(ReceivedChunk chunk, long version, long waitedMicros, long incarnation,
      String malformed, WireBytes bytes) {
    super(malformed, bytes);
    this.chunk = chunk;
    this.version = version;
    this.waitedMicros = waitedMicros;
    this.incarnation = incarnation;
  }

  /** A message built in memory (tests). */
  public static ReceivedPull of(PullChunk c) {
    return new ReceivedPull(ReceivedChunk.of(c.getChunk()), c.getVersion(), c.getWaitedMicros(),
        c.getIncarnation(), null, null);
  }

  /** The chunk (empty values when the message had none). */
  public ReceivedChunk chunk() {
    return chunk;
  }

  public long version() {
    return version;
  }

  public long waitedMicros() {
    return waitedMicros;
  }

  /** The shard's incarnation; 0 when the shard did not say. */
  public long incarnation() {
    return incarnation;
  }

  /** The equivalent message (copies the values). */
  public PullChunk toMessage() {
    return PullChunk.newBuilder().setChunk(chunk.toProto()).setVersion(version)
        .setWaitedMicros(waitedMicros).setIncarnation(incarnation).build();
  }

  static ReceivedPull parse(InputStream in) {
    WireBytes wb;
    try {
      wb = WireBytes.take(in);
    } catch (IOException e) {
      return new ReceivedPull(null, 0, 0, 0, "unreadable message: " + e.getMessage(), null);
    }
    try {
      return parse(new WireReader(wb.pieces, wb.size), wb.size, wb);
    } catch (WireReader.Malformed e) {
      wb.close();
      return new ReceivedPull(null, 0, 0, 0, e.getMessage(), null);
    } catch (RuntimeException e) {
      wb.close();
      throw e;
    }
  }

  /**
   * A PullChunk's fields from {@code r} up to {@code end}; the result holds {@code wb} (the
   * buffers its values live in).
   */
  static ReceivedPull parse(WireReader r, long end, WireBytes wb) throws WireReader.Malformed {
    ReceivedChunk chunk = null;
    long version = 0;
    long waited = 0;
    long incarnation = 0;
    while (r.position() < end) {
      int tag = r.readTag();
      if (tag == CHUNK) {
        int n = r.readLength(end);
        chunk = ReceivedChunk.parse(r, r.position() + n);
      } else if (tag == VERSION) {
        version = r.readVarint64();
      } else if (tag == WAITED) {
        waited = r.readVarint64();
      } else if (tag == INCARNATION) {
        incarnation = r.readVarint64();
      } else {
        r.skipField(tag, end);
      }
    }
    if (r.position() != end) {
      throw new WireReader.Malformed("a field runs past the end of its PullChunk");
    }
    if (chunk == null) {
      chunk = new ReceivedChunk(0, 0, 0, ChunkValues.of(com.google.protobuf.ByteString.EMPTY));
    }
    return new ReceivedPull(chunk, version, waited, incarnation, null, wb);
  }

  private static final MethodDescriptor.Marshaller<ReceivedPull> MARSHALLER =
      marshaller(ReceivedPull::parse, r -> r.toMessage().toByteArray());

  /** The worker's marshaller for pulled chunks; bytes that are no PullChunk come back malformed. */
  public static MethodDescriptor.Marshaller<ReceivedPull> marshaller() {
    return MARSHALLER;
  }
}
