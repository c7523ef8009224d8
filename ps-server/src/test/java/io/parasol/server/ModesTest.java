package io.parasol.server;

import io.parasol.server.core.ShardCore;
import io.parasol.server.core.ShardException;
import io.parasol.server.core.PushPlan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.parasol.common.FloatCodec;
import io.parasol.common.Participation;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.PullRequest;
import io.parasol.proto.v1.PushKind;
import io.parasol.proto.v1.PushOutcome;
import io.parasol.proto.v1.PushResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** ssp clocks and local-update rounds, driven by scripted schedules on a ShardCore. */
class ModesTest {

  private static ShardCore core(JobSpec spec) throws ShardException {
    ShardCore core = new ShardCore(0, null, Runnable::run);
    core.init(spec, 0);
    return core;
  }

  private static PushResponse push(ShardCore core, JobSpec spec, int worker, long seq, long step,
      PushKind kind, long read, float... v) throws ShardException {
    PushPlan plan = core.preparePush(
        Specs.header(spec, worker, seq, step, kind, 0, read));
    plan.accept(0, 0, FloatCodec.encode(v));
    return core.push(plan);
  }

  /** A pull at {@code clock}; the counter goes up when the shard lets it through. */
  private static AtomicInteger pull(ShardCore core, JobSpec spec, int worker, long clock)
      throws ShardException {
    AtomicInteger released = new AtomicInteger();
    core.awaitPull(core.preparePull(PullRequest.newBuilder().setFingerprint(Specs.fp(spec))
        .setWorker(worker).setClock(clock).build()), released::incrementAndGet, Specs::neverEnds);
    return released;
  }

  /** A sync pull for {@code minVersion}, flagged as sent with the worker's push or not. */
  private static AtomicInteger syncPull(ShardCore core, JobSpec spec, int worker,
      long minVersion, boolean afterPush) throws ShardException {
    AtomicInteger released = new AtomicInteger();
    core.awaitPull(core.preparePull(PullRequest.newBuilder().setFingerprint(Specs.fp(spec))
        .setWorker(worker).setMinVersion(minVersion).setAfterPush(afterPush).build()),
        released::incrementAndGet, Specs::neverEnds);
    return released;
  }

  @Test
  void sync_pullSentWithThePush_waitsForTheRoundEvenBeforeThePushArrives() throws Exception {
    JobSpec spec = Specs.spec(Mode.MODE_SYNC, 2, 0.1f, 1).build();
    ShardCore core = core(spec);
    // Without the flag, a worker that has not contributed to round 0 reads version 0 at once.
    assertThat(syncPull(core, spec, 0, 1, false)).hasValue(1);
    // Pipelined: the pull for version 1 overtakes worker 0's push of step 0 and waits.
    AtomicInteger w0 = syncPull(core, spec, 0, 1, true);
    assertThat(w0).hasValue(0);
    push(core, spec, 0, 1, 0, PushKind.PUSH_GRADIENT, 0, 1f);
    assertThat(w0).as("worker 1 has not contributed yet").hasValue(0);
    AtomicInteger w1 = syncPull(core, spec, 1, 1, true);
    push(core, spec, 1, 1, 0, PushKind.PUSH_GRADIENT, 0, 3f);
    assertThat(w0).as("the round is complete").hasValue(1);
    assertThat(w1).hasValue(1);
    assertThat(core.waitingPulls()).isZero();
  }

  @Test
  void ssp_fastWorkerBlocksAtExactlySPlusOneAheadUntilTheSlowOneAdvances() throws Exception {
    JobSpec spec = Specs.spec(Mode.MODE_SSP, 2, 0.1f, 1).setStalenessBound(2).build();
    ShardCore core = core(spec);
    // Worker 0 runs ahead while worker 1 (clock 0) does nothing.
    for (int c = 0; c <= 2; c++) {
      assertThat(pull(core, spec, 0, c)).as("pull at clock %d, %d ahead", c, c).hasValue(1);
      push(core, spec, 0, c + 1, c, PushKind.PUSH_GRADIENT, c, 1f);
    }
    AtomicInteger blocked = pull(core, spec, 0, 3);
    assertThat(blocked).as("3 = s + 1 steps ahead").hasValue(0);
    assertThat(core.waitingPulls()).isEqualTo(1);

    assertThat(pull(core, spec, 1, 0)).hasValue(1);
    assertThat(blocked).hasValue(0);
    push(core, spec, 1, 1, 0, PushKind.PUSH_GRADIENT, 0, 1f);
    assertThat(blocked).as("released once the slow worker completed a step").hasValue(1);
    assertThat(core.waitingPulls()).isZero();
  }

