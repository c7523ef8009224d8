package io.parasol.common;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import java.io.IOException;
import java.io.InputStream;

/**
 * A protobuf marshaller for messages that carry block values, whose {@code bytes} fields alias
 * the receive buffer instead of being copied out of it.
 *
 * <p>gRPC's stock marshaller copies an incoming message into a buffer and then copies every
 * {@code bytes} field out of that buffer again (and, above 4 MiB, parses from a stream with
 * more copies). This one reads the message once into a buffer owned by the receiving thread and
 * parses it with aliasing on, so a chunk's values are read exactly once more: by the decoder
 * that puts them where they belong.
 *
 * <p><b>Contract:</b> a parsed message's {@code bytes} fields are valid only until the next
 * message is parsed on the same thread. gRPC parses each message right before handing it to the
 * call's listener, on the same thread, so a {@code StreamObserver.onNext} that decodes the
 * chunk before returning (as the shard's push receiver and the client's pull receiver do) is
 * safe. Never use it where messages are queued, e.g. behind a blocking stub.
 *
 * @param <T> the message type
 */
public final class AliasingMarshaller<T extends Message> implements
    MethodDescriptor.Marshaller<T> {
  /** Largest message read into the per-thread buffer; larger ones get a buffer of their own. */
  static final int MAX_POOLED_BYTES = 32 * 1024 * 1024;

  private static final ThreadLocal<byte[][]> BUFFER = ThreadLocal.withInitial(
      () -> new byte[1][]);

  private final MethodDescriptor.Marshaller<T> stock;
  private final Parser<T> parser;

  @SuppressWarnings("unchecked")
  private AliasingMarshaller(T defaultInstance) {
    this.stock = ProtoUtils.marshaller(defaultInstance);
    this.parser = (Parser<T>) defaultInstance.getParserForType();
  }

  /** A marshaller for messages of {@code defaultInstance}'s type. */
  public static <T extends Message> AliasingMarshaller<T> of(T defaultInstance) {
    return new AliasingMarshaller<>(defaultInstance);
  }

  @Override
  public InputStream stream(T value) {
    return stock.stream(value);
  }

  @Override
  public T parse(InputStream in) {
    int size;
    try {
      size = in instanceof KnownLength ? in.available() : -1;
    } catch (IOException e) {
      throw Status.INTERNAL.withDescription("cannot read message").withCause(e)
          .asRuntimeException();
    }
    if (size < 0) {
      return stock.parse(in);
    }
    byte[] buf = buffer(size);
    try {
      int off = 0;
      while (off < size) {
        int r = in.read(buf, off, size - off);
        if (r < 0) {
          throw new IOException("message ended after " + off + " of " + size + " bytes");
        }
        off += r;
      }
      // Parsed through a ByteString so the decoder treats the buffer as immutable: only then
      // does aliasing hand out slices instead of copies.
      CodedInputStream cis = UnsafeByteOperations.unsafeWrap(buf, 0, size).newCodedInput();
      cis.enableAliasing(true);
      T msg = parser.parseFrom(cis);
      cis.checkLastTagWas(0);
      return msg;
    } catch (InvalidProtocolBufferException e) {
      throw Status.INTERNAL.withDescription("Invalid protobuf byte sequence").withCause(e)
          .asRuntimeException();
    } catch (IOException e) {
      throw Status.INTERNAL.withDescription("cannot read message").withCause(e)
          .asRuntimeException();
    }
  }

  private static byte[] buffer(int size) {
    if (size > MAX_POOLED_BYTES) {
      return new byte[size];
    }
    byte[][] holder = BUFFER.get();
    byte[] b = holder[0];
    if (b == null || b.length < size) {
      // Round up to 64 KiB so sizes that differ by a few header bytes share one buffer.
      b = new byte[Math.min(MAX_POOLED_BYTES, (size + 0xffff) & ~0xffff)];
      holder[0] = b;
    }
    return b;
  }
}
