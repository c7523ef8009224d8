package io.parasol.server;

import io.parasol.proto.v1.BlockResult;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.PushHeader;
import io.parasol.proto.v1.PushKind;
import io.parasol.proto.v1.PushOutcome;
import io.parasol.proto.v1.PushResponse;
import io.parasol.proto.v1.StalenessLr;

/**
 * Asynchronous SGD (Downpour; Dean et al., "Large Scale Distributed Deep Networks", NIPS 2012):
 * each gradient is applied on arrival, x_i ← x_i − η_i·g_i(x_τ), with staleness
 * τ = ν_i(now) − ν_i(read). Options: drop updates with τ above max_staleness, and the
 * staleness-aware step η_i/max(1, τ) (Zhang, Gupta, Lian, Liu, "Staleness-aware Async-SGD for
 * Distributed Deep Learning", IJCAI 2016). Also the application rule of ssp, whose bound is
 * enforced on pulls.
 */
final class AsyncRule implements UpdateRule {
  private final JobSpec spec;
  private final ShardCore core;
  private ShardCore.Job job;

  AsyncRule(JobSpec spec, ShardCore core) {
    this.spec = spec;
    this.core = core;
  }

  @Override
  public void bind(ShardCore.Job job) {
    this.job = job;
  }

  @Override
  public void checkHeader(PushHeader h, ShardCore.BlockState[] blocks) throws ShardException {
    if (h.getKind() != PushKind.PUSH_GRADIENT) {
      throw ShardException.invalid("mode " + ShardCore.modeTag(spec.getMode())
          + " takes gradients, got " + h.getKind());
    }
    for (int i = 0; i < blocks.length; i++) {
      long read = h.getBlocks(i).getVersion();
      if (Long.compareUnsigned(read, blocks[i].version) > 0) {
        throw ShardException.invalid("push claims version " + Long.toUnsignedString(read)
            + " of block " + blocks[i].id + ", which is only at version " + blocks[i].version);
      }
    }
  }

  @Override
  public PushResponse apply(PushHeader h, ShardCore.BlockState[] blocks, float[][] values,
      long[] read) {
    PushResponse.Builder resp = PushResponse.newBuilder();
    int applied = 0;
    for (int i = 0; i < blocks.length; i++) {
      ShardCore.BlockState b = blocks[i];
      b.lock.lock();
      try {
        long tau = b.version - h.getBlocks(i).getVersion();
        if (spec.getMaxStaleness() > 0 && tau > spec.getMaxStaleness()) {
          resp.addBlocks(BlockResult.newBuilder().setBlockId(b.id).setStaleness(tau)
              .setVersion(b.version));
          continue;
        }
        float lr = b.lr;
        if (spec.getStalenessLr() == StalenessLr.STALENESS_LR_INVERSE && tau > 1) {
          lr = lr / tau;
        }
        b.optimizer.step(b.values, values[i], lr);
        b.version++;
        applied++;
        core.recordStaleness(job, b.id, tau, read);
        core.recordUpdate(job, b.id);
        resp.addBlocks(BlockResult.newBuilder().setBlockId(b.id).setStaleness(tau)
            .setVersion(b.version));
      } finally {
        b.lock.unlock();
      }
    }
    if (applied > 0) {
      core.pushesApplied.incrementAndGet();
      core.metrics().push(ShardMetrics.Outcome.APPLIED);
      resp.setOutcome(PushOutcome.PUSH_APPLIED);
    } else {
      core.pushesDroppedStale.incrementAndGet();
      core.metrics().push(ShardMetrics.Outcome.DROPPED_STALE);
      resp.setOutcome(PushOutcome.PUSH_DROPPED_STALE);
    }
    return resp.build();
  }
}
