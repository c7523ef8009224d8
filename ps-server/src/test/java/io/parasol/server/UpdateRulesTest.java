package io.parasol.server;

import io.parasol.server.core.ShardCore;
import io.parasol.server.core.ShardException;
import io.parasol.server.core.PushPlan;
import io.parasol.server.core.PullPlan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.parasol.common.FloatCodec;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.PushHeader;
import io.parasol.proto.v1.PushKind;
import io.parasol.proto.v1.PushOutcome;
import io.parasol.proto.v1.PushResponse;
import io.parasol.proto.v1.PullRequest;
import io.parasol.proto.v1.StalenessLr;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The update rules in isolation: a ShardCore driven directly, no gRPC. */
class UpdateRulesTest {

  private static ShardCore core(JobSpec spec) throws ShardException {
    ShardCore core = new ShardCore(0, null, Runnable::run);
    core.init(spec, 0);
    return core;
  }

  private static PushResponse push(ShardCore core, PushHeader h, float... g)
      throws ShardException {
    PushPlan plan = core.preparePush(h);
    plan.accept(h.getBlocks(0).getBlockId(), 0, FloatCodec.encode(g));
    return core.push(plan);
  }

  @Test
  void async_appliesEachPushOnArrivalInOrder() throws Exception {
    JobSpec spec = Specs.spec(Mode.MODE_ASYNC, 2, 0.1f, 3).build();
    ShardCore core = core(spec);
    float[] x0 = core.blockValues(0);

    PushResponse r1 = push(core, Specs.header(spec, 0, 1, 0, PushKind.PUSH_GRADIENT, 0, 0),
        1f, 2f, 3f);
    PushResponse r2 = push(core, Specs.header(spec, 1, 1, 0, PushKind.PUSH_GRADIENT, 0, 0),
        10f, 20f, 30f);

    float[] x = core.blockValues(0);
    for (int i = 0; i < 3; i++) {
      float expected = x0[i] - 0.1f * (i + 1);
      expected = expected - 0.1f * (10f * (i + 1));
      assertThat(x[i]).isEqualTo(expected);
    }
    assertThat(r1.getOutcome()).isEqualTo(PushOutcome.PUSH_APPLIED);
    assertThat(r1.getBlocks(0).getStaleness()).isZero();
    assertThat(r2.getBlocks(0).getStaleness()).isEqualTo(1);
    assertThat(core.blockVersion(0)).isEqualTo(2);
    assertThat(core.status().getStalenessSum()).isEqualTo(1);
    assertThat(core.status().getStalenessMax()).isEqualTo(1);
  }

  @Test
  void async_inverseStalenessDividesStepByTau() throws Exception {
    JobSpec spec = Specs.spec(Mode.MODE_ASYNC, 1, 1f, 1)
        .setStalenessLr(StalenessLr.STALENESS_LR_INVERSE).build();
    ShardCore core = core(spec);
    for (int i = 0; i < 4; i++) {
      push(core, Specs.header(spec, 0, i + 1, i, PushKind.PUSH_GRADIENT, 0, i), 0f);
    }
    float before = core.blockValues(0)[0];
    PushResponse r = push(core, Specs.header(spec, 0, 5, 4, PushKind.PUSH_GRADIENT, 0, 0), 8f);
    assertThat(r.getBlocks(0).getStaleness()).isEqualTo(4);
    assertThat(core.blockValues(0)[0]).isEqualTo(before - 8f / 4);
  }

  @Test
  void async_maxStalenessDropsAndCounts() throws Exception {
    JobSpec spec = Specs.spec(Mode.MODE_ASYNC, 1, 1f, 1).setMaxStaleness(2).build();
    ShardCore core = core(spec);
    for (int i = 0; i < 3; i++) {
      push(core, Specs.header(spec, 0, i + 1, i, PushKind.PUSH_GRADIENT, 0, i), 0f);
    }
    float[] before = core.blockValues(0);
    PushResponse r = push(core, Specs.header(spec, 0, 9, 3, PushKind.PUSH_GRADIENT, 0, 0), 5f);
    assertThat(r.getOutcome()).isEqualTo(PushOutcome.PUSH_DROPPED_STALE);
    assertThat(core.blockValues(0)).isEqualTo(before);
    assertThat(core.blockVersion(0)).isEqualTo(3);
    assertThat(core.status().getPushesDroppedStale()).isEqualTo(1);
  }

