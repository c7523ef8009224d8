package io.parasol.server.consistency;

import io.parasol.proto.v1.JobSpec;

/**
 * Stale synchronous parallel (Ho et al., "More Effective Distributed ML via a Stale Synchronous
 * Parallel Parameter Server", NIPS 2013): pushes are applied on arrival as in {@link Async}; a
 * worker at clock c may read only while c ≤ (slowest live worker's clock) + s, the staleness
 * bound.
 */
final class Ssp extends Async {
  Ssp(JobSpec spec, RuleContext ctx) {
    super(spec, ctx);
  }

  @Override
  public boolean admitsPull(int worker, long clock) {
    return clock <= ctx.slowestLiveClock() + spec.getStalenessBound();
  }

  @Override
  public String describePullWait(int worker, long clock) {
    return "worker " + worker + " at clock " + clock + " leads the slowest live worker (clock "
        + ctx.slowestLiveClock() + ") by more than the staleness bound "
        + spec.getStalenessBound();
  }
}
