package io.parasol.server.core;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.parasol.server.clock.Ticker;
import io.parasol.server.metrics.ShardMetrics;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * Pulls waiting for their versions (the sync/local barrier) or for the ssp bound. Whoever
 * changes versions, clocks or the live set calls {@link #signal()}; ready pulls are released
 * and their continuations run on the callback executor. When the job ends, {@link #end} refuses
 * every waiting pull at once, and every pull that comes to wait after it.
 *
 * <p>Thread safety: every method may be called concurrently. One lock guards the list; while
 * holding it, readiness checks take the rule's and the membership's locks (never the other way
 * round), and continuations run outside it. Each pull's continuation ({@code onReady} or
 * {@code onEnded}) runs at most once, and never both.
 */
final class PullWaiters {
  private record Waiter(PullPlan plan, Runnable onReady, Consumer<ShardException> onEnded) {}

  private final Object lock = new Object();
  private final Executor callbacks;
  private final ShardMetrics metrics;
  private final Ticker ticker;

  @GuardedBy("lock")
  private final List<Waiter> waiters = new ArrayList<>();
  /** Why the job ended, once it has; then no pull waits any more. */
  @GuardedBy("lock")
  private ShardException ended;

  PullWaiters(Executor callbacks, ShardMetrics metrics, Ticker ticker) {
    this.callbacks = callbacks;
    this.metrics = metrics;
    this.ticker = ticker;
  }

  /**
   * Runs {@code onReady} once the plan is ready: on the calling thread if it is ready now (no
   * thread hand-off, and the caller then schedules no deadline timer), else on the callback
   * executor when a push or clock change makes it ready. If the job has ended, or ends while
   * the pull waits, {@code onEnded} runs instead with the refusal to answer: on the calling
   * thread, or on the callback executor.
   */
  Cancellable await(PullPlan plan, Runnable onReady, Consumer<ShardException> onEnded) {
    Waiter w = new Waiter(plan, onReady, onEnded);
    ShardException gone;
    synchronized (lock) {
      gone = ended;
      if (gone == null && !plan.ready()) {
        waiters.add(w);
        return () -> {
          synchronized (lock) {
            waiters.remove(w);
          }
        };
      }
    }
    if (gone != null) {
      onEnded.accept(gone);
      return () -> {};
    }
    released(plan);
    onReady.run();
    return () -> {};
  }

  /**
   * The job ended: every waiting pull is refused with {@code why} now (on the callback
   * executor), and so is every later {@link #await}. Idempotent; the first reason stays.
   */
  void end(ShardException why) {
    List<Waiter> refused;
    ShardException reason;
    synchronized (lock) {
      if (ended == null) {
        ended = why;
      }
      reason = ended;
      refused = new ArrayList<>(waiters);
      waiters.clear();
    }
    for (Waiter w : refused) {
      callbacks.execute(() -> w.onEnded.accept(reason));
    }
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
