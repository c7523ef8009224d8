package io.parasol.client;

import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A shard rolled back: it restarted (restored from a checkpoint, or without its job), so the
 * blocks and versions a worker read from it before may be gone. Recoverable: the worker pulls
 * again (after declaring the job again when {@link Kind#JOB_LOST}) and carries on.
 *
 * <p>Updates lost, as this client saw them: for each of the shard's blocks i, the highest
 * version {@code seenBefore_i} the client saw from the shard's previous incarnation (in pulls
 * and push acknowledgements) and the version {@code restored_i} the shard restored (from its
 * Status restore record; 0 when it restarted without the job), block i lost
 * {@code max(0, seenBefore_i − restored_i)} updates, and the rollback lost
 * {@link #updatesLost} = the most any block of the shard lost. When every push updates every
 * block of the shard, that is the number of iterations the shard lost. It is a lower bound of
 * the true loss: updates applied after the client's last look at the shard (other workers'
 * pushes it never read, a push whose acknowledgement never came back) are invisible to it.
 *
 * @param shard the shard's index
 * @param previousIncarnation the incarnation the client knew (0: none yet)
 * @param incarnation the shard's incarnation now (0: it did not say)
 * @param kind how the client noticed
 * @param description one line for the log
 * @param seenBefore per block id of the shard, the highest version the client saw from the
 *     previous incarnation (empty on a record that is not a noticed event)
 * @param restored per block id, the version the shard restored (empty while not known)
 * @param updatesLost the most updates any block of the shard lost as the client saw it, or
 *     {@link #UNKNOWN} (not resolved yet, or the shard could not say: see
 *     {@link PsClient#drainRollbacks()})
 */
public record ShardRollback(int shard, long previousIncarnation, long incarnation, Kind kind,
    String description, Map<Integer, Long> seenBefore, Map<Integer, Long> restored,
    long updatesLost) {

  /** {@link #updatesLost} when it is not known. */
  public static final long UNKNOWN = -1;

  /** How the client noticed the rollback. */
  public enum Kind {
    /** A response carried a new incarnation. */
    RESTARTED,
    /** A push was refused because it was computed from blocks the shard no longer has. */
    PUSH_REFUSED,
    /** The shard has no job: it restarted without a checkpoint. */
    JOB_LOST
  }

  /** Copies the maps (sorted by block id, unmodifiable). */
  public ShardRollback {
    seenBefore = Collections.unmodifiableSortedMap(new TreeMap<>(seenBefore));
    restored = Collections.unmodifiableSortedMap(new TreeMap<>(restored));
  }

  /** A rollback whose loss is not known (nothing seen before it recorded). */
  public ShardRollback(int shard, long previousIncarnation, long incarnation, Kind kind,
      String description) {
    this(shard, previousIncarnation, incarnation, kind, description, Map.of(), Map.of(),
        UNKNOWN);
  }

  /** This rollback with its loss worked out against the versions the shard restored. */
  public ShardRollback resolved(Map<Integer, Long> restoredVersions) {
    return new ShardRollback(shard, previousIncarnation, incarnation, kind, description,
        seenBefore, restoredVersions, updatesLost(seenBefore, restoredVersions));
  }

  /** Whether {@link #updatesLost} is known. */
  public boolean lossKnown() {
    return updatesLost != UNKNOWN;
  }

  /**
   * The most updates any block lost: the maximum over the blocks of {@code seenBefore} of
   * {@code max(0, seenBefore_i − restored_i)}, a block missing from {@code restored} counting
   * as restored at 0 (the job was declared afresh); 0 when {@code seenBefore} is empty.
   */
  public static long updatesLost(Map<Integer, Long> seenBefore, Map<Integer, Long> restored) {
    long most = 0;
    for (Map.Entry<Integer, Long> e : seenBefore.entrySet()) {
      most = Math.max(most, e.getValue() - restored.getOrDefault(e.getKey(), 0L));
    }
    return most;
  }

  /**
   * The updates a job lost at its shards' restarts, from every worker's rollbacks: the sum over
   * the restarts (a shard's new incarnation) of the most any worker saw lost at it. Not the
   * sum over workers: every worker sees the same restart lose the same updates, each a part of
   * them (what it had read), so the largest view is the best lower bound. Unknown losses count
   * 0. Rollbacks of one shard that do not name the new incarnation (0) count as one restart.
   */
  public static long jobUpdatesLost(Collection<? extends Collection<ShardRollback>> byWorker) {
    Map<String, Long> byRestart = new HashMap<>();
    for (Collection<ShardRollback> worker : byWorker) {
      for (ShardRollback r : worker) {
        byRestart.merge(r.shard() + "/" + r.incarnation(), Math.max(0, r.updatesLost()),
            Math::max);
      }
    }
    return byRestart.values().stream().mapToLong(Long::longValue).sum();
  }

  /** One line: which shard, what happened, the incarnations, the updates lost. */
  public String line() {
    return "shard " + shard + " rolled back (" + kind + ", incarnation "
        + Long.toHexString(previousIncarnation) + " -> " + Long.toHexString(incarnation) + "): "
        + description + "; " + lossLine();
  }

  private String lossLine() {
    if (!lossKnown()) {
      return "updates lost unknown";
    }
    int worst = -1;
    long most = -1;
    for (Map.Entry<Integer, Long> e : seenBefore.entrySet()) {
      long lost = Math.max(0, e.getValue() - restored.getOrDefault(e.getKey(), 0L));
      if (lost > most) {
        most = lost;
        worst = e.getKey();
      }
    }
    return worst < 0 ? "updates lost 0 (nothing read before)" : "updates lost " + updatesLost
        + " (at least; block " + worst + " seen at version " + seenBefore.get(worst)
        + ", restored " + restored.getOrDefault(worst, 0L) + ")";
  }
}
