package io.parasol.client;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Runs a task periodically: the clock behind {@link ParasolClient}'s background heartbeats.
 * Tests inject one that runs the task when they say so.
 */
@FunctionalInterface
public interface Ticker {

  /** A periodic task that can be stopped. */
  @FunctionalInterface
  interface Ticking {
    /**
     * Stops the task: no run starts after this returns, and a run in progress has finished
     * by then.
     */
    void stop();
  }

  /** Runs {@code task} every {@code period}, the first time one period from now. */
  Ticking every(Duration period, Runnable task);

  /** A ticker on its own daemon thread named {@code threadName}. */
  static Ticker daemon(String threadName) {
    return (period, task) -> {
      ScheduledExecutorService ex = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, threadName);
        t.setDaemon(true);
        return t;
      });
      long nanos = Math.max(1, period.toNanos());
      ex.scheduleWithFixedDelay(task, nanos, nanos, TimeUnit.NANOSECONDS);
      return () -> {
        ex.shutdown();
        try {
          if (!ex.awaitTermination(1, TimeUnit.MINUTES)) {
            ex.shutdownNow();
          }
        } catch (InterruptedException e) {
          ex.shutdownNow();
          Thread.currentThread().interrupt();
        }
      };
    };
  }
}
