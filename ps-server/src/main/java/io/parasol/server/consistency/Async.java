package io.parasol.server.consistency;

import io.parasol.common.LrSchedules;
import io.parasol.proto.v1.BlockResult;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.PushHeader;
import io.parasol.proto.v1.PushKind;
import io.parasol.proto.v1.PushOutcome;
import io.parasol.proto.v1.PushResponse;
import io.parasol.proto.v1.StalenessLr;
import io.parasol.server.core.Block;
import io.parasol.server.core.ShardException;
import io.parasol.server.metrics.ShardMetrics;

/**
 * Asynchronous SGD (Downpour; Dean et al., "Large Scale Distributed Deep Networks", NIPS 2012):
 * each gradient is applied on arrival, x_i ← x_i − η_i·g_i(x_τ), with staleness
 * τ = ν_i(now) − ν_i(read). Options: drop updates with τ above max_staleness, and the
 * staleness-aware step η_i/max(1, τ) (Zhang, Gupta, Lian, Liu, "Staleness-aware Async-SGD for
 * Distributed Deep Learning", IJCAI 2016). η_i is the block's step size scaled by the job's
 * step-size schedule at the version the update is applied to ({@link LrSchedules}), before the
 * staleness division. {@link Ssp} applies pushes the same way and adds its
 * bound on pulls. (DASGD is a worker-side schedule of async pushes; the shard runs it as async.)
 */
class Async implements ConsistencyRule {
  final JobSpec spec;
  final RuleContext ctx;

  Async(JobSpec spec, RuleContext ctx) {
    this.spec = spec;
    this.ctx = ctx;
  }

  @Override
  public void checkHeader(PushHeader h, Block[] blocks) throws ShardException {
    if (h.getKind() != PushKind.PUSH_GRADIENT) {
      throw ShardException.invalid("mode " + ShardMetrics.modeTag(spec.getMode())
          + " takes gradients, got " + h.getKind());
    }
    for (int i = 0; i < blocks.length; i++) {
      long read = h.getBlocks(i).getVersion();
      if (Long.compareUnsigned(read, blocks[i].version()) > 0) {
        // The worker read a version this shard has not reached: the shard restarted from an
        // older checkpoint. Recoverable: the worker pulls again.
        throw ShardException.rolledBack("push claims version " + Long.toUnsignedString(read)
            + " of block " + blocks[i].id + ", which is only at version " + blocks[i].version()
            + " (the shard rolled back to a checkpoint); pull again");
      }
    }
  }

  @Override
  public final PushResponse apply(PushHeader h, Block[] blocks, float[][] values,
      long[] read) {
    PushResponse.Builder resp = PushResponse.newBuilder();
    int applied = 0;
    for (int i = 0; i < blocks.length; i++) {
      Block b = blocks[i];
      b.lock.lock();
      try {
        long tau = b.version() - h.getBlocks(i).getVersion();
        if (spec.getMaxStaleness() > 0 && tau > spec.getMaxStaleness()) {
          resp.addBlocks(BlockResult.newBuilder().setBlockId(b.id).setStaleness(tau)
              .setVersion(b.version()));
          continue;
        }
        float lr = LrSchedules.at(spec.getLrSchedule(), b.lr, b.version());
        if (spec.getStalenessLr() == StalenessLr.STALENESS_LR_INVERSE && tau > 1) {
          lr = lr / tau;
        }
        b.optimizer.step(b.values, values[i], lr);
        b.advance();
        applied++;
        ctx.recordStaleness(b.id, tau, read);
        ctx.recordUpdate(b.id);
        resp.addBlocks(BlockResult.newBuilder().setBlockId(b.id).setStaleness(tau)
            .setVersion(b.version()));
      } finally {
        b.lock.unlock();
      }
    }
    if (applied > 0) {
      ctx.pushOutcome(ShardMetrics.Outcome.APPLIED);
      resp.setOutcome(PushOutcome.PUSH_APPLIED);
    } else {
      ctx.pushOutcome(ShardMetrics.Outcome.DROPPED_STALE);
      resp.setOutcome(PushOutcome.PUSH_DROPPED_STALE);
    }
    return resp.build();
  }
}
