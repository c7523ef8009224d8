package io.parasol.worker.train;

import io.parasol.common.BlockLayout;

/**
 * DASGD message arrivals: the worker's own blocks are always read fresh; another block's fresh
 * copy replaces the worker's copy only when the arrival process says it arrived.
 */
final class StaleCopies {
  private final BlockLayout layout;
  private final boolean[] own;
  private final long[] copyVersions;
  private final Arrivals.Channel channel;
  private boolean first = true;

  /**
   * @param ownBlocks the blocks the worker updates (null: all)
   * @param channel the worker's arrival process over the blocks
   */
  StaleCopies(BlockLayout layout, int[] ownBlocks, Arrivals.Channel channel) {
    this.layout = layout;
    int blocks = layout.numBlocks();
    own = new boolean[blocks];
    if (ownBlocks == null) {
      java.util.Arrays.fill(own, true);
    } else {
      for (int id : ownBlocks) {
        own[id] = true;
      }
    }
    copyVersions = new long[blocks];
    this.channel = channel;
  }

  /** Copies the arrived blocks of {@code fresh} into {@code x}; returns the versions read. */
  long[] merge(float[] fresh, long[] freshVersions, float[] x) {
    for (BlockLayout.Block b : layout.blocks()) {
      if (first || own[b.id()] || channel.arrives(b.id())) {
        System.arraycopy(fresh, b.offset(), x, b.offset(), b.length());
        copyVersions[b.id()] = freshVersions[b.id()];
      }
    }
    first = false;
    return copyVersions.clone();
  }

  /** The next merge takes every block fresh (after a shard rolled back). */
  void reset() {
    first = true;
  }
}
