package io.parasol.common;

import io.grpc.Detachable;
import io.grpc.HasByteBuffer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The bytes of one received gRPC message, taken over from the transport without copying them:
 * the message's stream is detached from gRPC, and its buffers (slices of Netty's receive
 * buffers, one per HTTP/2 DATA frame, usually) are read in place until {@link #close()} gives
 * them back. A stream that cannot hand out its buffers is read into one heap array instead.
 */
final class WireBytes implements AutoCloseable {
  final ByteBuffer[] pieces;
  final int size;
  private InputStream owner;

  private WireBytes(ByteBuffer[] pieces, int size, InputStream owner) {
    this.pieces = pieces;
    this.size = size;
    this.owner = owner;
  }

  /** Takes the bytes of the message {@code in}; the caller must close the result. */
  static WireBytes take(InputStream in) throws IOException {
    if (in instanceof Detachable d && in instanceof HasByteBuffer) {
      InputStream own = d.detach();
      try {
        return collect(own);
      } catch (IOException | RuntimeException e) {
        own.close();
        throw e;
      }
    }
    byte[] all = in.readAllBytes();
    return new WireBytes(new ByteBuffer[] {ByteBuffer.wrap(all)}, all.length, null);
  }

  /** Bytes copied at a time from a part of the message that cannot be viewed in place. */
  private static final int COPY_STEP = 1024;

  private static WireBytes collect(InputStream own) throws IOException {
    // Marked, the stream keeps the buffers it moves past (instead of releasing them) until it
    // is closed, so the views taken here stay valid.
    own.mark(Integer.MAX_VALUE);
    HasByteBuffer hb = (HasByteBuffer) own;
    List<ByteBuffer> pieces = new ArrayList<>();
    int size = 0;
    int left = own.available();
    while (left > 0) {
      ByteBuffer view;
      try {
        // A fresh view of the current part (one HTTP/2 frame's payload, usually).
        view = hb.getByteBuffer();
      } catch (UnsupportedOperationException e) {
        view = null; // a small heap part gRPC put together from tiny frames
      }
      if (view == null || !view.hasRemaining()) {
        byte[] part = own.readNBytes(Math.min(left, COPY_STEP));
        if (part.length == 0) {
          throw new IOException("message ended " + left + " bytes early");
        }
        pieces.add(ByteBuffer.wrap(part));
        size += part.length;
        left -= part.length;
        continue;
      }
      int n = Math.min(view.remaining(), left);
      view.limit(view.position() + n);
      pieces.add(view);
      size += n;
      left -= n;
      long skipped = own.skip(n);
      if (skipped != n) {
        throw new IOException("message stream skipped " + skipped + " of " + n + " bytes");
      }
    }
    return new WireBytes(pieces.toArray(new ByteBuffer[0]), size, own);
  }

  /** Gives the buffers back to the transport; the views must not be used after. Idempotent. */
  @Override
  public void close() {
    InputStream o = owner;
    owner = null;
    if (o != null) {
      try {
        o.close();
      } catch (IOException e) {
        // nothing to do: the buffers are released anyway
      }
    }
  }
}
