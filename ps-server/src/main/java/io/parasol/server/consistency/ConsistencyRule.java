package io.parasol.server.consistency;

import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.PushHeader;
import io.parasol.proto.v1.PushResponse;
import io.parasol.server.core.Block;
import io.parasol.server.core.ShardException;
import java.util.function.Supplier;

/**
 * How a shard turns pushes into block updates under one consistency mode (sync, async, ssp,
 * local), and when a pull may be answered.
 *
 * <p>Call order: the shard builds one rule per job with {@link #create}. For each push,
 * {@link #checkHeader} runs when the header arrives, before any chunk is read, and
 * {@link #apply} once the whole push arrived and validated; both throw a
 * {@link ShardException} before changing anything when they refuse. {@link #awaits} and
 * {@link #admitsPull} decide whether a waiting pull is ready; {@link #membershipChanged} runs
 * after the live set changed; {@link #exclusive} wraps a checkpoint's snapshot.
 *
 * <p>Thread safety: every method may be called concurrently from gRPC threads. A rule guards
 * its own state, takes block locks only inside its own lock, and reaches the shard only through
 * the {@link RuleContext} it was built with (never holding its lock across
 * {@link RuleContext#signal()}).
 */
public interface ConsistencyRule {

  /** The rule of the spec's (validated) mode, over the shard's blocks (by global id). */
  static ConsistencyRule create(JobSpec spec, Block[] blocks, RuleContext ctx) {
    return switch (spec.getMode()) {
      case MODE_ASYNC -> new Async(spec, ctx);
      case MODE_SSP -> new Ssp(spec, ctx);
      case MODE_SYNC -> new Sync(spec, blocks, ctx);
      case MODE_LOCAL -> new LocalUpdate(spec, blocks, ctx);
      default -> throw new IllegalStateException("validated mode " + spec.getMode());
    };
  }

  /**
   * Whether a worker pulling a newer version of {@code b} must wait for it (true), or should
   * read the current version and contribute to its open round (false: rounds only).
   */
  default boolean awaits(Block b, int worker) {
    return true;
  }

  /**
   * Whether a worker at ssp clock {@code clock} may read now (the ssp bound); the clock is the
   * job's (a joiner's own steps plus the clock it joined at).
   */
  default boolean admitsPull(int worker, long clock) {
    return true;
  }

  /** Why {@link #admitsPull} holds a pull back, for its deadline status. */
  default String describePullWait(int worker, long clock) {
    return "the pull was ready";
  }

  /**
   * Runs {@code action} while no round completes, so a checkpoint sees every block of the
   * shard at one step.
   */
  default <T> T exclusive(Supplier<T> action) {
    return action.get();
  }

  /**
   * A worker joined or rejoined the live set (called before {@link #membershipChanged}). Rounds
   * that already have contributions do not wait for it: it counts from the next round.
   */
  default void workerJoined(int worker) {}

  /** The live set changed: rounds may now be complete. */
  default void membershipChanged() {}

  /** For a block whose round is open, who contributed and who is awaited. */
  default String describeRound(Block b) {
    return "updates are applied on arrival";
  }

  /** Checks a push's header against the mode; changes nothing. */
  void checkHeader(PushHeader header, Block[] blocks) throws ShardException;

  /**
   * Applies (or accepts into the current round) the push's values for {@code blocks};
   * {@code values[i]} belongs to {@code blocks[i]}; {@code read} holds the versions the worker
   * read of every block (-1 where unknown), for Age of Information.
   */
  PushResponse apply(PushHeader header, Block[] blocks, float[][] values, long[] read)
      throws ShardException;
}
