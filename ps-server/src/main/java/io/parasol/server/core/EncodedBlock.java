package io.parasol.server.core;

import com.google.protobuf.ByteString;
import io.parasol.proto.v1.ValueEncoding;
import java.util.List;

/**
 * A block's values at one version, as wire chunks over a pooled buffer: call
 * {@link #release()} once they are sent (gRPC serialises a message when it is sent, so the
 * buffer is free again once the last {@code onNext} returned).
 */
public record EncodedBlock(int blockId, long version, int chunkFloats, List<ByteString> chunks,
    ValueEncoding encoding, Runnable releaser) {
  /** Gives the buffer behind the chunks back to its pool; the chunks must not be used after. */
  public void release() {
    releaser.run();
  }
}
