package io.parasol.server;

import io.parasol.server.core.ShardCore;
import io.parasol.server.core.ShardException;
import io.parasol.server.core.PushPlan;

import static org.assertj.core.api.Assertions.assertThat;

import io.parasol.common.FloatCodec;
import io.parasol.proto.v1.HeartbeatRequest;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.PullRequest;
import io.parasol.proto.v1.PushKind;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Leases on an injected clock: dead workers leave rounds and ssp bounds; they can return. */
class MembershipTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);

  private ShardCore core(JobSpec spec) throws ShardException {
    ShardCore core = new ShardCore(0, 0, null, Runnable::run, now::get);
    core.init(spec, 0);
    return core;
  }

  private static void push(ShardCore core, JobSpec spec, int worker, long seq, long step,
      long read) throws ShardException {
    push(core, spec, worker, seq, step, read, 1f);
  }

  private static void push(ShardCore core, JobSpec spec, int worker, long seq, long step,
      long read, float gradient) throws ShardException {
    PushPlan plan = core.preparePush(
        Specs.header(spec, worker, seq, step, PushKind.PUSH_GRADIENT, 0, read));
    plan.accept(0, 0, FloatCodec.encode(new float[] {gradient}));
    core.push(plan);
  }

  private void advanceMillis(long ms) {
    now.addAndGet(ms * 1_000_000L);
  }

  @Test
  void expiredWorker_leavesTheSyncRoundWhichCompletesWithoutIt() throws Exception {
    JobSpec spec = Specs.spec(Mode.MODE_SYNC, 3, 1f, 1).setLeaseMillis(1000).build();
    ShardCore core = core(spec);
    push(core, spec, 0, 1, 0, 0);
    push(core, spec, 1, 1, 0, 0);
    AtomicInteger released = new AtomicInteger();
    core.awaitPull(core.preparePull(PullRequest.newBuilder().setFingerprint(Specs.fp(spec))
        .setWorker(0).setMinVersion(1).build()), released::incrementAndGet, Specs::neverEnds);
    assertThat(core.blockVersion(0)).isZero();

    advanceMillis(900);
    assertThat(core.expireLeases()).isEmpty();
    core.heartbeat(HeartbeatRequest.newBuilder().setFingerprint(Specs.fp(spec)).setWorker(0)
        .build());
    core.heartbeat(HeartbeatRequest.newBuilder().setFingerprint(Specs.fp(spec)).setWorker(1)
        .build());
    advanceMillis(200);
    // Worker 2 has been silent for 1.1 s > 1 s: it leaves, and step 0 completes with 2 of 3.
    assertThat(core.expireLeases()).containsExactly(2);
    assertThat(core.blockVersion(0)).isEqualTo(1);
    assertThat(released).hasValue(1);
    assertThat(core.status().getLiveWorkersList()).containsExactly(0, 1);

    // Later steps need only the live workers.
    push(core, spec, 0, 2, 1, 1);
    push(core, spec, 1, 2, 1, 1);
    assertThat(core.blockVersion(0)).isEqualTo(2);

    // Worker 2 comes back: any call renews it, and step 2 waits for it again.
    core.preparePull(PullRequest.newBuilder().setFingerprint(Specs.fp(spec)).setWorker(2)
        .setMinVersion(2).build());
    assertThat(core.status().getLiveWorkersList()).containsExactly(0, 1, 2);
    push(core, spec, 0, 3, 2, 2);
    push(core, spec, 1, 3, 2, 2);
    assertThat(core.blockVersion(0)).isEqualTo(2);
    push(core, spec, 2, 1, 2, 2);
    assertThat(core.blockVersion(0)).isEqualTo(3);
  }

  @Test
  void finishedWorker_leavesAtOnce_andOnlyAPushOrHeartbeatBringsItBack() throws Exception {
    JobSpec spec = Specs.spec(Mode.MODE_SYNC, 3, 1f, 1).setLeaseMillis(1000).build();
    ShardCore core = core(spec);
    push(core, spec, 0, 1, 0, 0);
    push(core, spec, 1, 1, 0, 0);
    assertThat(core.blockVersion(0)).isZero();
    // Worker 2 says it finished: step 0 completes with the two live workers, no lease waited.
    var r = core.heartbeat(HeartbeatRequest.newBuilder().setFingerprint(Specs.fp(spec))
        .setWorker(2).setLeaving(true).build());
    assertThat(r.getLiveWorkersList()).containsExactly(0, 1);
    assertThat(core.blockVersion(0)).isEqualTo(1);
    // Reading the model does not make it live again, nor does time make it expire.
    core.preparePull(PullRequest.newBuilder().setFingerprint(Specs.fp(spec)).setWorker(2)
        .setMinVersion(0).build());
    assertThat(core.status().getLiveWorkersList()).containsExactly(0, 1);
    advanceMillis(1500);
    core.heartbeat(HeartbeatRequest.newBuilder().setFingerprint(Specs.fp(spec)).setWorker(0)
        .build());
    core.heartbeat(HeartbeatRequest.newBuilder().setFingerprint(Specs.fp(spec)).setWorker(1)
        .build());
    assertThat(core.expireLeases()).isEmpty();
    // Leaving twice changes nothing.
    core.heartbeat(HeartbeatRequest.newBuilder().setFingerprint(Specs.fp(spec)).setWorker(2)
        .setLeaving(true).build());
    assertThat(core.status().getLiveWorkersList()).containsExactly(0, 1);
    // A heartbeat (a restarted worker 2) rejoins, and the next step waits for it.
    core.heartbeat(HeartbeatRequest.newBuilder().setFingerprint(Specs.fp(spec)).setWorker(2)
        .build());
    assertThat(core.status().getLiveWorkersList()).containsExactly(0, 1, 2);
    push(core, spec, 0, 2, 1, 1);
    push(core, spec, 1, 2, 1, 1);
    assertThat(core.blockVersion(0)).isEqualTo(1);
    push(core, spec, 2, 1, 1, 1);
    assertThat(core.blockVersion(0)).isEqualTo(2);
  }

  @Test
  void workerThatContributedAndLeft_stillCountsForItsRound() throws Exception {
    // The race CI met: worker 0 pushes its last step and says it finished before worker 1's
    // gradient for that step arrives. The step must wait for worker 1, not close on worker
    // 0's gradient alone and drop worker 1's as late.
    JobSpec spec = Specs.spec(Mode.MODE_SYNC, 2, 1f, 1).setLeaseMillis(1000).build();
    ShardCore core = core(spec);
    float x0 = core.blockValues(0)[0];
    push(core, spec, 0, 1, 0, 0, 1f);
    core.heartbeat(HeartbeatRequest.newBuilder().setFingerprint(Specs.fp(spec)).setWorker(0)
        .setLeaving(true).build());
    assertThat(core.status().getLiveWorkersList()).containsExactly(1);
    assertThat(core.blockVersion(0)).isZero();
    push(core, spec, 1, 1, 0, 0, 3f);
    assertThat(core.blockVersion(0)).isEqualTo(1);
    // The mean of both gradients, (1 + 3) / 2, with η = 1.
    assertThat(core.blockValues(0)[0]).isEqualTo(x0 - 2f);
    assertThat(core.status().getPushesDroppedLate()).isZero();
    // The next step needs only the live worker.
    push(core, spec, 1, 2, 1, 1);
    assertThat(core.blockVersion(0)).isEqualTo(2);
  }

  @Test
  void workerThatContributedAndExpired_stillCountsButTheRoundCompletesWithoutTheDead()
      throws Exception {
    JobSpec spec = Specs.spec(Mode.MODE_SYNC, 3, 1f, 1).setLeaseMillis(1000).build();
    ShardCore core = core(spec);
    push(core, spec, 0, 1, 0, 0);
    advanceMillis(1500);
    core.heartbeat(HeartbeatRequest.newBuilder().setFingerprint(Specs.fp(spec)).setWorker(1)
        .build());
    // Workers 0 and 2 expire; 0 contributed, 2 did not: step 0 needs 0 and 1.
    assertThat(core.expireLeases()).containsExactly(0, 2);
    assertThat(core.blockVersion(0)).isZero();
    push(core, spec, 1, 1, 0, 0);
    assertThat(core.blockVersion(0)).isEqualTo(1);
  }

  @Test
  void expiredWorker_noLongerHoldsBackSsp() throws Exception {
    JobSpec spec = Specs.spec(Mode.MODE_SSP, 2, 1f, 1).setStalenessBound(1)
        .setLeaseMillis(1000).build();
    ShardCore core = core(spec);
    push(core, spec, 0, 1, 0, 0);
    push(core, spec, 0, 2, 1, 1);
    AtomicInteger released = new AtomicInteger();
    core.awaitPull(core.preparePull(PullRequest.newBuilder().setFingerprint(Specs.fp(spec))
        .setWorker(0).setClock(2).build()), released::incrementAndGet, Specs::neverEnds);
    assertThat(released).as("clock 2 leads worker 1 (clock 0) by more than 1").hasValue(0);
    advanceMillis(1500);
    core.heartbeat(HeartbeatRequest.newBuilder().setFingerprint(Specs.fp(spec)).setWorker(0)
        .setClock(2).build());
    assertThat(core.expireLeases()).containsExactly(1);
    assertThat(released).hasValue(1);
  }

  @Test
  void sspJoiner_afterARestore_goesOnFromItsRestoredClock() throws Exception {
    JobSpec spec = Specs.spec(Mode.MODE_SSP, 1, 1f, 1).setStalenessBound(1).setMaxWorkers(2)
        .build();
    ShardCore before = core(spec);
    heartbeat(before, spec, 0, 10);
    heartbeat(before, spec, 1, 0); // joins at the job's clock 10
    heartbeat(before, spec, 1, 5); // its 15th
    heartbeat(before, spec, 0, 14);
    ShardCore after = new ShardCore(0, 0, null, Runnable::run, now::get);
    after.restore(before.snapshot(), "test");
    heartbeat(after, spec, 0, 14);
    // Worker 1 reports its own clock 6: the job's clock goes on from the restored 15, within
    // the bound of worker 0's 14; joining afresh at 14 would have put it at 20 and held it.
    AtomicInteger released = new AtomicInteger();
    after.awaitPull(after.preparePull(PullRequest.newBuilder().setFingerprint(Specs.fp(spec))
        .setWorker(1).setClock(6).build()), released::incrementAndGet, Specs::neverEnds);
    assertThat(released).hasValue(1);
    assertThat(after.status().getLiveWorkersList()).containsExactly(0, 1);
  }

  private static void heartbeat(ShardCore core, JobSpec spec, int worker, long clock)
      throws ShardException {
    core.heartbeat(HeartbeatRequest.newBuilder().setFingerprint(Specs.fp(spec)).setWorker(worker)
        .setClock(clock).build());
  }

  @Test
  void heartbeat_reportsTheLeaseAndTheLiveWorkers() throws Exception {
    JobSpec spec = Specs.spec(Mode.MODE_ASYNC, 2, 1f, 1).build();
    ShardCore core = core(spec);
    var r = core.heartbeat(HeartbeatRequest.newBuilder().setFingerprint(Specs.fp(spec))
        .setWorker(1).build());
    assertThat(r.getLeaseMillis()).isEqualTo(10_000);
    assertThat(r.getLiveWorkersList()).containsExactly(0, 1);
  }
}