  @Test
  void ssp_zeroBoundRunsInLockstepLikeSync() throws Exception {
    JobSpec spec = Specs.spec(Mode.MODE_SSP, 2, 0.1f, 1).setStalenessBound(0).build();
    ShardCore core = core(spec);
    List<String> order = new ArrayList<>();
    // Worker 0 is always ready first; worker 1 lags. Record when each may start each step.
    for (int step = 0; step < 3; step++) {
      AtomicInteger w0 = pull(core, spec, 0, step);
      assertThat(w0).as("worker 0 starts step %d only after both finished %d", step, step - 1)
          .hasValue(1);
      order.add("w0:" + step);
      push(core, spec, 0, step + 1, step, PushKind.PUSH_GRADIENT, core.blockVersion(0), 1f);
      AtomicInteger early = pull(core, spec, 0, step + 1);
      assertThat(early).as("worker 0 may not start step %d before worker 1 finishes %d",
          step + 1, step).hasValue(0);
      AtomicInteger w1 = pull(core, spec, 1, step);
      assertThat(w1).hasValue(1);
      order.add("w1:" + step);
      push(core, spec, 1, step + 1, step, PushKind.PUSH_GRADIENT, core.blockVersion(0), 1f);
      assertThat(early).hasValue(1);
    }
    assertThat(order).containsExactly("w0:0", "w1:0", "w0:1", "w1:1", "w0:2", "w1:2");
    // Two updates per step, as sync would apply one averaged update per step.
    assertThat(core.blockVersion(0)).isEqualTo(6);
  }

  @Test
  void local_averagesTheRoundsModels() throws Exception {
    JobSpec spec = Specs.spec(Mode.MODE_LOCAL, 3, 0.1f, 1).setLocalSteps(4).build();
    ShardCore core = core(spec);
    assertThat(push(core, spec, 0, 1, 0, PushKind.PUSH_MODEL, 0, 3f).getOutcome())
        .isEqualTo(PushOutcome.PUSH_ACCEPTED);
    push(core, spec, 1, 1, 0, PushKind.PUSH_MODEL, 0, 6f);
    assertThat(core.blockVersion(0)).isZero();
    assertThat(push(core, spec, 2, 1, 0, PushKind.PUSH_MODEL, 0, 9f).getOutcome())
        .isEqualTo(PushOutcome.PUSH_APPLIED);
    assertThat(core.blockVersion(0)).isEqualTo(1);
    assertThat(core.blockValues(0)[0]).isEqualTo((3f + 6f + 9f) * (1f / 3));
    assertThatThrownBy(() -> push(core, spec, 0, 2, 0, PushKind.PUSH_GRADIENT, 0, 1f))
        .isInstanceOfSatisfying(ShardException.class,
            e -> assertThat(e.code()).isEqualTo(Status.Code.INVALID_ARGUMENT));
  }

  @Test
  void local_partialParticipationTakesOnlyTheSampledWorkers() throws Exception {
    JobSpec spec = Specs.spec(Mode.MODE_LOCAL, 4, 0.1f, 1).setLocalSteps(1)
        .setParticipation(0.5f).build();
    ShardCore core = core(spec);
    int[] sampled = Participation.sample(spec.getSeed(), 0, 4, 0.5f);
    assertThat(sampled).hasSize(2);
    int outsider = 0;
    while (Arrays.binarySearch(sampled, outsider) >= 0) {
      outsider++;
    }
    final int out = outsider;
    assertThatThrownBy(() -> push(core, spec, out, 1, 0, PushKind.PUSH_MODEL, 0, 1f))
        .isInstanceOfSatisfying(ShardException.class, e -> {
          assertThat(e.code()).isEqualTo(Status.Code.FAILED_PRECONDITION);
          assertThat(e.getMessage()).contains("not sampled for round 0");
        });
    push(core, spec, sampled[0], 1, 0, PushKind.PUSH_MODEL, 0, 2f);
    push(core, spec, sampled[1], 1, 0, PushKind.PUSH_MODEL, 0, 4f);
    assertThat(core.blockVersion(0)).isEqualTo(1);
    assertThat(core.blockValues(0)[0]).isEqualTo(3f);
  }

  @Test
  void participation_isReproducibleForASeedAndVariesByRound() {
    int[] a = Participation.sample(11, 5, 10, 0.3f);
    assertThat(a).isEqualTo(Participation.sample(11, 5, 10, 0.3f)).hasSize(3).isSorted();
    boolean differs = false;
    for (int r = 0; r < 20 && !differs; r++) {
      differs = !Arrays.equals(a, Participation.sample(11, r, 10, 0.3f));
    }
    assertThat(differs).isTrue();
    assertThat(Participation.sample(11, 5, 10, 1f)).hasSize(10);
    assertThat(Participation.count(10, 0.01f)).isEqualTo(1);
  }

  @Test
  void blockLearningRate_overridesTheJobsStepSize() throws Exception {
    JobSpec.Builder b = Specs.spec(Mode.MODE_ASYNC, 1, 0.1f, 1, 1);
    b.setBlocks(1, b.getBlocks(1).toBuilder().setLearningRate(0.5f));
    JobSpec spec = b.build();
    ShardCore core = core(spec);
    float x0 = core.blockValues(0)[0];
    float x1 = core.blockValues(1)[0];
    push(core, spec, 0, 1, 0, PushKind.PUSH_GRADIENT, 0, 2f);
    PushPlan plan = core.preparePush(
        Specs.header(spec, 0, 2, 1, PushKind.PUSH_GRADIENT, 1, 0));
    plan.accept(1, 0, FloatCodec.encode(new float[] {2f}));
    core.push(plan);
    assertThat(core.blockValues(0)[0]).isEqualTo(x0 - 0.1f * 2f);
    assertThat(core.blockValues(1)[0]).isEqualTo(x1 - 0.5f * 2f);
  }
}
