package io.parasol.client;

/**
 * A shard rolled back: it restarted (restored from a checkpoint, or without its job), so the
 * blocks and versions a worker read from it before may be gone. Recoverable: the worker pulls
 * again (after declaring the job again when {@link Kind#JOB_LOST}) and carries on.
 *
 * @param shard the shard's index
 * @param previousIncarnation the incarnation the client knew (0: none yet)
 * @param incarnation the shard's incarnation now (0: it did not say)
 * @param kind how the client noticed
 * @param description one line for the log
 */
public record ShardRollback(int shard, long previousIncarnation, long incarnation, Kind kind,
    String description) {

  /** How the client noticed the rollback. */
  public enum Kind {
    /** A response carried a new incarnation. */
    RESTARTED,
    /** A push was refused because it was computed from blocks the shard no longer has. */
    PUSH_REFUSED,
    /** The shard has no job: it restarted without a checkpoint. */
    JOB_LOST
  }

  /** One line: which shard, what happened, the incarnations. */
  public String line() {
    return "shard " + shard + " rolled back (" + kind + ", incarnation "
        + Long.toHexString(previousIncarnation) + " -> " + Long.toHexString(incarnation) + "): "
        + description;
  }
}
