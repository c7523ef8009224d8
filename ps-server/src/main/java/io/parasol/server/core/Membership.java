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
 * <p>Elastic workers: the job has room for {@code capacity} workers (its max_workers); the
 * first {@code initial} (its num_workers) start live, the others are absent until their first
 * call, which makes them live (a join). A joiner's ssp clock starts at the slowest live
 * worker's: the clock it reports counts its own steps, and the shard adds that base, so a
 * joiner neither holds the others back nor runs ahead of them. A worker that left or expired
 * and comes back keeps its clock (it is a rejoin, not a join).
 *
 * <p>Thread safety: every method may be called concurrently; one internal lock guards the
 * state, and no method calls out while holding it. {@link #isLive} reads a lock-free copy, for
 * callers that hold other locks (the consistency rules). Callers react to the changes the
 * methods report (rounds, waiting pulls) after they return.
 */
final class Membership {
  /** What a call did to its worker's membership. */
  enum Change {
    /** Nothing: it was live, or it left and only read. */
    NONE,
    /** It had expired, left or lost its connection, and is live again. */
    REJOINED,
    /** Its first call: it was absent (an index beyond the initial workers) and joined. */
    JOINED
  }

  private final Object lock = new Object();
  private final Ticker ticker;
  private final long leaseNanos;

  @GuardedBy("lock")
  private final long[] clocks;

  /** Added to the clock a worker reports: the slowest live clock when it joined. */
  @GuardedBy("lock")
  private final long[] clockBase;

  @GuardedBy("lock")
  private final long[] lastSeen;

  @GuardedBy("lock")
  private final boolean[] live;

  /** Workers that said they finished: out of the live set until they push or heartbeat. */
  @GuardedBy("lock")
  private final boolean[] left;

  /** Workers never heard from that did not start live (elastic indices not yet joined). */
  @GuardedBy("lock")
  private final boolean[] absent;

  /**
   * Joiners whose clock a checkpoint restored: their base is unknown until they report a clock,
   * and is then chosen so that their job clock goes on from the restored one.
   */
  @GuardedBy("lock")
  private final boolean[] rebase;

  private final int initial;

  /** A lock-free copy of {@link #live}, written under the lock. */
  private final AtomicIntegerArray liveView;

  /** Every worker starts live, with a full lease to show up in. */
  Membership(int workers, long leaseNanos, Ticker ticker) {
    this(workers, workers, leaseNanos, ticker);
  }

  /**
   * Workers {@code 0..initial-1} start live, with a full lease to show up in; workers
   * {@code initial..capacity-1} are absent until they call.
   */
  Membership(int initial, int capacity, long leaseNanos, Ticker ticker) {
    this.ticker = ticker;
    this.leaseNanos = leaseNanos;
    this.clocks = new long[capacity];
    this.clockBase = new long[capacity];
    this.lastSeen = new long[capacity];
    this.live = new boolean[capacity];
    this.left = new boolean[capacity];
    this.absent = new boolean[capacity];
    this.rebase = new boolean[capacity];
    this.initial = initial;
    this.liveView = new AtomicIntegerArray(capacity);
    for (int w = 0; w < capacity; w++) {
      live[w] = w < initial;
      absent[w] = w >= initial;
      liveView.set(w, w < initial ? 1 : 0);
    }
    Arrays.fill(lastSeen, ticker.nanoTime());
  }

  /** The most workers the job may have. */
  int capacity() {
    return live.length;
  }

  long leaseNanos() {
    return leaseNanos;
  }

  /**
   * Renews a worker's lease and says whether it joined or rejoined. A worker that left rejoins
   * only when {@code active} (it pushed or heartbeat), not by reading; an absent worker joins at
   * any call.
   */
  Change touch(int worker, boolean active) {
    synchronized (lock) {
      lastSeen[worker] = ticker.nanoTime();
      if (absent[worker]) {
        absent[worker] = false;
        if (!rebase[worker]) {
          long base = slowestLiveClockHeld();
          clockBase[worker] = base == NONE_LIVE ? 0 : base;
          clocks[worker] = Math.max(clocks[worker], clockBase[worker]);
        }
        live[worker] = true;
        liveView.set(worker, 1);
        return Change.JOINED;
      }
      if (left[worker] && !active) {
        return Change.NONE;
      }
      left[worker] = false;
      if (!live[worker]) {
        live[worker] = true;
        liveView.set(worker, 1);
        return Change.REJOINED;
      }
      return Change.NONE;
    }
  }

  /**
   * Whether every worker that took part said it finished (and none came back since); elastic
   * workers that never joined do not count.
   */
  boolean allLeft() {
    synchronized (lock) {
      for (int w = 0; w < left.length; w++) {
        if (!left[w] && !absent[w]) {
          return false;
        }
      }
      return true;
    }
  }

  /** The worker finished: out of the live set at once. Returns whether it was live. */
  boolean leave(int worker) {
    synchronized (lock) {
      boolean wasLive = live[worker];
      absent[worker] = false;
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

  /**
   * Raises a worker's clock to {@code clock} steps of its own (plus its base, for a joiner);
   * true if it went up.
   */
  boolean advanceClock(int worker, long clock) {
    synchronized (lock) {
      if (rebase[worker]) {
        clockBase[worker] = Math.max(0, clocks[worker] - clock);
        rebase[worker] = false;
      }
      long c = clockBase[worker] + clock;
      if (c > clocks[worker]) {
        clocks[worker] = c;
        return true;
      }
      return false;
    }
  }

  /** The job's clock of a worker that reports {@code clock} steps of its own. */
  long jobClock(int worker, long clock) {
    synchronized (lock) {
      return (rebase[worker] ? Math.max(0, clocks[worker] - clock) : clockBase[worker]) + clock;
    }
  }

  private static final long NONE_LIVE = Long.MIN_VALUE;

  /** The smallest clock among live workers (a large value when none is live). */
  long slowestLiveClock() {
    synchronized (lock) {
      long min = slowestLiveClockHeld();
      return min == NONE_LIVE ? Long.MAX_VALUE / 2 : min;
    }
  }

  @GuardedBy("lock")
  private long slowestLiveClockHeld() {
    long min = Long.MAX_VALUE;
    boolean any = false;
    for (int w = 0; w < clocks.length; w++) {
      if (live[w]) {
        min = Math.min(min, clocks[w]);
        any = true;
      }
    }
    return any ? min : NONE_LIVE;
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

  /**
   * Restores the clocks of a checkpoint. Joiners' bases are not in it: a joiner with a restored
   * clock takes, at its first reported clock, the base that continues its restored clock.
   */
  void restoreClocks(long[] saved) {
    synchronized (lock) {
      System.arraycopy(saved, 0, clocks, 0, Math.min(saved.length, clocks.length));
      for (int w = initial; w < Math.min(saved.length, clocks.length); w++) {
        rebase[w] = saved[w] > 0;
      }
    }
  }
}
