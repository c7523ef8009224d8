package io.parasol.server;

import io.parasol.proto.v1.PushHeader;
import io.parasol.proto.v1.PushResponse;

/**
 * How a shard turns pushes into block updates under one consistency mode.
 *
 * <p>{@link #checkHeader} runs when a push's header arrives, before any chunk is read;
 * {@link #apply} runs once the whole push arrived and validated. Both throw a
 * {@link ShardException} before changing anything when they refuse a push.
 */
interface UpdateRule {

  /** Called once, when the job the rule belongs to is built. */
  void bind(ShardCore.Job job);

  /**
   * Whether a worker pulling a newer version of {@code b} must wait for it (true), or should
   * read the current version and contribute to its open round (false: rounds only).
   */
  default boolean awaits(ShardCore.BlockState b, int worker) {
    return true;
  }

  /**
   * Runs {@code action} while no round completes, so a checkpoint sees every block of the
   * shard at one step.
   */
  default <T> T exclusive(java.util.function.Supplier<T> action) {
    return action.get();
  }

  /** The live set changed: rounds may now be complete. */
  default void membershipChanged() {}

  /** For a block whose round is open, who contributed and who is awaited. */
  default String describeRound(ShardCore.BlockState b) {
    return "updates are applied on arrival";
  }

  void checkHeader(PushHeader header, ShardCore.BlockState[] blocks) throws ShardException;

  /**
   * Applies (or accepts into the current round) the push's values for {@code blocks};
   * {@code values[i]} belongs to {@code blocks[i]}; {@code read} holds the versions the worker
   * read of every block (-1 where unknown), for Age of Information.
   */
  PushResponse apply(PushHeader header, ShardCore.BlockState[] blocks, float[][] values,
      long[] read) throws ShardException;
}
