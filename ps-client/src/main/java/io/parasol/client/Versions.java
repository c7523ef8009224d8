package io.parasol.client;

import java.util.Arrays;

/**
 * The version ν_i of every block i that a pull read (the number of updates applied to the block
 * when it was read), by block id. Immutable. A push hands these back to the shards as the
 * versions its gradient was computed from: they measure its staleness τ = ν_i(now) − ν_i(read)
 * and, in sync mode, tell which step the gradient belongs to.
 */
public final class Versions {
  private final long[] byBlock;

  private Versions(long[] byBlock) {
    this.byBlock = byBlock;
  }

  /** Versions from an array indexed by block id (copied). */
  public static Versions of(long... byBlock) {
    for (long v : byBlock) {
      if (v < 0) {
        throw new IllegalArgumentException("versions are >= 0, got " + Arrays.toString(byBlock));
      }
    }
    return new Versions(byBlock.clone());
  }

  /** Every one of {@code numBlocks} blocks at version 0 (nothing read yet). */
  public static Versions zeros(int numBlocks) {
    return new Versions(new long[numBlocks]);
  }

  /** Wraps an array the caller no longer touches. */
  static Versions wrap(long[] byBlock) {
    return new Versions(byBlock);
  }

  /** The number of blocks. */
  public int size() {
    return byBlock.length;
  }

  /** The version of block {@code blockId}. */
  public long get(int blockId) {
    return byBlock[blockId];
  }

  /** The smallest version over all blocks (in sync mode, the step that was read). */
  public long min() {
    return Arrays.stream(byBlock).min().orElse(0);
  }

  /** The largest version over all blocks. */
  public long max() {
    return Arrays.stream(byBlock).max().orElse(0);
  }

  /** A copy of the versions, by block id. */
  public long[] toArray() {
    return byBlock.clone();
  }

  /** The array itself, for the client's own use; never modified. */
  long[] array() {
    return byBlock;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Versions v && Arrays.equals(byBlock, v.byBlock);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(byBlock);
  }

  @Override
  public String toString() {
    return "Versions" + Arrays.toString(byBlock);
  }
}
