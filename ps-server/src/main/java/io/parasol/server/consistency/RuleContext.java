package io.parasol.server.consistency;

import io.parasol.server.clock.Ticker;
import io.parasol.server.metrics.ShardMetrics;

/**
 * What a {@link ConsistencyRule} may ask of the shard that runs it, and nothing more: the live
 * set, the ssp clocks, where to record staleness and updates, and a way to wake waiting pulls.
 *
 * <p>Thread safety: every method may be called concurrently and from under a rule's or a
 * block's lock; none of them takes a lock a rule could hold, except {@link #signal()}, which a
 * rule calls only after releasing its own lock.
 */
public interface RuleContext {
  /** Whether a worker's lease is current; lock-free. */
  boolean isLive(int worker);

  /** The smallest ssp clock among live workers. */
  long slowestLiveClock();

  /** Records the staleness τ (and Age of Information) of one applied or accepted gradient. */
  void recordStaleness(int blockId, long tau, long[] read);

  /** Records one applied update of a block (its version went up by one). */
  void recordUpdate(int blockId);

  /** Counts a push's outcome. */
  void pushOutcome(ShardMetrics.Outcome outcome);

  /** Records a completed round: how long it was open and how many contributed. */
  void roundCompleted(long nanos, int contributors);

  /** Versions or the live set changed: re-check waiting pulls. */
  void signal();

  /** The shard's clock. */
  Ticker ticker();
}
