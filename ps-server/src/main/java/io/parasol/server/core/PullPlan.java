package io.parasol.server.core;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.parasol.common.FloatCodec;
import io.parasol.proto.v1.ValueEncoding;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A validated pull, holding one of its worker's stream slots: it waits (in {@link PullWaiters})
 * until ready, then its blocks are encoded one by one. Call {@link #release()} when done.
 * Thread safety: {@link #ready()} and {@link #release()} may be called from any thread;
 * {@link #encode} from one sender at a time.
 */
public final class PullPlan {
  final Job job;
  final Block[] blocks;
  final long minVersion;
  /** The worker's contribution to the open round is on its way: wait even before it arrives. */
  private final boolean afterPush;
  final int worker;
  final long clock;
  final long created;
  private final Buffers buffers;
  private final AtomicBoolean released = new AtomicBoolean();
  /** How long the pull waited before it was released; set before its continuation runs. */
  volatile long waitedNanos;

  PullPlan(Job job, Block[] blocks, long minVersion, boolean afterPush, int worker, long clock,
      long created, Buffers buffers) {
    this.job = job;
    this.blocks = blocks;
    this.minVersion = minVersion;
    this.afterPush = afterPush;
    this.worker = worker;
    this.clock = clock;
    this.created = created;
    this.buffers = buffers;
  }

  /** Whether every block is at its minimum version and the mode lets the worker read. */
  boolean ready() {
    for (Block b : blocks) {
      // In sync/local rounds, a worker waiting for a version its own contribution has not
      // gone into (it joined late, or this shard restarted from a checkpoint without it)
      // reads the current version and contributes to the open round instead of waiting;
      // unless it said its contribution is on its way (a pipelined pull).
      if (b.version() < minVersion && (afterPush || job.rule.awaits(b, worker))) {
        return false;
      }
    }
    return job.rule.admitsPull(worker, job.members.jobClock(worker, clock));
  }

  /** Why the pull is still waiting, for the status that ends it at its deadline. */
  String describeWait() {
    for (Block b : blocks) {
      if (b.version() < minVersion) {
        return "block " + b.id + " is at version " + b.version() + ", the pull needs "
            + minVersion + "; " + job.rule.describeRound(b) + "; live workers "
            + job.members.liveWorkers();
      }
    }
    return job.rule.describePullWait(worker, job.members.jobClock(worker, clock));
  }

  /** Number of blocks in the pull. */
  public int size() {
    return blocks.length;
  }

  /** Gives the worker's stream slot back; idempotent. */
  public void release() {
    if (released.compareAndSet(false, true)) {
      job.releaseStream(worker);
    }
  }

  /** Microseconds the pull waited at the shard. */
  public long waitedMicros() {
    return waitedNanos / 1000;
  }

  /**
   * Copies block {@code i} and its version under the block's lock and encodes it in float32
   * chunks of at most {@code chunkFloats} floats.
   */
  public EncodedBlock encode(int i, int chunkFloats) throws ShardException {
    return encode(i, chunkFloats, ValueEncoding.VALUE_ENCODING_FP32);
  }

  /**
   * Encodes block {@code i} at one version in {@code encoding}, in chunks of at most
   * {@code chunkFloats} values. The values are read under the block's lock into one pooled
   * buffer (float32: encoded straight into it; 16-bit: copied, then encoded outside the lock),
   * which the chunks wrap without copying; {@link EncodedBlock#release()} gives it back once
   * the chunks are sent.
   *
   * @throws ShardException RESOURCE_EXHAUSTED when the shard's buffers are at their limit
   */
  public EncodedBlock encode(int i, int chunkFloats, ValueEncoding encoding)
      throws ShardException {
    Block b = blocks[i];
    int w = FloatCodec.bytesPerValue(encoding);
    byte[] buf = buffers.takeBytes(b.length * w);
    long version;
    if (encoding == ValueEncoding.VALUE_ENCODING_FP32) {
      b.lock.lock();
      try {
        version = b.version();
        FloatCodec.encodeInto(b.values, 0, b.length, encoding, buf, 0);
      } finally {
        b.lock.unlock();
      }
    } else {
      float[] copy;
      try {
        copy = buffers.takeFloats(b.length);
      } catch (ShardException e) {
        buffers.giveBytes(buf);
        throw e;
      }
      b.lock.lock();
      try {
        version = b.version();
        System.arraycopy(b.values, 0, copy, 0, b.length);
      } finally {
        b.lock.unlock();
      }
      FloatCodec.encodeInto(copy, 0, b.length, encoding, buf, 0);
      buffers.giveFloats(copy);
    }
    List<ByteString> chunks = new ArrayList<>((b.length + chunkFloats - 1) / chunkFloats);
    for (int off = 0; off < b.length; off += chunkFloats) {
      int n = Math.min(chunkFloats, b.length - off);
      chunks.add(UnsafeByteOperations.unsafeWrap(buf, off * w, n * w));
    }
    return new EncodedBlock(b.id, version, chunkFloats, chunks, encoding,
        () -> buffers.giveBytes(buf));
  }
}
