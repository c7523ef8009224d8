package io.parasol.server.core;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.parasol.server.optim.BlockOptimizer;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A block this shard owns: its values, version ν_i, step size η_i and optimizer state.
 *
 * <p>{@link #lock} guards the values, the optimizer and every write of the version; the version
 * is also readable without it (volatile), for waiting predicates. A thread holding a block's
 * lock takes no other shard lock.
 */
public final class Block {
  public final int id;
  public final int length;
  /** η_i: the block's step size. */
  public final float lr;
  public final ReentrantLock lock = new ReentrantLock();

  @GuardedBy("lock")
  public final float[] values;

  @GuardedBy("lock")
  public final BlockOptimizer optimizer;

  private volatile long version;

  Block(int id, float[] values, float lr, BlockOptimizer optimizer) {
    this.id = id;
    this.length = values.length;
    this.values = values;
    this.lr = lr;
    this.optimizer = optimizer;
  }

  /** ν_i: updates applied so far (read without the lock). */
  public long version() {
    return version;
  }

  /** One update was applied: ν_i += 1. Call under {@link #lock}. */
  public void advance() {
    version++;
  }

  /** Restores the version from a checkpoint. Call under {@link #lock}. */
  void restoreVersion(long v) {
    version = v;
  }
}
