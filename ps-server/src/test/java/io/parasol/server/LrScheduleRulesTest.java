package io.parasol.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.parasol.common.FloatCodec;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.LrSchedule;
import io.parasol.proto.v1.LrScheduleKind;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.PushHeader;
import io.parasol.proto.v1.PushKind;
import io.parasol.proto.v1.StalenessLr;
import io.parasol.server.checkpoint.Checkpoints;
import io.parasol.server.core.PushPlan;
import io.parasol.server.core.ShardCore;
import io.parasol.server.core.ShardException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shard applies the job's step-size schedule: with plain SGD, the update applied at version
 * ν is exactly η·factor(ν / T)·g, in sync and async, and a shard restored from a checkpoint
 * goes on with the factor of its restored version.
 */
class LrScheduleRulesTest {
  @TempDir
  Path dir;

  private static final LrSchedule COSINE_OVER_4 = LrSchedule.newBuilder()
      .setKind(LrScheduleKind.LR_SCHEDULE_COSINE).setHorizon(4).build();

  private static ShardCore core(JobSpec spec) throws ShardException {
    ShardCore core = new ShardCore(0, null, Runnable::run);
    core.init(spec, 0);
    return core;
  }

  private static void push(ShardCore core, PushHeader h, float... g) throws ShardException {
    PushPlan plan = core.preparePush(h);
    plan.accept(h.getBlocks(0).getBlockId(), 0, FloatCodec.encode(g));
    core.push(plan);
  }

  /** cos schedule over 4 updates, at version v, written out: (1 + cos(π v / 4)) / 2. */
  private static float cosineStep(float lr, int v) {
    return (float) (lr * 0.5 * (1 + Math.cos(Math.PI * v / 4)));
  }

  @Test
  void sync_eachStepAppliesTheScheduledStepSize() throws Exception {
    JobSpec spec = Specs.spec(Mode.MODE_SYNC, 1, 0.5f, 2).setLrSchedule(COSINE_OVER_4).build();
    ShardCore core = core(spec);
    for (int t = 0; t < 4; t++) {
      float[] before = core.blockValues(0);
      push(core, Specs.header(spec, 0, t + 1, t, PushKind.PUSH_GRADIENT, 0, t), 1f, -2f);
      float[] x = core.blockValues(0);
      float eta = cosineStep(0.5f, t);
      assertThat(x[0]).as("step %d", t).isEqualTo(before[0] - eta * 1f);
      assertThat(x[1]).as("step %d", t).isEqualTo(before[1] - eta * -2f);
    }
    assertThat(cosineStep(0.5f, 0)).isEqualTo(0.5f);
    assertThat(cosineStep(0.5f, 2)).isEqualTo(0.25f);
  }

  @Test
  void async_stepDecayAtTheMilestone_beforeTheStalenessDivision() throws Exception {
    JobSpec spec = Specs.spec(Mode.MODE_ASYNC, 2, 1f, 1)
        .setStalenessLr(StalenessLr.STALENESS_LR_INVERSE)
        .setLrSchedule(LrSchedule.newBuilder().setKind(LrScheduleKind.LR_SCHEDULE_STEP)
            .setHorizon(4).addMilestones(0.5f).setFactor(0.25f)).build();
    ShardCore core = core(spec);
    // Versions 0 and 1 before the milestone (half of 4 updates), 2 and 3 after it.
    float[] eta = {1f, 1f, 0.25f, 0.25f};
    for (int v = 0; v < 4; v++) {
      float before = core.blockValues(0)[0];
      push(core, Specs.header(spec, v % 2, v / 2 + 1, 0, PushKind.PUSH_GRADIENT, 0, v), 1f);
      assertThat(core.blockValues(0)[0]).as("version %d", v).isEqualTo(before - eta[v] * 1f);
    }
    // A stale push (read version 2, applied at 4: τ = 2) past the horizon: 0.25 / 2.
    float before = core.blockValues(0)[0];
    push(core, Specs.header(spec, 0, 3, 0, PushKind.PUSH_GRADIENT, 0, 2), 1f);
    assertThat(core.blockValues(0)[0]).isEqualTo(before - 0.125f * 1f);
  }

  @Test
  void constantSchedule_isTheUnscheduledRule() throws Exception {
    JobSpec plain = Specs.spec(Mode.MODE_ASYNC, 1, 0.3f, 1).build();
    ShardCore core = core(plain);
    for (int v = 0; v < 3; v++) {
      float before = core.blockValues(0)[0];
      push(core, Specs.header(plain, 0, v + 1, 0, PushKind.PUSH_GRADIENT, 0, v), 2f);
      assertThat(core.blockValues(0)[0]).isEqualTo(before - 0.3f * 2f);
    }
  }

  @Test
  void restoredShard_goesOnWithTheFactorOfItsVersion() throws Exception {
    JobSpec spec = Specs.spec(Mode.MODE_ASYNC, 1, 0.5f, 1).setLrSchedule(COSINE_OVER_4)
        .build();
    ShardCore a = core(spec);
    push(a, Specs.header(spec, 0, 1, 0, PushKind.PUSH_GRADIENT, 0, 0), 1f);
    push(a, Specs.header(spec, 0, 2, 0, PushKind.PUSH_GRADIENT, 0, 1), 1f);
    Checkpoints cp = new Checkpoints(dir, 0);
    cp.write(a.snapshot());
    ShardCore b = new ShardCore(0, null, Runnable::run);
    b.restore(cp.load(), "test");
    assertThat(b.blockVersion(0)).isEqualTo(2);
    float before = b.blockValues(0)[0];
    push(b, Specs.header(spec, 0, 3, 0, PushKind.PUSH_GRADIENT, 0, 2), 1f);
    assertThat(b.blockValues(0)[0]).isEqualTo(before - cosineStep(0.5f, 2));
  }
}