  @Test
  void sync_appliesOnceWithTheMeanOfKGradients() throws Exception {
    JobSpec spec = Specs.spec(Mode.MODE_SYNC, 3, 0.5f, 2).build();
    ShardCore core = core(spec);
    float[] x0 = core.blockValues(0);

    PushResponse a = push(core, Specs.header(spec, 0, 1, 0, PushKind.PUSH_GRADIENT, 0, 0),
        1f, 4f);
    push(core, Specs.header(spec, 1, 1, 0, PushKind.PUSH_GRADIENT, 0, 0), 2f, 5f);
    assertThat(a.getOutcome()).isEqualTo(PushOutcome.PUSH_ACCEPTED);
    assertThat(core.blockValues(0)).isEqualTo(x0);
    assertThat(core.blockVersion(0)).isZero();

    PushResponse c = push(core, Specs.header(spec, 2, 1, 0, PushKind.PUSH_GRADIENT, 0, 0),
        3f, 6f);
    assertThat(c.getOutcome()).isEqualTo(PushOutcome.PUSH_APPLIED);
    assertThat(core.blockVersion(0)).isEqualTo(1);
    float[] x = core.blockValues(0);
    float mean0 = (1f + 2f + 3f) * (1f / 3);
    float mean1 = (4f + 5f + 6f) * (1f / 3);
    assertThat(x[0]).isEqualTo(x0[0] - 0.5f * mean0);
    assertThat(x[1]).isEqualTo(x0[1] - 0.5f * mean1);
    assertThat(core.status().getUpdatesApplied()).isEqualTo(1);
  }

  @Test
  void sync_backupWorkersDropTheLateGradient() throws Exception {
    JobSpec spec = Specs.spec(Mode.MODE_SYNC, 3, 1f, 1).setQuorum(2).build();
    ShardCore core = core(spec);
    float x0 = core.blockValues(0)[0];
    push(core, Specs.header(spec, 0, 1, 0, PushKind.PUSH_GRADIENT, 0, 0), 2f);
    push(core, Specs.header(spec, 1, 1, 0, PushKind.PUSH_GRADIENT, 0, 0), 4f);
    assertThat(core.blockVersion(0)).isEqualTo(1);
    float x1 = core.blockValues(0)[0];
    assertThat(x1).isEqualTo(x0 - 3f);

    assertThatThrownBy(() -> push(core,
        Specs.header(spec, 2, 1, 0, PushKind.PUSH_GRADIENT, 0, 0), 100f))
        .isInstanceOfSatisfying(ShardException.class,
            e -> assertThat(e.code()).isEqualTo(Status.Code.ABORTED));
    assertThat(core.blockValues(0)[0]).isEqualTo(x1);
    assertThat(core.blockVersion(0)).isEqualTo(1);
    assertThat(core.status().getPushesDroppedLate()).isEqualTo(1);
  }

  @Test
  void sync_secondGradientFromOneWorkerIsRefused() throws Exception {
    JobSpec spec = Specs.spec(Mode.MODE_SYNC, 2, 1f, 1).build();
    ShardCore core = core(spec);
    push(core, Specs.header(spec, 0, 1, 0, PushKind.PUSH_GRADIENT, 0, 0), 2f);
    assertThatThrownBy(() -> push(core,
        Specs.header(spec, 0, 2, 0, PushKind.PUSH_GRADIENT, 0, 0), 2f))
        .isInstanceOfSatisfying(ShardException.class,
            e -> assertThat(e.code()).isEqualTo(Status.Code.ALREADY_EXISTS));
    assertThatThrownBy(() -> push(core,
        Specs.header(spec, 1, 1, 5, PushKind.PUSH_GRADIENT, 0, 0), 2f))
        .isInstanceOfSatisfying(ShardException.class,
            e -> assertThat(e.code()).isEqualTo(Status.Code.OUT_OF_RANGE));
    assertThat(core.blockVersion(0)).isZero();
  }

  @Test
  void retriedPush_isAppliedOnce() throws Exception {
    JobSpec spec = Specs.spec(Mode.MODE_ASYNC, 1, 1f, 1).build();
    ShardCore core = core(spec);
    float x0 = core.blockValues(0)[0];
    PushHeader h = Specs.header(spec, 0, 42, 0, PushKind.PUSH_GRADIENT, 0, 0);
    PushResponse first = push(core, h, 1f);
    PushResponse again = push(core, h, 1f);
    assertThat(again).isEqualTo(first);
    assertThat(core.blockValues(0)[0]).isEqualTo(x0 - 1f);
    assertThat(core.blockVersion(0)).isEqualTo(1);
  }

