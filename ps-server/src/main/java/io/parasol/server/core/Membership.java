package io.parasol.server.core;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.parasol.server.clock.Ticker;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * Who is in a job: each worker's lease (when it was last heard from), whether it is live or
 * left, and its ssp clock (steps completed). Leases are measured on the injected
 * {@link Ticker}.
 *
 * <p>Thread safety: every method may be called concurrently; one internal lock guards the
 * state, and no method calls out while holding it. {@link #isLive} reads a lock-free copy, for
 * callers that hold other locks (the consistency rules). Callers react to the changes the
 * methods report (rounds, waiting pulls) after they return.
 */
final class Membership {
  private final Object lock = new Object();
  private final Ticker ticker;
  private final long leaseNanos;

  @GuardedBy("lock")
  private final long[] clocks;

  @GuardedBy("lock")
  private final long[] lastSeen;

  @GuardedBy("lock")
  private final boolean[] live;

  /** Workers that said they finished: out of the live set until they push or heartbeat. */
  @GuardedBy("lock")
  private final boolean[] left;

  /** A lock-free copy of {@link #live}, written under the lock. */
  private final AtomicIntegerArray liveView;

  /** Every worker starts live, with a full lease to show up in. */
  Membership(int workers, long leaseNanos, Ticker ticker) {
    this.ticker = ticker;
    this.leaseNanos = leaseNanos;
    this.clocks = new long[workers];
    this.lastSeen = new long[workers];
    this.live = new boolean[workers];
    this.left = new boolean[workers];
    this.liveView = new AtomicIntegerArray(workers);
    Arrays.fill(live, true);
    for (int w = 0; w < workers; w++) {
      liveView.set(w, 1);
    }
    Arrays.fill(lastSeen, ticker.nanoTime());
  }

  long leaseNanos() {
    return leaseNanos;
  }

  /**
   * Renews a worker's lease; returns true when the worker had expired and rejoined. A worker
   * that left rejoins only when {@code active} (it pushed or heartbeat), not by reading.
   */
  boolean touch(int worker, boolean active) {
    synchronized (lock) {
      lastSeen[worker] = ticker.nanoTime();
      if (left[worker] && !active) {
        return false;
      }
      left[worker] = false;
      if (!live[worker]) {
        live[worker] = true;
        liveView.set(worker, 1);
        return true;
      }
      return false;
    }
  }

  /** The worker finished: out of the live set at once. Returns whether it was live. */
  boolean leave(int worker) {
    synchronized (lock) {
      boolean wasLive = live[worker];
      live[worker] = false;
      liveView.set(worker, 0);
      left[worker] = true;
      return wasLive;
    }
  }

  /**
   * Takes a worker out of the live set before its lease ends (its last connection closed);
   * returns whether it was live. Like an expiry, its next call brings it back.
   */
  boolean suspect(int worker) {
    synchronized (lock) {
      if (!live[worker]) {
        return false;
      }
      live[worker] = false;
      liveView.set(worker, 0);
      return true;
    }
  }

  /** Expires the leases of workers silent for longer than the lease; returns them. */
  List<Integer> expire() {
    List<Integer> expired = new ArrayList<>();
    long now = ticker.nanoTime();
    synchronized (lock) {
      for (int w = 0; w < live.length; w++) {
        if (live[w] && now - lastSeen[w] > leaseNanos) {
          live[w] = false;
          liveView.set(w, 0);
          expired.add(w);
        }
      }
    }
    return expired;
  }

  /** Raises a worker's clock to {@code clock}; true if it went up. */
  boolean advanceClock(int worker, long clock) {
    synchronized (lock) {
      if (clock > clocks[worker]) {
        clocks[worker] = clock;
        return true;
      }
      return false;
    }
  }

  /** The smallest clock among live workers (a large value when none is live). */
  long slowestLiveClock() {
    synchronized (lock) {
      long min = Long.MAX_VALUE;
      for (int w = 0; w < clocks.length; w++) {
        if (live[w]) {
          min = Math.min(min, clocks[w]);
        }
      }
      return min == Long.MAX_VALUE ? Long.MAX_VALUE / 2 : min;
    }
  }

  /** The live workers, ascending. */
  List<Integer> liveWorkers() {
    List<Integer> out = new ArrayList<>();
    synchronized (lock) {
      for (int w = 0; w < live.length; w++) {
        if (live[w]) {
          out.add(w);
        }
      }
    }
    return out;
  }

  /** Whether a worker is live; takes no lock. */
  boolean isLive(int worker) {
    return liveView.get(worker) != 0;
  }

  long[] clocks() {
    synchronized (lock) {
      return clocks.clone();
    }
  }

  void restoreClocks(long[] saved) {
    synchronized (lock) {
      System.arraycopy(saved, 0, clocks, 0, Math.min(saved.length, clocks.length));
    }
  }
}
