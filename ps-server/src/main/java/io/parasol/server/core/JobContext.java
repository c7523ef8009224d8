package io.parasol.server.core;

import io.parasol.server.clock.Ticker;
import io.parasol.server.consistency.RuleContext;
import io.parasol.server.metrics.ShardMetrics;

/** What a job's consistency rule may see of its shard: membership, metrics, waiters, clock. */
final class JobContext implements RuleContext {
  private final Job j;
  private final ShardMetrics metrics;
  private final PullWaiters waiters;
  private final Ticker ticker;

  JobContext(Job j, Ticker ticker) {
    this.j = j;
    this.metrics = j.metrics;
    this.waiters = j.waiters;
    this.ticker = ticker;
  }

  @Override
  public boolean isLive(int worker) {
    return j.members.isLive(worker);
  }

  @Override
  public long slowestLiveClock() {
    return j.members.slowestLiveClock();
  }

  @Override
  public void recordStaleness(int blockId, long tau, long[] read) {
    j.tracker.record(blockId, tau, read, j.blocks::version);
  }

  @Override
  public void recordUpdate(int blockId) {
    metrics.updated();
    j.tracker.applied(blockId);
  }

  @Override
  public void pushOutcome(ShardMetrics.Outcome outcome) {
    metrics.push(outcome);
    j.tracker.pushed(outcome == ShardMetrics.Outcome.APPLIED);
  }

  @Override
  public void roundCompleted(long nanos, int contributors) {
    metrics.round(nanos, contributors);
    j.tracker.roundCompleted();
  }

  @Override
  public void signal() {
    waiters.signal();
  }

  @Override
  public Ticker ticker() {
    return ticker;
  }
}