  @Test
  void sync_retriedPush_getsItsFirstAnswer_whileTheRoundIsOpenAndAfterItClosed()
      throws Exception {
    // A worker whose call failed after the shard took its push sends it again (same sequence):
    // it must hear what the first attempt got, not ALREADY_EXISTS (round open) or ABORTED
    // (round closed since), which a worker counts as a refused or late contribution.
    JobSpec spec = Specs.spec(Mode.MODE_SYNC, 2, 1f, 1).build();
    ShardCore core = core(spec);
    float x0 = core.blockValues(0)[0];
    PushHeader h = Specs.header(spec, 0, 7, 0, PushKind.PUSH_GRADIENT, 0, 0);
    PushResponse first = push(core, h, 2f);
    assertThat(first.getOutcome()).isEqualTo(PushOutcome.PUSH_ACCEPTED);
    assertThat(push(core, h, 2f)).isEqualTo(first);

    push(core, Specs.header(spec, 1, 1, 0, PushKind.PUSH_GRADIENT, 0, 0), 4f);
    assertThat(core.blockVersion(0)).isEqualTo(1);
    assertThat(push(core, h, 2f)).isEqualTo(first);
    assertThat(core.blockVersion(0)).isEqualTo(1);
    assertThat(core.blockValues(0)[0]).isEqualTo(x0 - 3f);
    // A new sequence for the closed step is still late.
    assertThatThrownBy(() -> push(core,
        Specs.header(spec, 0, 8, 0, PushKind.PUSH_GRADIENT, 0, 0), 2f))
        .isInstanceOfSatisfying(ShardException.class,
            e -> assertThat(e.code()).isEqualTo(Status.Code.ABORTED));
  }

  @Test
  void pull_waitsForTheMinimumVersionThenRuns() throws Exception {
    JobSpec spec = Specs.spec(Mode.MODE_SYNC, 2, 1f, 1).build();
    ShardCore core = core(spec);
    push(core, Specs.header(spec, 0, 1, 0, PushKind.PUSH_GRADIENT, 0, 0), 1f);
    AtomicInteger ran = new AtomicInteger();
    PullPlan plan = core.preparePull(PullRequest.newBuilder()
        .setFingerprint(Specs.fp(spec)).setWorker(0).setMinVersion(1).build());
    core.awaitPull(plan, ran::incrementAndGet, Specs::neverEnds);
    assertThat(ran).as("worker 0 contributed to step 0: it waits for step 1").hasValue(0);
    assertThat(core.waitingPulls()).isEqualTo(1);

    push(core, Specs.header(spec, 1, 1, 0, PushKind.PUSH_GRADIENT, 0, 0), 1f);
    assertThat(ran).hasValue(1);
    assertThat(core.waitingPulls()).isZero();
  }

  @Test
  void pull_byAWorkerMissingFromTheOpenRound_readsTheCurrentVersion() throws Exception {
    // As after a shard restart that lost the worker's accepted contribution: it must not wait
    // for a step that cannot complete without it.
    JobSpec spec = Specs.spec(Mode.MODE_SYNC, 2, 1f, 1).build();
    ShardCore core = core(spec);
    push(core, Specs.header(spec, 1, 1, 0, PushKind.PUSH_GRADIENT, 0, 0), 1f);
    AtomicInteger ran = new AtomicInteger();
    core.awaitPull(core.preparePull(PullRequest.newBuilder().setFingerprint(Specs.fp(spec))
        .setWorker(0).setMinVersion(1).build()), ran::incrementAndGet, Specs::neverEnds);
    assertThat(ran).hasValue(1);
    assertThat(core.blockVersion(0)).isZero();
  }

  @Test
  void pull_cancelledWaiterNeverRuns() throws Exception {
    JobSpec spec = Specs.spec(Mode.MODE_SYNC, 2, 1f, 1).build();
    ShardCore core = core(spec);
    push(core, Specs.header(spec, 0, 1, 0, PushKind.PUSH_GRADIENT, 0, 0), 1f);
    AtomicInteger ran = new AtomicInteger();
    PullPlan plan = core.preparePull(PullRequest.newBuilder()
        .setFingerprint(Specs.fp(spec)).setWorker(0).setMinVersion(1).build());
    core.awaitPull(plan, ran::incrementAndGet, Specs::neverEnds).cancel();
    push(core, Specs.header(spec, 1, 1, 0, PushKind.PUSH_GRADIENT, 0, 0), 1f);
    assertThat(ran).hasValue(0);
  }
}
