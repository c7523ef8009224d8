package io.parasol.server.core;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.parasol.server.clock.Ticker;
import io.parasol.server.metrics.ShardMetrics;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * Pulls waiting for their versions (the sync/local barrier) or for the ssp bound. Whoever
 * changes versions, clocks or the live set calls {@link #signal()}; ready pulls are released
 * and their continuations run on the callback executor.
 *
 * <p>Thread safety: every method may be called concurrently. One lock guards the list; while
 * holding it, readiness checks take the rule's and the membership's locks (never the other way
 * round), and continuations run outside it.
 */
final class PullWaiters {
  private record Waiter(PullPlan plan, Runnable onReady) {}

  private final Object lock = new Object();
  private final Executor callbacks;
  private final ShardMetrics metrics;
  private final Ticker ticker;

  @GuardedBy("lock")
  private final List<Waiter> waiters = new ArrayList<>();

  PullWaiters(Executor callbacks, ShardMetrics metrics, Ticker ticker) {
    this.callbacks = callbacks;
    this.metrics = metrics;
    this.ticker = ticker;
  }

  /**
   * Runs {@code onReady} once the plan is ready: on the calling thread if it is ready now (no
   * thread hand-off, and the caller then schedules no deadline timer), else on the callback
   * executor when a push or clock change makes it ready.
   */
  Cancellable await(PullPlan plan, Runnable onReady) {
    Waiter w = new Waiter(plan, onReady);
    synchronized (lock) {
      if (!plan.ready()) {
        waiters.add(w);
        return () -> {
          synchronized (lock) {
            waiters.remove(w);
          }
        };
      }
    }
    released(plan);
    onReady.run();
    return () -> {};
  }

  /** Re-checks waiting pulls after versions or clocks changed. */
  void signal() {
    List<Waiter> ready = new ArrayList<>();
    synchronized (lock) {
      for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
        Waiter w = it.next();
        if (w.plan.ready()) {
          it.remove();
          ready.add(w);
        }
      }
    }
    for (Waiter w : ready) {
      released(w.plan);
      callbacks.execute(w.onReady);
    }
  }

  private void released(PullPlan plan) {
    plan.waitedNanos = ticker.nanoTime() - plan.created;
    metrics.pull(plan.waitedNanos);
  }

  int size() {
    synchronized (lock) {
      return waiters.size();
    }
  }
}
