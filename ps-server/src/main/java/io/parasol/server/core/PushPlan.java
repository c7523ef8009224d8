package io.parasol.server.core;

import com.google.protobuf.ByteString;
import io.parasol.common.ChunkValues;
import io.parasol.common.FloatCodec;
import io.parasol.proto.v1.PushHeader;
import io.parasol.proto.v1.ValueEncoding;
import io.parasol.server.metrics.ShardMetrics;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A validated push header and the staging buffers its chunks fill: each chunk is decoded
 * straight into a pooled float buffer of its block and checked for NaN and infinities. Holds one
 * of the worker's stream slots until {@link #release()}.
 *
 * <p>Thread safety: one push stream feeds {@link #accept} from one thread at a time (gRPC
 * serialises a call's messages); {@link #release()} may be called from any thread.
 */
public final class PushPlan {
  final Job job;
  final PushHeader header;
  final Block[] blocks;
  final float[][] values;
  private final int[] received;
  private final int[] slotOf;
  private final ShardMetrics metrics;
  private final Buffers buffers;
  private final AtomicBoolean released = new AtomicBoolean();

  PushPlan(Job job, PushHeader header, Block[] blocks, ShardMetrics metrics, Buffers buffers) {
    this.job = job;
    this.header = header;
    this.blocks = blocks;
    this.metrics = metrics;
    this.buffers = buffers;
    this.values = new float[blocks.length][];
    this.received = new int[blocks.length];
    this.slotOf = new int[job.blocks.numBlocks()];
    Arrays.fill(slotOf, -1);
    for (int i = 0; i < blocks.length; i++) {
      slotOf[blocks[i].id] = i;
    }
  }

  /** Takes one float32 chunk; chunks of a block must arrive in order and cover it exactly. */
  public void accept(int blockId, int offset, ByteString bytes) throws ShardException {
    accept(blockId, offset, ValueEncoding.VALUE_ENCODING_FP32, bytes);
  }

  /**
   * Takes one chunk of values in {@code encoding}; chunks of a block must arrive in order and
   * cover it exactly. The values are decoded straight into the block's pooled staging buffer
   * (no intermediate arrays) and checked for NaN and infinities while they are in cache.
   */
  public void accept(int blockId, int offset, ValueEncoding encoding, ByteString bytes)
      throws ShardException {
    accept(blockId, offset, encoding, ChunkValues.of(bytes));
  }

  /**
   * As above, for values still in the transport's receive buffers: they are decoded from
   * there straight into the staging buffer, each received piece checked while in cache.
   */
  public void accept(int blockId, int offset, ValueEncoding encoding, ChunkValues bytes)
      throws ShardException {
    try {
      acceptUncounted(blockId, offset, encoding, bytes);
    } catch (ShardException e) {
      ShardCore.countRefusal(metrics, e);
      throw e;
    }
  }

  private void acceptUncounted(int blockId, int offset, ValueEncoding encoding,
      ChunkValues bytes) throws ShardException {
    if (blockId < 0 || blockId >= slotOf.length || slotOf[blockId] < 0) {
      throw ShardException.invalid("chunk for block " + Integer.toUnsignedString(blockId)
          + ", which the push header does not list");
    }
    int slot = slotOf[blockId];
    Block b = blocks[slot];
    int w = switch (encoding) {
      case VALUE_ENCODING_FP32, VALUE_ENCODING_BF16, VALUE_ENCODING_FP16 ->
          FloatCodec.bytesPerValue(encoding);
      default -> throw ShardException.invalid("chunk for block " + blockId
          + " has an unknown value encoding");
    };
    if (bytes.size() % w != 0) {
      throw ShardException.invalid("chunk for block " + blockId + " has " + bytes.size()
          + " bytes, not a whole number of " + (w == 4 ? "float32"
              : FloatCodec.encodingName(encoding)) + " values");
    }
    int n = bytes.size() / w;
    if (offset != received[slot]) {
      throw ShardException.invalid("chunk for block " + blockId + " starts at "
          + Integer.toUnsignedString(offset) + "; expected " + received[slot]
          + " (chunks must arrive in order without gaps)");
    }
    if (n == 0 || (long) offset + n > b.length) {
      throw ShardException.invalid("chunk for block " + blockId + " covers [" + offset + ", "
          + ((long) offset + n) + ") but the block has " + b.length + " values");
    }
    if (values[slot] == null) {
      values[slot] = buffers.takeFloats(b.length);
    }
    metrics.bytesIn(bytes.size());
    if (!bytes.decodeTo(encoding, values[slot], offset, true)) {
      throw ShardException.invalid("chunk for block " + blockId + " holds NaN or infinite"
          + " values");
    }
    received[slot] += n;
  }

  /**
   * Gives the worker's stream slot and the staging buffers back (after the push was applied,
   * or when it ends early); idempotent.
   */
  public void release() {
    if (released.compareAndSet(false, true)) {
      job.releaseStream(header.getWorker());
      for (int i = 0; i < values.length; i++) {
        buffers.giveFloats(values[i]);
        values[i] = null;
      }
    }
  }

  /** Checks that every listed block arrived whole. */
  void checkComplete() throws ShardException {
    for (int i = 0; i < blocks.length; i++) {
      if (received[i] != blocks[i].length) {
        throw ShardException.invalid("push ended with block " + blocks[i].id + " at "
            + received[i] + " of " + blocks[i].length + " values");
      }
    }
  }
}
