package io.parasol.server.core;

import io.parasol.proto.v1.PushHeader;
import java.security.SecureRandom;

/**
 * A shard's incarnation: random, non-zero, chosen when the shard starts, so that a shard that
 * restarted (restored from a checkpoint, or lost its job) has a new one. Every response carries
 * it; a push computed from another incarnation's blocks is refused as rolled back.
 */
final class Incarnation {
  private final long value;
  private final int shard;

  Incarnation(int shard) {
    SecureRandom rng = new SecureRandom();
    long v;
    do {
      v = rng.nextLong();
    } while (v == 0);
    this.value = v;
    this.shard = shard;
  }

  long value() {
    return value;
  }

  /** Refuses a push whose worker read its blocks from another incarnation (0: not said). */
  void checkPush(PushHeader h) throws ShardException {
    if (h.getIncarnation() != 0 && h.getIncarnation() != value) {
      throw ShardException.rolledBack("push was computed from blocks of incarnation "
          + Long.toUnsignedString(h.getIncarnation()) + " of shard " + shard
          + ", which restarted since (now " + Long.toUnsignedString(value) + "); pull again");
    }
  }

  /** Adds the shard and this incarnation to a refusal that carries a reason; returns it. */
  ShardException stamp(ShardException e) {
    if (e.reason() != null) {
      e.with("shard", Integer.toString(shard)).with("incarnation", Long.toUnsignedString(value));
    }
    return e;
  }
}
