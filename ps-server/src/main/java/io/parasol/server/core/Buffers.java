package io.parasol.server.core;

import io.grpc.Status;
import io.parasol.common.ArrayPool;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The shard's pooled buffers, shared by pulls and pushes, within a byte limit: a push's
 * staging and a pull's snapshot are the heap a shard takes per request, beyond what the job
 * itself holds. Every buffer allocated counts (in the heap it occupies, see
 * {@link MemoryBudget#arrayBytes}) until the garbage collector may have it, pooled ones
 * included; a request whose buffer would pass the limit first empties the pools, and if that
 * is not enough is RESOURCE_EXHAUSTED (clients retry it after a backoff) instead of meeting
 * an OutOfMemoryError. The limit is what {@code --max-bytes} leaves beside the job
 * ({@link #limit(long)}, set when a job is created). Thread-safe.
 */
final class Buffers {
  /** Pull snapshots: encoded block values, by byte length. */
  private final ArrayPool<byte[]> snapshotBytes = ArrayPool.bytes(4);

  /** Push staging (and 16-bit pull snapshots): float buffers, by block length. */
  private final ArrayPool<float[]> stagingFloats = ArrayPool.floats(8);

  /** Heap taken by the buffers allocated and not yet dropped: in use or pooled. */
  private final AtomicLong held = new AtomicLong();

  private volatile long limit = Long.MAX_VALUE;

  /** The most heap the buffers may take; requests past it are refused. */
  void limit(long bytes) {
    limit = bytes;
  }

  /** Heap the buffers take now, in bytes. */
  long held() {
    return held.get();
  }

  /** A float buffer of exactly {@code length}: a push's staging. */
  float[] takeFloats(int length) throws ShardException {
    float[] a = stagingFloats.poll(length);
    if (a == null) {
      reserve(MemoryBudget.arrayBytes(length, Float.BYTES));
      a = new float[length];
    }
    return a;
  }

  /** Gives a buffer from {@link #takeFloats} back; null is ignored. */
  void giveFloats(float[] a) {
    if (a != null && !stagingFloats.give(a)) {
      held.addAndGet(-MemoryBudget.arrayBytes(a.length, Float.BYTES));
    }
  }

  /** A byte buffer of exactly {@code length}: a pull's snapshot. */
  byte[] takeBytes(int length) throws ShardException {
    byte[] a = snapshotBytes.poll(length);
    if (a == null) {
      reserve(MemoryBudget.arrayBytes(length, 1));
      a = new byte[length];
    }
    return a;
  }

  /** Gives a buffer from {@link #takeBytes} back; null is ignored. */
  void giveBytes(byte[] a) {
    if (a != null && !snapshotBytes.give(a)) {
      held.addAndGet(-MemoryBudget.arrayBytes(a.length, 1));
    }
  }

  private void reserve(long bytes) throws ShardException {
    if (tryReserve(bytes)) {
      return;
    }
    // Pooled buffers of other lengths may be what stands in the way.
    dropPooled();
    if (tryReserve(bytes)) {
      return;
    }
    throw new ShardException(Status.Code.RESOURCE_EXHAUSTED, String.format(Locale.ROOT,
        "the shard's push and pull buffers take %s and may take %s (--max-bytes less the"
            + " job's blocks and optimizer state); this request needs %s more: retry later,"
            + " or give the shard more heap", MemoryBudget.mib(held.get()),
        MemoryBudget.mib(limit), MemoryBudget.mib(bytes)));
  }

  private boolean tryReserve(long bytes) {
    long max = limit;
    for (;;) {
      long h = held.get();
      if (h + bytes > max && h > 0) {
        return false;
      }
      if (held.compareAndSet(h, h + bytes)) {
        return true;
      }
    }
  }

  /** Empties the pools, uncounting each array dropped. */
  private void dropPooled() {
    for (float[] a; (a = stagingFloats.pollAny()) != null; ) {
      held.addAndGet(-MemoryBudget.arrayBytes(a.length, Float.BYTES));
    }
    for (byte[] a; (a = snapshotBytes.pollAny()) != null; ) {
      held.addAndGet(-MemoryBudget.arrayBytes(a.length, 1));
    }
  }
}
