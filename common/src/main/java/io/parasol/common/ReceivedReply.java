package io.parasol.common;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import io.grpc.MethodDescriptor;
import io.parasol.proto.v1.PushPullReply;
import io.parasol.proto.v1.PushResponse;
import java.io.IOException;
import java.io.InputStream;

/**
 * A {@code PushPullReply} as the worker receives it: the push's {@link PushResponse}, or a pull
 * chunk ({@link ReceivedPull}) whose values are still in the transport's receive buffers, to
 * be decoded straight into the worker's model vector and then {@link #release() released}.
 * Parsed by {@link #marshaller()}.
 */
public final class ReceivedReply extends ReceivedMessage {
  private static final int PUSHED = WireReader.tag(PushPullReply.PUSHED_FIELD_NUMBER,
      WireFormat.WIRETYPE_LENGTH_DELIMITED);
  private static final int CHUNK = WireReader.tag(PushPullReply.CHUNK_FIELD_NUMBER,
      WireFormat.WIRETYPE_LENGTH_DELIMITED);

  private final PushResponse pushed;
  private final ReceivedPull pull;

  private ReceivedReply(PushResponse pushed, ReceivedPull pull, String malformed,
      WireBytes bytes) {
    super(malformed, bytes);
    this.pushed = pushed;
    this.pull = pull;
  }

  /** A message built in memory (tests). */
  public static ReceivedReply of(PushPullReply m) {
    return switch (m.getKindCase()) {
      case PUSHED -> new ReceivedReply(m.getPushed(), null, null, null);
      case CHUNK -> new ReceivedReply(null, ReceivedPull.of(m.getChunk()), null, null);
      default -> new ReceivedReply(null, null, "a PushPullReply with neither field", null);
    };
  }

  /** The push's response, or null when this reply is a pull chunk. */
  public PushResponse pushed() {
    return pushed;
  }

  /** The pull chunk, or null when this reply is the push's response. */
  public ReceivedPull pull() {
    return pull;
  }

  /** The equivalent message (copies the values). */
  public PushPullReply toMessage() {
    PushPullReply.Builder b = PushPullReply.newBuilder();
    if (pushed != null) {
      b.setPushed(pushed);
    } else if (pull != null) {
      b.setChunk(pull.toMessage());
    }
    return b.build();
  }

  static ReceivedReply parse(InputStream in) {
    WireBytes wb;
    try {
      wb = WireBytes.take(in);
    } catch (IOException e) {
      return new ReceivedReply(null, null, "unreadable message: " + e.getMessage(), null);
    }
    try {
      WireReader r = new WireReader(wb.pieces, wb.size);
      PushResponse pushed = null;
      ReceivedPull pull = null;
      int tag;
      while ((tag = r.readTag()) != 0) {
        if (tag == PUSHED) {
          pushed = PushResponse.parseFrom(r.copy(r.readLength(wb.size)));
          pull = null;
        } else if (tag == CHUNK) {
          int n = r.readLength(wb.size);
          pull = ReceivedPull.parse(r, r.position() + n, null);
          pushed = null;
        } else {
          r.skipField(tag, wb.size);
        }
      }
      if (pushed == null && pull == null) {
        wb.close();
        return new ReceivedReply(null, null, "a PushPullReply with neither field", null);
      }
      if (pull == null) {
        wb.close(); // the response was copied out
        return new ReceivedReply(pushed, null, null, null);
      }
      return new ReceivedReply(null, pull, null, wb);
    } catch (WireReader.Malformed | InvalidProtocolBufferException e) {
      wb.close();
      return new ReceivedReply(null, null, e.getMessage(), null);
    } catch (RuntimeException e) {
      wb.close();
      throw e;
    }
  }

  private static final MethodDescriptor.Marshaller<ReceivedReply> MARSHALLER =
      marshaller(ReceivedReply::parse, r -> r.toMessage().toByteArray());

  /** The worker's marshaller for PushPull's replies; other bytes come back malformed. */
  public static MethodDescriptor.Marshaller<ReceivedReply> marshaller() {
    return MARSHALLER;
  }
}
