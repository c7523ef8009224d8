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

  void checkHeader(PushHeader header, ShardCore.BlockState[] blocks) throws ShardException;

  /**
   * Applies (or accepts into the current round) the push's values for {@code blocks};
   * {@code values[i]} belongs to {@code blocks[i]}.
   */
  PushResponse apply(PushHeader header, ShardCore.BlockState[] blocks, float[][] values)
      throws ShardException;
}
