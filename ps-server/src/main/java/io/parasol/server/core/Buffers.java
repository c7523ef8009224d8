package io.parasol.server.core;

import io.parasol.common.ArrayPool;

/** The shard's pooled buffers, shared by pulls and pushes. Thread-safe (the pools are). */
final class Buffers {
  /** Pull snapshots: encoded block values, by byte length. */
  final ArrayPool<byte[]> snapshotBytes = ArrayPool.bytes(4);

  /** Push staging (and 16-bit pull snapshots): float buffers, by block length. */
  final ArrayPool<float[]> stagingFloats = ArrayPool.floats(8);
}
