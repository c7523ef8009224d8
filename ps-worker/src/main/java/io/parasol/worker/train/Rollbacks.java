package io.parasol.worker.train;

import io.grpc.Status;
import io.parasol.client.PsClient;
import io.parasol.client.ShardRollback;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker's account of shard rollbacks ({@link ShardRollback}): one log line and one count
 * (and one increment of the worker's rollback metric, and of its updates-lost metric by what
 * the rollback lost) per rollback the client noticed, the job
 * declared again where a shard lost it, and the end of the run after {@link #MAX_STREAK}
 * rollbacks without a completed step in between. Used by {@link TrainingLoop} on its thread.
 */
final class Rollbacks {
  private static final Logger log = LoggerFactory.getLogger(TrainingLoop.class);

  /** Rollbacks in a row, without a step completed between them, after which the run stops. */
  static final int MAX_STREAK = 100;

  private final PsClient client;
  private final int worker;
  private final WorkerMetrics metrics;
  private long count;
  private int streak;
  private final List<ShardRollback> events = new ArrayList<>();

  Rollbacks(PsClient client, int worker, WorkerMetrics metrics) {
    this.client = client;
    this.worker = worker;
    this.metrics = metrics;
  }

  /** Rollbacks so far. */
  long count() {
    return count;
  }

  /** The rollbacks so far, oldest first, with what each lost. */
  List<ShardRollback> events() {
    return List.copyOf(events);
  }

  /** Logs and counts the rollbacks noticed since the last call; true if there were any. */
  boolean note() {
    List<ShardRollback> seen = client.drainRollbacks();
    for (ShardRollback r : seen) {
      count++;
      events.add(r);
      log.warn("worker {}: {}; pulling again (rollback {} of this worker)", worker, r.line(),
          count);
      if (metrics != null) {
        metrics.rollback(r);
      }
    }
    return !seen.isEmpty();
  }

  /**
   * After a call refused because {@code r}'s shard rolled back: counts it, declares the job
   * again if the shard lost it, and ends the run (FAILED_PRECONDITION, one line) after too many
   * rollbacks in a row. The caller then pulls again.
   */
  void recover(ShardRollback r) {
    note();
    if (++streak > MAX_STREAK) {
      throw Status.FAILED_PRECONDITION.withDescription("worker " + worker + ": " + MAX_STREAK
          + " shard rollbacks in a row without a step completed; last: " + r.line())
          .asRuntimeException();
    }
    if (r.kind() == ShardRollback.Kind.JOB_LOST) {
      client.redeclare();
      note();
    }
  }

  /** A step completed: the streak starts again. */
  void stepDone() {
    streak = 0;
  }
}
