package io.parasol.server.consistency;

import io.parasol.common.LrSchedules;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.PushKind;
import io.parasol.server.core.Block;

/**
 * Synchronous SGD (bulk synchronous parallel): step t of block i collects gradients computed at
 * version t; once K arrived, x_i ← x_i − η_i·(1/K)·Σ g_k is applied once (through the block's
 * optimizer), η_i scaled by the job's step-size schedule at version t ({@link LrSchedules}).
 * K defaults to the number of workers; K &lt; m is the "backup workers" scheme of
 * Chen et al., "Revisiting Distributed Synchronous SGD" (2016): the first K win and later
 * gradients for the step are dropped (ABORTED) and counted. m is the live set: a worker that
 * joins counts from the next step, one that leaves no longer holds steps (see {@link Rounds}).
 */
final class Sync extends Rounds {
  Sync(JobSpec spec, Block[] blocks, RuleContext ctx) {
    super(spec, blocks, ctx, false);
  }

  @Override
  PushKind kind() {
    return PushKind.PUSH_GRADIENT;
  }

  @Override
  String unit() {
    return "step";
  }

  @Override
  boolean recordsStaleness() {
    return true;
  }

  @Override
  void finishRound(Block b, float[] mean) {
    b.optimizer.step(b.values, mean, LrSchedules.at(spec.getLrSchedule(), b.lr, b.version()));
  }
}
