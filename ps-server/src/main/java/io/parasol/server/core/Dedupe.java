package io.parasol.server.core;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.parasol.proto.v1.PushResponse;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Exactly-once pushes: remembers the outcome of each worker's recent (worker, sequence) pairs,
 * so a retried push is answered with the first attempt's outcome instead of being applied again.
 * Sequence 0 means "no dedupe". Each worker's window holds its last {@link #WINDOW} sequences.
 */
final class Dedupe {
  static final int WINDOW = 256;

  private final Object lock = new Object();

  @GuardedBy("lock")
  private final Map<Integer, LinkedHashMap<Long, Entry>> byWorker = new HashMap<>();

  Dedupe(int numWorkers) {}

  /** The outcome of one push: pending until the first attempt finishes. */
  static final class Entry {
    private PushResponse response;
    private ShardException error;
    private boolean done;

    synchronized void complete(PushResponse r, ShardException e) {
      response = r;
      error = e;
      done = true;
      notifyAll();
    }

    /** Waits for the first attempt (it is already running; this is short) and repeats it. */
    synchronized PushResponse await() throws ShardException {
      boolean interrupted = false;
      while (!done) {
        try {
          wait();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
      if (error != null) {
        throw error;
      }
      return response;
    }
  }

  /**
   * Whether {@code (worker, sequence)} was seen: a retry, answered with the first attempt's
   * outcome; the mode's checks of the header (is the round still open?) do not apply to it.
   */
  boolean seen(int worker, long sequence) {
    if (sequence == 0) {
      return false;
    }
    synchronized (lock) {
      LinkedHashMap<Long, Entry> w = byWorker.get(worker);
      return w != null && w.containsKey(sequence);
    }
  }

  /** Null when this is the first attempt (now registered); otherwise the earlier attempt. */
  Entry begin(int worker, long sequence) {
    if (sequence == 0) {
      return null;
    }
    synchronized (lock) {
      LinkedHashMap<Long, Entry> w = byWorker.computeIfAbsent(worker,
          k -> new LinkedHashMap<>(16, 0.75f, false) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, Entry> e) {
              return size() > WINDOW;
            }
          });
      Entry prior = w.get(sequence);
      if (prior != null) {
        return prior;
      }
      w.put(sequence, new Entry());
      return null;
    }
  }

  void finish(int worker, long sequence, PushResponse response) {
    complete(worker, sequence, response, null);
  }

  void fail(int worker, long sequence, ShardException error) {
    complete(worker, sequence, null, error);
  }

  private void complete(int worker, long sequence, PushResponse r, ShardException e) {
    if (sequence == 0) {
      return;
    }
    Entry entry;
    synchronized (lock) {
      LinkedHashMap<Long, Entry> w = byWorker.get(worker);
      entry = w == null ? null : w.get(sequence);
    }
    if (entry != null) {
      entry.complete(r, e);
    }
  }
}
