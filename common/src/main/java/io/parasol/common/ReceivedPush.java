package io.parasol.common;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import io.grpc.MethodDescriptor;
import io.parasol.proto.v1.PushHeader;
import io.parasol.proto.v1.PushMessage;
import java.io.IOException;
import java.io.InputStream;

/**
 * One message of a push stream as a shard receives it: the header, a chunk whose values are
 * still in the transport's receive buffers, or bytes that are no {@code PushMessage} at all
 * (which the shard refuses with INVALID_ARGUMENT instead of gRPC's UNKNOWN). Parsed by
 * {@link #marshaller()} without copying the values; the receiver decodes them straight into the
 * block's staging buffer and then {@link #release() releases} the message.
 */
public final class ReceivedPush extends ReceivedMessage {
  private static final int HEADER = WireReader.tag(PushMessage.HEADER_FIELD_NUMBER,
      WireFormat.WIRETYPE_LENGTH_DELIMITED);
  private static final int CHUNK = WireReader.tag(PushMessage.CHUNK_FIELD_NUMBER,
      WireFormat.WIRETYPE_LENGTH_DELIMITED);

  private final PushHeader header;
  private final ReceivedChunk chunk;

  private ReceivedPush(PushHeader header, ReceivedChunk chunk, String malformed,
      WireBytes bytes) {
    super(malformed, bytes);
    this.header = header;
    this.chunk = chunk;
  }

  /** A message built in memory (tests, in-process use). */
  public static ReceivedPush of(PushMessage m) {
    return switch (m.getKindCase()) {
      case HEADER -> new ReceivedPush(m.getHeader(), null, null, null);
      case CHUNK -> new ReceivedPush(null, ReceivedChunk.of(m.getChunk()), null, null);
      default -> new ReceivedPush(null, null, null, null);
    };
  }

  /** A message that is no PushMessage, for {@code reason}. */
  public static ReceivedPush malformed(String reason) {
    return new ReceivedPush(null, null, reason, null);
  }

  public boolean hasHeader() {
    return header != null;
  }

  public PushHeader header() {
    return header;
  }

  public boolean hasChunk() {
    return chunk != null;
  }

  public ReceivedChunk chunk() {
    return chunk;
  }

  /** The equivalent message (copies the values). */
  public PushMessage toMessage() {
    PushMessage.Builder b = PushMessage.newBuilder();
    if (header != null) {
      b.setHeader(header);
    } else if (chunk != null) {
      b.setChunk(chunk.toProto());
    }
    return b.build();
  }

  static ReceivedPush parse(InputStream in) {
    WireBytes wb;
    try {
      wb = WireBytes.take(in);
    } catch (IOException | RuntimeException e) {
      return new ReceivedPush(null, null, "unreadable message: " + e, null);
    }
    try {
      WireReader r = new WireReader(wb.pieces, wb.size);
      PushHeader header = null;
      ReceivedChunk chunk = null;
      int tag;
      while ((tag = r.readTag()) != 0) {
        if (tag == HEADER) {
          int n = r.readLength(wb.size);
          header = PushHeader.parseFrom(r.copy(n));
          chunk = null;
        } else if (tag == CHUNK) {
          int n = r.readLength(wb.size);
          chunk = ReceivedChunk.parse(r, r.position() + n);
          header = null;
        } else {
          r.skipField(tag, wb.size);
        }
      }
      if (header != null) {
        wb.close();
        return new ReceivedPush(header, null, null, null);
      }
      if (chunk == null) {
        wb.close();
      }
      return new ReceivedPush(null, chunk, null, chunk == null ? null : wb);
    } catch (WireReader.Malformed | InvalidProtocolBufferException e) {
      wb.close();
      return new ReceivedPush(null, null, e.getMessage(), null);
    } catch (RuntimeException e) {
      wb.close();
      return new ReceivedPush(null, null, "unreadable message: " + e, null);
    }
  }

  private static final MethodDescriptor.Marshaller<ReceivedPush> MARSHALLER =
      marshaller(ReceivedPush::parse, m -> m.toMessage().toByteArray());

  /**
   * The shard's marshaller for push messages. It never throws: bytes that are no PushMessage
   * come back as a message with {@link #malformed()} set.
   */
  public static MethodDescriptor.Marshaller<ReceivedPush> marshaller() {
    return MARSHALLER;
  }

  /** The message parsed last on this thread and not claimed yet, with its stand-in. */
  private record Pending(PushMessage standIn, ReceivedPush received) {}

  private static final ThreadLocal<Pending[]> PENDING = ThreadLocal.withInitial(
      () -> new Pending[1]);

  /**
   * The same parser for a method typed on {@code PushMessage}, for code that wraps the Push
   * method's marshaller and expects that type. {@code parse} returns a stand-in
   * {@code PushMessage} (the header, or a chunk without its values) and keeps the received
   * message for the receiver to {@link #claim} on the same thread, which is where gRPC delivers
   * a message right after parsing it.
   */
  public static MethodDescriptor.Marshaller<PushMessage> pushMessageMarshaller() {
    return PUSH_MESSAGES;
  }

  private static final MethodDescriptor.Marshaller<PushMessage> PUSH_MESSAGES =
      marshaller(ReceivedPush::parseStandIn, PushMessage::toByteArray);

  private static PushMessage parseStandIn(InputStream stream) {
    Pending[] slot = PENDING.get();
    if (slot[0] != null) {
      // Parsed but never delivered: give its buffers back.
      slot[0].received.release();
      slot[0] = null;
    }
    ReceivedPush r = ReceivedPush.parse(stream);
    PushMessage standIn;
    if (r.header != null) {
      standIn = PushMessage.newBuilder().setHeader(r.header).build();
    } else if (r.chunk != null) {
      standIn = PushMessage.newBuilder().setChunk(io.parasol.proto.v1.BlockChunk
          .newBuilder().setBlockId(r.chunk.blockId()).setOffset(r.chunk.offset())
          .setEncodingValue(r.chunk.encodingNumber())).build();
    } else {
      standIn = PushMessage.newBuilder().build();
    }
    slot[0] = new Pending(standIn, r);
    return standIn;
  }

  /**
   * The received message behind {@code m}, if {@code m} is the stand-in parsed last on this
   * thread; otherwise {@code m} itself as a received message (one built in memory).
   */
  public static ReceivedPush claim(PushMessage m) {
    Pending[] slot = PENDING.get();
    Pending p = slot[0];
    if (p != null && p.standIn == m) {
      slot[0] = null;
      return p.received;
    }
    return of(m);
  }
}
