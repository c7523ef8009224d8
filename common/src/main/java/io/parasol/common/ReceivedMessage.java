package io.parasol.common;

import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.function.Function;

/**
 * What {@link ReceivedPull} and {@link ReceivedPush} share: a message parsed from the
 * transport's buffers without copying its values, which holds those buffers until it is
 * {@link #release() released}, or bytes that were not the expected message at all
 * ({@link #malformed()}).
 */
abstract class ReceivedMessage implements AutoCloseable {
  private final String malformed;
  private final WireBytes bytes;

  /**
   * @param malformed why the bytes are not the expected message, or null when they are one
   * @param bytes the receive buffers the values still live in, or null when none are held
   */
  ReceivedMessage(String malformed, WireBytes bytes) {
    this.malformed = malformed;
    this.bytes = bytes;
  }

  /** Why the bytes are not the expected message, or null when they are one. */
  public final String malformed() {
    return malformed;
  }

  /** Gives the receive buffers back; the values must not be read after. Idempotent. */
  public final void release() {
    if (bytes != null) {
      bytes.close();
    }
  }

  @Override
  public final void close() {
    release();
  }

  /** A gRPC marshaller that parses with {@code parse} and sends {@code toBytes}'s copy. */
  static <T> MethodDescriptor.Marshaller<T> marshaller(Function<InputStream, T> parse,
      Function<T, byte[]> toBytes) {
    return new MethodDescriptor.Marshaller<>() {
      @Override
      public InputStream stream(T value) {
        return new ByteArrayInputStream(toBytes.apply(value));
      }

      @Override
      public T parse(InputStream stream) {
        return parse.apply(stream);
      }
    };
  }
}
