package io.parasol.server.consistency;

import io.parasol.common.JobSpecs;
import io.parasol.common.Participation;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.PushKind;
import io.parasol.server.core.Block;

/**
 * Local-update SGD with periodic averaging (Stich, "Local SGD Converges Fast and Communicates
 * Little", ICLR 2019): round r of block i collects models; once K arrived, x_i ← (1/K)·Σ x_k.
 * With partial participation f only the workers {@link Participation} samples for round r may
 * contribute, and K defaults to their number. With elastic workers the sample is drawn over
 * every index up to max_workers; sampled indices that are not live give nothing, and K counts
 * only the live (see {@link Rounds}).
 */
final class LocalUpdate extends Rounds {
  LocalUpdate(JobSpec spec, Block[] blocks, RuleContext ctx) {
    super(spec, blocks, ctx, Participation.count(JobSpecs.maxWorkers(spec),
        spec.getParticipation()) < JobSpecs.maxWorkers(spec));
  }

  @Override
  PushKind kind() {
    return PushKind.PUSH_MODEL;
  }

  @Override
  String unit() {
    return "round";
  }

  @Override
  boolean recordsStaleness() {
    return false;
  }

  @Override
  void finishRound(Block b, float[] mean) {
    System.arraycopy(mean, 0, b.values, 0, mean.length);
  }
}
