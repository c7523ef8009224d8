package io.parasol.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.parasol.common.FloatCodec;
import io.parasol.common.MetricNames;
import io.parasol.common.Refusals;
import io.parasol.proto.v1.DeleteRequest;
import io.parasol.proto.v1.HeartbeatRequest;
import io.parasol.proto.v1.InitRequest;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.JobSummary;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.PullRequest;
import io.parasol.proto.v1.PushHeader;
import io.parasol.proto.v1.PushKind;
import io.parasol.proto.v1.ShardGrpc;
import io.parasol.proto.v1.StatusRequest;
import io.parasol.proto.v1.StatusResponse;
import io.parasol.server.checkpoint.Checkpoints;
import io.parasol.server.core.PushPlan;
import io.parasol.server.core.ShardCore;
import io.parasol.server.core.ShardException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A shard holds several jobs side by side, each keyed by its name: its own blocks, mode,
 * members and meters; limits on jobs and bytes; Delete, idle and finished expiry on an
 * injected clock; per-job checkpoints.
 */
class MultiJobTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final MeterRegistry registry = new SimpleMeterRegistry();

  /** Job "a": sync, two workers, blocks of 4 and 2 floats. */
  private static final JobSpec A = Specs.spec(Mode.MODE_SYNC, 2, 1f, 4, 2).setJobName("a")
      .build();
  /** Job "b": async, one worker, one block of 3 floats. */
  private static final JobSpec B = Specs.spec(Mode.MODE_ASYNC, 1, 0.5f, 3).setJobName("b")
      .build();

  private ShardCore core() {
    return new ShardCore(0, 0, registry, Runnable::run, now::get);
  }

  private void advanceSeconds(long s) {
    now.addAndGet(TimeUnit.SECONDS.toNanos(s));
  }

  private static PushPlan plan(ShardCore core, JobSpec spec, int worker, long seq, long step,
      int block, long read) throws ShardException {
    PushHeader h = Specs.header(spec, worker, seq, step, PushKind.PUSH_GRADIENT, block, read)
        .toBuilder().setJobName(spec.getJobName()).build();
    return core.preparePush(h);
  }

  private static void push(ShardCore core, JobSpec spec, int worker, long seq, long step,
      int block, long read, int length) throws ShardException {
    PushPlan p = plan(core, spec, worker, seq, step, block, read);
    float[] g = new float[length];
    java.util.Arrays.fill(g, 1f);
    p.accept(block, 0, FloatCodec.encode(g));
    core.push(p);
  }

  private static HeartbeatRequest leave(JobSpec spec, int worker) {
    return HeartbeatRequest.newBuilder().setJobName(spec.getJobName())
        .setFingerprint(Specs.fp(spec)).setWorker(worker).setLeaving(true).build();
  }

  private double gauge(String name, String job) {
    var search = registry.find(name).tag("shard", "0");
    if (job != null) {
      search = search.tag(MetricNames.JOB_TAG, job);
    }
    var g = search.gauge();
    return g == null ? Double.NaN : g.value();
  }

  @Test
  void twoJobs_sideBySide_eachWithItsOwnBlocksModeAndCounts() throws Exception {
    ShardCore core = core();
    assertThat(core.init(A, 0).getCreated()).isTrue();
    assertThat(core.init(B, 0).getCreated()).isTrue();
    assertThat(core.init(B, 0).getCreated()).isFalse(); // idempotent
    assertThat(core.jobNames()).containsExactly("a", "b");

    push(core, B, 0, 1, 0, 0, 0, 3);
    push(core, B, 0, 2, 1, 0, 1, 3);
    push(core, A, 0, 1, 0, 0, 0, 4); // half of a sync round: a's version stays 0

    StatusResponse sa = core.status("a");
    StatusResponse sb = core.status("b");
    assertThat(sa.getMode()).isEqualTo(Mode.MODE_SYNC);
    assertThat(sa.getBlocksList()).extracting(b -> b.getVersion()).containsExactly(0L, 0L);
    assertThat(sb.getMode()).isEqualTo(Mode.MODE_ASYNC);
    assertThat(sb.getBlocks(0).getVersion()).isEqualTo(2);
    assertThat(sb.getPushesApplied()).isEqualTo(2);
    assertThat(sa.getPushesApplied()).isEqualTo(1);
    assertThat(sa.getJobsList()).extracting(JobSummary::getJobName).containsExactly("a", "b");
    // Neither is "default" and there are two: a status without a name reports no job.
    assertThat(core.status().getInitialised()).isFalse();
    assertThat(core.status().getJobsCount()).isEqualTo(2);

    // A request naming b with a's fingerprint is refused.
    assertThatThrownBy(() -> core.preparePull(PullRequest.newBuilder().setJobName("b")
        .setFingerprint(Specs.fp(A)).setWorker(0).build()))
        .isInstanceOf(ShardException.class).hasMessageContaining("does not match job 'b'");
    // Every job's meters carry its name.
    assertThat(registry.find(MetricNames.SHARD_PUSHES).tag(MetricNames.JOB_TAG, "b")
        .tag("outcome", "applied").functionCounter().count()).isEqualTo(2);
  }

  @Test
  void sameName_otherSpec_failedPrecondition_newName_createsAnotherJob() throws Exception {
    ShardCore core = core();
    core.init(A, 0);
    JobSpec otherA = A.toBuilder().setLearningRate(0.25f).build();
    assertThatThrownBy(() -> core.init(otherA, 0)).isInstanceOf(ShardException.class)
        .satisfies(e -> assertThat(((ShardException) e).code())
            .isEqualTo(Status.Code.FAILED_PRECONDITION))
        .hasMessageContaining("already serves job 'a'").hasMessageContaining("lr");
    assertThat(core.init(otherA.toBuilder().setJobName("a2").build(), 0).getCreated()).isTrue();
    assertThat(core.jobNames()).containsExactly("a", "a2");
  }

  @Test
  void emptyName_isTheDefaultJob_andRequestsWithoutANameReachIt() throws Exception {
    ShardCore core = core();
    JobSpec unnamed = B.toBuilder().setJobName("").build();
    core.init(unnamed, 0);
    core.init(A, 0);
    assertThat(core.jobNames()).containsExactly("a", "default");
    // An old client: no job name anywhere.
    PushPlan p = core.preparePush(Specs.header(unnamed, 0, 1, 0, PushKind.PUSH_GRADIENT, 0, 0));
    p.accept(0, 0, FloatCodec.encode(new float[] {1f, 1f, 1f}));
    core.push(p);
    assertThat(core.status().getJobName()).isEmpty();
    assertThat(core.status().getFingerprint()).isEqualTo(Specs.fp(unnamed));
    assertThat(core.status("default").getBlocks(0).getVersion()).isEqualTo(1);
    assertThat(core.status("a").getBlocks(0).getVersion()).isZero();
    assertThatThrownBy(() -> core.init(unnamed.toBuilder().setLearningRate(2f).build(), 0))
        .hasMessageContaining("already serves job 'default'");
  }

  @Test
  void badJobName_invalidArgument() {
    ShardCore core = core();
    assertThatThrownBy(() -> core.init(A.toBuilder().setJobName("../etc").build(), 0))
        .isInstanceOf(ShardException.class)
        .satisfies(e -> assertThat(((ShardException) e).code())
            .isEqualTo(Status.Code.INVALID_ARGUMENT))
        .hasMessageContaining("invalid job name");
  }

  @Test
  void maxJobs_refusesOneMore_untilAJobIsDeleted() throws Exception {
    ShardCore core = core();
    core.maxJobs(2);
    core.init(A, 0);
    core.init(B, 0);
    JobSpec c = B.toBuilder().setJobName("c").build();
    assertThatThrownBy(() -> core.init(c, 0)).isInstanceOf(ShardException.class)
        .satisfies(e -> assertThat(((ShardException) e).code())
            .isEqualTo(Status.Code.RESOURCE_EXHAUSTED))
        .hasMessageContaining("already holds 2 jobs [a, b]").hasMessageContaining("--max-jobs 2");
    assertThat(core.jobNames()).containsExactly("a", "b");
    assertThat(core.delete(DeleteRequest.newBuilder().setJobName("a")
        .setFingerprint(Specs.fp(A)).build()).getDeleted()).isTrue();
    assertThat(core.init(c, 0).getCreated()).isTrue();
  }

  @Test
  void maxBytes_coversEveryJob_aJobThatDoesNotFitNextToTheOthersIsRefused() throws Exception {
    JobSpec big = Specs.spec(Mode.MODE_ASYNC, 1, 0.5f, 10_000).setJobName("big").build();
    JobSpec big2 = big.toBuilder().setJobName("big2").build();
    ShardCore core = core();
    // A job needs 4 arrays of 40 kB (values, a push's staging, two pull snapshots) and holds
    // one: room for the first (160 kB), not for a second next to it (40 + 160 kB).
    core.maxBytes(180_000);
    core.init(big, 0);
    assertThatThrownBy(() -> core.init(big2, 0)).isInstanceOf(ShardException.class)
        .satisfies(e -> assertThat(((ShardException) e).code())
            .isEqualTo(Status.Code.RESOURCE_EXHAUSTED))
        .hasMessageContaining("other jobs hold");
    assertThat(core.jobNames()).containsExactly("big");
  }

  @Test
  void delete_releasesTheJobsBytesAndMeters_isIdempotent_andChecksTheFingerprint()
      throws Exception {
    ShardCore core = core();
    core.init(A, 0);
    double empty = 0;
    long aBytes = core.bytesHeld();
    assertThat(aBytes).isPositive();
    core.init(B, 0);
    long both = core.bytesHeld();
    assertThat(gauge(MetricNames.SHARD_BYTES_HELD, null)).isEqualTo(both);
    assertThat(gauge(MetricNames.SHARD_JOB_BYTES, "b")).isEqualTo(both - aBytes);
    assertThat(gauge(MetricNames.SHARD_JOBS, null)).isEqualTo(2);

    assertThatThrownBy(() -> core.delete(DeleteRequest.newBuilder().setJobName("b")
        .setFingerprint(Specs.fp(A)).build())).isInstanceOf(ShardException.class)
        .satisfies(e -> assertThat(((ShardException) e).code())
            .isEqualTo(Status.Code.FAILED_PRECONDITION));
    var r = core.delete(DeleteRequest.newBuilder().setJobName("b")
        .setFingerprint(Specs.fp(B)).build());
    assertThat(r.getDeleted()).isTrue();
    assertThat(r.getBytesReleased()).isEqualTo(both - aBytes);
    assertThat(core.bytesHeld()).isEqualTo(aBytes);
    assertThat(gauge(MetricNames.SHARD_BYTES_HELD, null)).isEqualTo(aBytes);
    assertThat(gauge(MetricNames.SHARD_JOBS, null)).isEqualTo(1);
    // b's series are gone; a's stay.
    assertThat(registry.find(MetricNames.SHARD_JOB_BYTES).tag(MetricNames.JOB_TAG, "b")
        .meters()).isEmpty();
    assertThat(registry.find(MetricNames.SHARD_PUSHES).tag(MetricNames.JOB_TAG, "b")
        .meters()).isEmpty();
    assertThat(registry.find(MetricNames.SHARD_PUSHES).tag(MetricNames.JOB_TAG, "a")
        .meters()).isNotEmpty();
    assertThat(registry.find(MetricNames.SHARD_JOBS_ENDED).tag("reason", "deleted").counter()
        .count()).isEqualTo(1);

    assertThat(core.delete(DeleteRequest.newBuilder().setJobName("b")
        .setFingerprint(Specs.fp(B)).build()).getDeleted()).isFalse();
    assertThatThrownBy(() -> plan(core, B, 0, 1, 0, 0, 0)).isInstanceOf(ShardException.class)
        .hasMessageContaining("holds no job 'b'");
    core.delete(DeleteRequest.newBuilder().setJobName("a").setFingerprint(Specs.fp(A))
        .build());
    assertThat(core.bytesHeld()).isEqualTo((long) empty);
    assertThat(gauge(MetricNames.SHARD_BYTES_HELD, null)).isZero();
    // A deleted name can be declared again, fresh.
    assertThat(core.init(B, 0).getCreated()).isTrue();
    assertThat(core.status("b").getBlocks(0).getVersion()).isZero();
  }

  @Test
  void idleJob_endsAfterTheIdleTimeout_onTheShardClock() throws Exception {
    ShardCore core = core();
    core.jobIdleTimeout(Duration.ofMinutes(10));
    core.init(A, 0);
    core.init(B, 0);
    advanceSeconds(9 * 60);
    assertThat(core.expireJobs()).isEmpty();
    push(core, A, 0, 1, 0, 0, 0, 4); // a call: a's idle time starts again
    advanceSeconds(2 * 60);
    assertThat(core.expireJobs()).containsExactly("b");
    assertThat(core.jobNames()).containsExactly("a");
    advanceSeconds(7 * 60);
    assertThat(core.expireJobs()).isEmpty();
    advanceSeconds(60);
    assertThat(core.expireJobs()).containsExactly("a");
    assertThat(core.bytesHeld()).isZero();
    assertThat(registry.find(MetricNames.SHARD_JOBS_ENDED).tag("reason", "idle").counter()
        .count()).isEqualTo(2);
  }

  /** A pull of worker 0 of {@code spec} for version 1 of block 0 (it waits for the round). */
  private static PullRequest waitingPull(JobSpec spec) {
    return PullRequest.newBuilder().setJobName(spec.getJobName()).setFingerprint(Specs.fp(spec))
        .setWorker(0).setMinVersion(1).addBlockIds(0).build();
  }

  @Test
  void idleJob_pullsWaitingOnItAreRefusedWhenItEnds_anotherJobsPullStillWaits()
      throws Exception {
    ShardCore core = core();
    core.jobIdleTimeout(Duration.ofMinutes(10));
    JobSpec a2 = A.toBuilder().setJobName("a2").build();
    core.init(A, 0);
    core.init(a2, 0);
    push(core, A, 0, 1, 0, 0, 0, 4);
    push(core, a2, 0, 1, 0, 0, 0, 4);
    java.util.List<ShardException> endedA = new java.util.ArrayList<>();
    java.util.concurrent.atomic.AtomicInteger released = new java.util.concurrent.atomic
        .AtomicInteger();
    core.awaitPull(core.preparePull(waitingPull(A)), released::incrementAndGet, endedA::add);
    core.awaitPull(core.preparePull(waitingPull(a2)), released::incrementAndGet,
        Specs::neverEnds);
    // A pull of a prepared before the job ends and only then comes to wait.
    var late = core.preparePull(waitingPull(A));
    assertThat(core.waitingPulls()).isEqualTo(2);

    advanceSeconds(11 * 60);
    core.heartbeat(HeartbeatRequest.newBuilder().setJobName("a2").setFingerprint(Specs.fp(a2))
        .setWorker(1).build()); // a2 sees a call; a does not
    assertThat(core.expireJobs()).containsExactly("a");

    // The callback executor runs inline: a's pull was answered within expireJobs.
    assertThat(endedA).hasSize(1);
    ShardException e = endedA.get(0);
    assertThat(e.code()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(e.reason()).isEqualTo(Refusals.JOB_ENDED);
    assertThat(e).hasMessage("job 'a' ended (no call for its idle timeout, --job-idle-timeout"
        + " PT10M) on shard 0 while this pull waited");
    assertThat(Refusals.info(e.toStatusException()).getMetadataMap())
        .containsEntry("ended", "idle").containsEntry("job", "a");
    assertThat(core.waitingPulls()).as("a2's pull still waits").isEqualTo(1);

    core.awaitPull(late, released::incrementAndGet, endedA::add);
    assertThat(endedA).as("a pull that comes to wait on an ended job is refused at once")
        .hasSize(2);
    late.release();
    assertThat(released).hasValue(0);
    assertThat(core.waitingPulls()).isEqualTo(1);
  }

  @Test
  void idleTimeoutZero_never() throws Exception {
    ShardCore core = core();
    core.jobIdleTimeout(Duration.ZERO);
    core.init(B, 0);
    advanceSeconds(365L * 24 * 3600);
    assertThat(core.expireJobs()).isEmpty();
  }

  @Test
  void finishedJob_endsOnceEveryWorkerLeftAndItWasThenQuietForAMinute() throws Exception {
    ShardCore core = core();
    core.init(A, 0);
    core.heartbeat(leave(A, 0));
    advanceSeconds(120);
    assertThat(core.expireJobs()).isEmpty(); // worker 1 has not finished
    core.heartbeat(leave(A, 1));
    // Whoever finished still reads the final model (a read does not bring a worker back).
    core.preparePull(PullRequest.newBuilder().setJobName("a").setFingerprint(Specs.fp(A))
        .setWorker(0).build()).release();
    advanceSeconds(59);
    assertThat(core.expireJobs()).isEmpty();
    advanceSeconds(1);
    assertThat(core.expireJobs()).containsExactly("a");
    assertThat(registry.find(MetricNames.SHARD_JOBS_ENDED).tag("reason", "finished")
        .counter().count()).isEqualTo(1);
  }

  @Test
  void overGrpc_statusPerJob_delete_andCheckpointsPerJobRestoredAfterARestart(
      @TempDir Path dir) throws Exception {
    Checkpoints cp = new Checkpoints(dir, 0);
    JobSpec unnamed = B.toBuilder().setJobName("").build();
    ShardServer first = new ShardServer(NettyServerBuilder.forAddress(
        new InetSocketAddress("127.0.0.1", 0)), 0, 0, null, now::get)
        .checkpointing(cp, Duration.ofHours(1), 0).start();
    ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", first.port()).usePlaintext()
        .build();
    try {
      ShardGrpc.ShardBlockingStub stub = ShardGrpc.newBlockingStub(ch)
          .withDeadlineAfter(10, TimeUnit.SECONDS);
      for (JobSpec s : new JobSpec[] {A, B, unnamed}) {
        stub.init(InitRequest.newBuilder().setSpec(s).setShard(0).build());
      }
      push(first.core(), B, 0, 1, 0, 0, 0, 3);
      assertThat(stub.status(StatusRequest.newBuilder().setJobName("b").build())
          .getBlocks(0).getVersion()).isEqualTo(1);
      assertThat(stub.status(StatusRequest.getDefaultInstance()).getFingerprint())
          .isEqualTo(Specs.fp(unnamed));
      StatusRequest none = StatusRequest.newBuilder().setJobName("nope").build();
      assertThat(stub.status(none).getInitialised()).isFalse();
      assertThatThrownBy(() -> stub.heartbeat(HeartbeatRequest.newBuilder().setJobName("nope")
          .setFingerprint(Specs.fp(A)).build())).isInstanceOf(StatusRuntimeException.class)
          .hasMessageContaining("holds no job 'nope'");
      assertThat(first.checkpointIfChanged()).isTrue();
      assertThat(Files.exists(dir.resolve("jobs").resolve("a").resolve("shard-0.ckpt")))
          .isTrue();
      assertThat(Files.exists(dir.resolve("jobs").resolve("b").resolve("shard-0.ckpt")))
          .isTrue();
      assertThat(Files.exists(dir.resolve("shard-0.ckpt"))).isTrue(); // the default job
      // Deleting a job removes its checkpoints: a restart does not bring it back.
      assertThat(stub.delete(DeleteRequest.newBuilder().setJobName("a")
          .setFingerprint(Specs.fp(A)).build()).getDeleted()).isTrue();
      assertThat(Files.exists(dir.resolve("jobs").resolve("a"))).isFalse();
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      first.stop(5, TimeUnit.SECONDS);
    }
    ShardServer second = new ShardServer(NettyServerBuilder.forAddress(
        new InetSocketAddress("127.0.0.1", 0)), 0, 0, null, now::get)
        .checkpointing(cp, Duration.ofHours(1), 0).start();
    try {
      assertThat(second.core().jobNames()).containsExactly("b", "default");
      assertThat(second.core().status("b").getBlocks(0).getVersion()).isEqualTo(1);
    } finally {
      second.stop(5, TimeUnit.SECONDS);
    }
  }
}
