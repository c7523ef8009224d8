package io.parasol.experiments.runner;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Scripted membership changes of a local run (elastic workers), triggered by training progress,
 * never by wall time: {@code --join K@STEP} starts K more workers (the next free indices
 * m, m+1, ... up to {@code --max-workers}) when worker 0 has completed STEP steps, and
 * {@code --leave K@STEP} makes K workers (the highest indices live before STEP, never worker 0)
 * finish at STEP and leave the job the way every worker does when it is done.
 *
 * <p>STEP is on worker 0's clock: its completed steps, which are the job's version in sync and
 * local steps in local mode. A worker's own step budget follows from it: in sync and local a
 * worker trains to version (or round) STEP or to the end of the job, whenever it joined; in
 * async and ssp a worker that joined at J makes {@code end - J} pushes of its own, so at equal
 * pace every worker ends about when worker 0 does.
 */
public final class ElasticPlan {
  /** No membership changes: the initial workers run from start to end. */
  public static final ElasticPlan NONE = new ElasticPlan(List.of());

  /** One scripted change: {@code count} workers join or leave at worker 0's step {@code step}. */
  public record Change(boolean join, int count, long step) {
    /** Parses {@code K@STEP} (K ≥ 1, STEP ≥ 1) for {@code --join} or {@code --leave}. */
    public static Change parse(boolean join, String text) {
      String flag = join ? "--join" : "--leave";
      int at = text.indexOf('@');
      try {
        if (at > 0) {
          int count = Integer.parseInt(text.substring(0, at).trim());
          long step = Long.parseLong(text.substring(at + 1).trim());
          if (count >= 1 && step >= 1) {
            return new Change(join, count, step);
          }
        }
      } catch (NumberFormatException e) {
        // falls through to the message below
      }
      throw new IllegalArgumentException(flag + " takes K@STEP with K >= 1 workers and"
          + " STEP >= 1 (worker 0's completed steps), got '" + text + "'");
    }

    @Override
    public String toString() {
      return (join ? "--join " : "--leave ") + count + "@" + step;
    }
  }

  /**
   * One worker of the run: it starts when worker 0 has completed {@code start} steps (0: with
   * the job) and leaves at step {@code leave} (-1: at the end of the job).
   */
  record Worker(int index, long start, long leave) {
    boolean joins() {
      return start > 0;
    }

    /** Its own step budget for a run of {@code steps}: see the class comment. */
    long steps(long steps, boolean rounds) {
      long end = leave >= 0 ? leave : steps;
      return rounds ? end : end - start;
    }
  }

  private final List<Change> changes;

  public ElasticPlan(List<Change> changes) {
    this.changes = List.copyOf(changes);
  }

  /** Parses every {@code --join} and {@code --leave} value (either list may be null). */
  public static ElasticPlan parse(List<String> joins, List<String> leaves) {
    List<Change> c = new ArrayList<>();
    for (String j : joins == null ? List.<String>of() : joins) {
      c.add(Change.parse(true, j));
    }
    for (String l : leaves == null ? List.<String>of() : leaves) {
      c.add(Change.parse(false, l));
    }
    return new ElasticPlan(c);
  }

  public List<Change> changes() {
    return changes;
  }

  public boolean isEmpty() {
    return changes.isEmpty();
  }

  /**
   * Every worker of a run with {@code m} initial workers, room for {@code capacity} and
   * {@code steps} steps: the initial ones, then the joiners in the order they join. Throws
   * IllegalArgumentException, naming the flag, for a change that cannot happen: a step outside
   * 1..steps-1, more joiners than {@code --max-workers} leaves room for, more leavers than are
   * live besides worker 0.
   */
  List<Worker> resolve(int m, int capacity, long steps) {
    List<Change> sorted = new ArrayList<>(changes);
    sorted.sort(Comparator.comparingLong(Change::step));
    for (Change c : sorted) {
      if (c.step() >= steps) {
        throw new IllegalArgumentException(String.format(Locale.ROOT,
            "%s: STEP must be below the run's %d steps per worker", c, steps));
      }
    }
    List<Worker> workers = new ArrayList<>();
    for (int k = 0; k < m; k++) {
      workers.add(new Worker(k, 0, -1));
    }
    for (Change c : sorted) {
      if (!c.join()) {
        continue;
      }
      if (workers.size() + c.count() > capacity) {
        throw new IllegalArgumentException(String.format(Locale.ROOT,
            "%s: --max-workers %d leaves room for %d joiners in all, and %d joined before",
            c, capacity, capacity - m, workers.size() - m));
      }
      for (int i = 0; i < c.count(); i++) {
        workers.add(new Worker(workers.size(), c.step(), -1));
      }
    }
    for (Change c : sorted) {
      if (c.join()) {
        continue;
      }
      List<Worker> live = workers.stream()
          .filter(w -> w.index() != 0 && w.start() < c.step() && w.leave() < 0)
          .sorted(Comparator.comparingInt(Worker::index).reversed()).toList();
      if (live.size() < c.count()) {
        throw new IllegalArgumentException(String.format(Locale.ROOT,
            "%s: only %d workers besides worker 0 are live before step %d", c, live.size(),
            c.step()));
      }
      for (Worker w : live.subList(0, c.count())) {
        workers.set(w.index(), new Worker(w.index(), w.start(), c.step()));
      }
    }
    return workers;
  }
}
