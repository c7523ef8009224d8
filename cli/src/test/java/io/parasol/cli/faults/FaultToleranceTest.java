package io.parasol.cli.faults;

import static io.parasol.cli.faults.Cluster.awaitStatus;
import static io.parasol.cli.faults.Cluster.describe;
import static io.parasol.cli.faults.Cluster.log;
import static io.parasol.cli.faults.Cluster.minVersion;
import static io.parasol.cli.faults.Cluster.secs;
import static io.parasol.cli.faults.Cluster.status;
import static io.parasol.cli.faults.Cluster.statusAll;
import static io.parasol.cli.faults.Cluster.versions;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.parasol.common.BlockLayout;
import io.parasol.proto.v1.BlockResult;
import io.parasol.proto.v1.InitKind;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.PushKind;
import io.parasol.proto.v1.PushOutcome;
import io.parasol.proto.v1.PushResponse;
import io.parasol.proto.v1.ShardGrpc;
import io.parasol.proto.v1.StatusResponse;
import io.parasol.server.ShardServer;
import io.parasol.client.PsClient;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Faults against a real cluster: 2 shards and 4 sync workers, each in its own JVM on
 * 127.0.0.1 (a worker killed with SIGKILL; a shard killed with SIGKILL and restarted from its
 * checkpoint on the same port), and a push whose response is lost after the shard applied it
 * (in-process shard, real gRPC).
 *
 * <p>Every process's output goes to a log file in the test's temporary folder; the tests poll
 * those files and the shards' Status RPC, always under a deadline.
 */
@Tag("slow")
class FaultToleranceTest {
  private static final int SHARDS = 2;
  private static final int WORKERS = 4;

  @TempDir
  Path tmp;

  private Cluster cluster;
  private ShardServer inProcess;

  @BeforeEach
  void cluster() throws Exception {
    cluster = new Cluster(tmp, SHARDS, WORKERS);
  }

  @AfterEach
  void stopEverything() throws InterruptedException {
    cluster.close();
    if (inProcess != null) {
      inProcess.stop(1, TimeUnit.SECONDS);
    }
  }

  // ---------------------------------------------------------------------------------------
  // 1. A sync worker dies; the shards drop it as its connections close (long before its
  //    lease would end) and the others finish without it.

  @Test
  @Timeout(value = 420, unit = TimeUnit.SECONDS)
  void killWorker_syncTrainingFinishes() throws Exception {
    long steps = 300;
    long t0 = System.nanoTime();
    int[] ports = new int[SHARDS];
    JvmProcess[] shards = new JvmProcess[SHARDS];
    for (int s = 0; s < SHARDS; s++) {
      shards[s] = cluster.startShard(s, 0, List.of());
      ports[s] = cluster.port(shards[s], s);
    }
    JvmProcess[] workers = new JvmProcess[WORKERS];
    for (int k = 0; k < WORKERS; k++) {
      // A 30 s lease: the shards must notice the kill from the transport, not the lease; and
      // no survivor expires while the JVMs start on a loaded machine.
      workers[k] = cluster.startWorker(k, ports, steps, "30s");
    }

    StatusResponse[] before = awaitStatus("versions >= 20 on both shards", ports,
        Duration.ofSeconds(240), st -> minVersion(st) >= 20, workers);
    workers[3].kill();
    long killed = System.nanoTime();
    log("test 1: %.1f s after start, SIGKILLed worker 3 at %s", secs(t0, killed),
        describe(before));

    // Both shards drop worker 3 while the others wait for it at the barrier: at once, as its
    // connections close; well within the 30 s lease.
    StatusResponse[] expired = awaitStatus("live workers [0, 1, 2] on both shards", ports,
        Duration.ofSeconds(20), st -> st.getLiveWorkersList().equals(List.of(0, 1, 2)),
        workers[0], workers[1], workers[2]);
    log("test 1: worker 3 out of the live set on both shards %.2f s after the kill: %s",
        secs(killed, System.nanoTime()), describe(expired));

    for (int k = 0; k < 3; k++) {
      int code = workers[k].awaitExit(Duration.ofSeconds(120));
      assertThat(code).as("exit status of worker %d; output:%n%s", k, workers[k].tail(30))
          .isZero();
    }
    long finished = System.nanoTime();
    StatusResponse[] last = statusAll(ports);
    log("test 1: workers 0-2 exited 0, %.1f s after the kill (%.1f s in all); final %s",
        secs(killed, finished), secs(t0, finished), describe(last));
    for (int k = 0; k < 3; k++) {
      Matcher m = workers[k].find(Cluster.DONE).orElseThrow(
          () -> new AssertionError("no done line"));
      log("test 1: %s", m.group());
      assertThat(Integer.parseInt(m.group(1))).isEqualTo(k);
      assertThat(Long.parseLong(m.group(2))).as("steps of worker %d", k).isEqualTo(steps);
      assertThat(Double.parseDouble(m.group(4))).as("test accuracy of worker %d", k)
          .isGreaterThanOrEqualTo(0.90);
    }
    for (int s = 0; s < SHARDS; s++) {
      assertThat(versions(last[s]).values()).as("versions on shard %d", s)
          .isNotEmpty().allMatch(v -> v == steps);
      assertThat(last[s].getLiveWorkersList()).as("live workers on shard %d", s)
          .doesNotContain(3);
      String out = shards[s].output();
      String dropped = "worker 3 connection closed";
      assertThat(out).as("shard %d log", s).contains(dropped);
      // From the kill on, the survivors keep their leases while they wait at the barrier, and
      // leave when they finish. (On a loaded machine a worker may expire and rejoin while the
      // JVMs start, before the kill: that is the lease doing its job.)
      String afterKill = out.substring(out.lastIndexOf(dropped));
      assertThat(afterKill).as("shard %d log after the kill", s).doesNotContain(
          "worker 0 lease expired", "worker 1 lease expired", "worker 2 lease expired",
          "worker 0 connection closed", "worker 1 connection closed",
          "worker 2 connection closed");
      for (int k = 0; k < 3; k++) {
        assertThat(afterKill).as("shard %d log after the kill", s)
            .contains("worker " + k + " finished and left");
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // 2. A shard dies; restarted on its port it restores its newest checkpoint and the job
  //    finishes.

  @Test
  @Timeout(value = 420, unit = TimeUnit.SECONDS)
  void killShard_restartResumesFromCheckpoint() throws Exception {
    long steps = 200;
    long t0 = System.nanoTime();
    CheckpointedJob job = new CheckpointedJob(cluster, tmp, 20);
    int[] ports = job.ports;
    JvmProcess[] workers = job.startWorkers(steps, "5s", "sync", List.of(), false,
        k -> List.of());
    awaitStatus("versions >= 30 on both shards", ports, Duration.ofSeconds(240),
        st -> minVersion(st) >= 30, workers);

    // The workers resume right after the kill and retry against the dead port; the shard is
    // restarted on the same port, with the same flags.
    CheckpointedJob.Restart r = job.killAndRestart(0, false);
    Map<Integer, Long> saved = r.saved();
    Map<Integer, Long> atKill = r.atKill();
    log("test 2: %.1f s after start, SIGKILLed shard 0 at versions %s; its newest checkpoint"
        + " holds %s", secs(t0, r.killedNanos()), atKill, saved);
    log("test 2: shard 0 back on port %d %.2f s after the kill; it logged restoring %s, its"
        + " first Status: %s", ports[0], secs(r.killedNanos(), r.restartedNanos()),
        r.restored(), describe(r.first()));

    assertThat(r.restored()).as("versions the shard restored = the checkpoint's")
        .isEqualTo(saved);
    assertThat(versions(r.first())).as("Status right after the restart = the checkpoint's")
        .isEqualTo(saved);
    assertThat(saved.keySet()).isEqualTo(atKill.keySet());
    assertLostWithinWindow(r, job.window);

    for (int k = 0; k < WORKERS; k++) {
      int code = workers[k].awaitExit(Duration.ofSeconds(120));
      assertThat(code).as("exit status of worker %d (shard 0 restored %s after being killed at"
              + " %s); worker output:%n%s", k, saved, atKill, workers[k].tail(10))
          .isZero();
    }
    long finished = System.nanoTime();
    StatusResponse[] last = statusAll(ports);
    log("test 2: all workers exited 0, %.1f s after the restart (%.1f s in all); final %s",
        secs(r.restartedNanos(), finished), secs(t0, finished), describe(last));
    long truth = Collections.max(r.lost().values());
    for (int k = 0; k < WORKERS; k++) {
      log("test 2: %s", workers[k].find(Cluster.DONE).map(Matcher::group)
          .orElse("(no done line)"));
      // Every worker noticed the restart; what it says was lost is at most the truth (a
      // worker sees no version past the kill, and the restore record is exact).
      Matcher done = workers[k].find(Cluster.ROLLBACKS).orElseThrow();
      assertThat(Long.parseLong(done.group(4))).as("rollbacks of worker %d", k)
          .isGreaterThanOrEqualTo(1);
      assertThat(Long.parseLong(done.group(5))).as("updates lost by worker %d (truth %d)", k,
          truth).isBetween(0L, truth);
    }
    for (int s = 0; s < SHARDS; s++) {
      assertThat(versions(last[s]).values()).as("final versions on shard %d", s)
          .isNotEmpty().allMatch(v -> v >= steps);
    }
  }

  // ---------------------------------------------------------------------------------------
  // 2b. The same with async, ssp and DASGD workers (issue: a push computed from versions the
  //     restored shard no longer had was refused as INVALID_ARGUMENT and the worker died):
  //     every worker notices the rollback, pulls again and finishes with the accuracy of a
  //     job without the kill; the shard lost only the updates after its checkpoint, and its
  //     versions add up.

  /** Steps per worker of the async-family jobs: a few seconds at 5 ms per step. */
  private static final long ASYNC_STEPS = 600;
  /** Test accuracy every async-family job reaches (without a kill: 0.94 to 0.96). */
  private static final double ASYNC_ACCURACY = 0.90;

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"async", "ssp", "dasgd"})
  @Timeout(value = 420, unit = TimeUnit.SECONDS)
  void killShard_workersRollBackAndFinish(String mode) throws Exception {
    long t0 = System.nanoTime();
    CheckpointedJob job = asyncJob(mode);
    awaitStatus("versions >= 30 on both shards", job.ports, Duration.ofSeconds(240),
        st -> minVersion(st) >= 30, job.workers);
    // Frozen workers (SIGSTOP) meet the restarted shard with what they read from the old one.
    CheckpointedJob.Restart r = job.killAndRestart(0, true);
    log("test 2b %s: %.1f s after start, SIGKILLed shard 0 at %s and restarted it (%.2f s) at"
        + " %s", mode, secs(t0, r.killedNanos()), r.atKill(),
        secs(r.killedNanos(), r.restartedNanos()), r.restored());
    assertLostWithinWindow(r, job.window);
    finishAsyncJob(job, mode, List.of(r));
  }

  // ---------------------------------------------------------------------------------------
  // 2c. Both shards die, one after the other: shard 0, and once it is back and the job has
  //     gone on, shard 1. The async job finishes as above.

  @Test
  @Timeout(value = 420, unit = TimeUnit.SECONDS)
  void killBothShards_oneAfterTheOther_asyncJobFinishes() throws Exception {
    CheckpointedJob job = asyncJob("async");
    awaitStatus("versions >= 30 on both shards", job.ports, Duration.ofSeconds(240),
        st -> minVersion(st) >= 30, job.workers);
    CheckpointedJob.Restart r0 = job.killAndRestart(0, true);
    long back = Collections.max(r0.restored().values());
    awaitStatus("shard 0 past its restored versions by 30", new int[] {job.ports[0]},
        Duration.ofSeconds(90), st -> minVersion(st) >= back + 30, job.workers);
    CheckpointedJob.Restart r1 = job.killAndRestart(1, true);
    log("test 2c: shard 0 killed at %s, restored %s; shard 1 killed at %s, restored %s",
        r0.atKill(), r0.restored(), r1.atKill(), r1.restored());
    assertLostWithinWindow(r0, job.window);
    assertLostWithinWindow(r1, job.window);
    finishAsyncJob(job, "async", List.of(r0, r1));
  }

  /**
   * A job of 2 workers in {@code mode} ({@code dasgd}: async with {@code --update-blocks
   * round-robin}), each writing a summary, on 2 checkpointing shards; the workers start
   * together (gated). A 30 s lease: no worker expires while the others start.
   */
  private CheckpointedJob asyncJob(String mode) throws Exception {
    cluster.close();
    cluster = new Cluster(tmp, SHARDS, 2);
    CheckpointedJob job = new CheckpointedJob(cluster, tmp, 20);
    for (int k = 0; k < cluster.workers; k++) {
      Files.deleteIfExists(summaryOf(k));
    }
    List<String> extra = new ArrayList<>(List.of("--compute-delay", "const:5ms"));
    if (mode.equals("dasgd")) {
      extra.addAll(List.of("--update-blocks", "round-robin"));
    }
    job.startWorkers(ASYNC_STEPS, "30s", mode.equals("dasgd") ? "async" : mode,
        extra, true, k -> List.of("--summary-json", summaryOf(k).toString()));
    return job;
  }

  private Path summaryOf(int k) {
    return tmp.resolve("summary-" + k + ".json");
  }

  /**
   * Waits for every worker to exit 0 and checks its summary (all steps, at least one rollback
   * per restart) and line, the job's accuracy, and that the shards' versions add up: a block
   * ends at (its pushers × steps) minus what its shard lost at each restart, plus at most one
   * update per rollback (a step applied by one shard and refused by a restarted one is done
   * again, and a push in flight at the kill was applied by the old shard and again by the new).
   * Also checks the updates lost that the workers report against what the test measured
   * ({@link #assertReportedLoss}).
   */
  private void finishAsyncJob(CheckpointedJob job, String mode,
      List<CheckpointedJob.Restart> restarts) throws Exception {
    long rollbacks = 0;
    List<JsonObject> summaries = new ArrayList<>();
    for (int k = 0; k < cluster.workers; k++) {
      JvmProcess w = job.workers[k];
      int code = w.awaitExit(Duration.ofSeconds(120));
      assertThat(code).as("exit status of worker %d; its output:%n%s", k, w.tail(10))
          .isZero();
      Matcher done = w.find(Cluster.ROLLBACKS).orElseThrow();
      log("%s: %s", mode, w.find(Cluster.DONE).orElseThrow().group());
      JsonObject summary = JsonParser.parseString(Files.readString(summaryOf(k)))
          .getAsJsonObject();
      assertThat(summary.get("complete").getAsBoolean()).isTrue();
      assertThat(summary.get("steps").getAsLong()).isEqualTo(ASYNC_STEPS)
          .isEqualTo(Long.parseLong(done.group(2)));
      long rb = summary.get("rollbacks").getAsLong();
      assertThat(rb).as("rollbacks of worker %d in its summary and its line", k)
          .isEqualTo(Long.parseLong(done.group(4)))
          .isGreaterThanOrEqualTo(restarts.size());
      assertThat(w.output()).as("worker %d log", k).contains("rolled back")
          .contains("updates lost");
      long lost = summary.get("updates_lost").getAsLong();
      assertThat(lost).as("updates lost by worker %d in its summary and its line", k)
          .isEqualTo(Long.parseLong(done.group(5)))
          .isEqualTo(summary.getAsJsonObject("updates_lost_by_shard").entrySet().stream()
              .mapToLong(e -> e.getValue().getAsLong()).sum());
      rollbacks += rb;
      summaries.add(summary);
    }
    assertReportedLoss(summaries, restarts);
    // Worker 0 waited for the other worker: its figure is the job's final model's.
    JsonObject s0 = JsonParser.parseString(Files.readString(summaryOf(0))).getAsJsonObject();
    assertThat(s0.get("final_model").getAsBoolean()).isTrue();
    assertThat(s0.get("test_accuracy").getAsDouble()).as("%s job's test accuracy", mode)
        .isGreaterThanOrEqualTo(ASYNC_ACCURACY);

    StatusResponse[] last = statusAll(job.ports);
    log("%s: final %s; %d rollbacks in all", mode, describe(last), rollbacks);
    for (StatusResponse st : last) {
      for (Map.Entry<Integer, Long> e : versions(st).entrySet()) {
        int id = e.getKey();
        long pushers = mode.equals("dasgd") ? 1 : cluster.workers;
        long lost = 0;
        for (CheckpointedJob.Restart r : restarts) {
          lost += r.lost().getOrDefault(id, 0L);
        }
        long expected = pushers * ASYNC_STEPS - lost;
        assertThat(e.getValue()).as("block %d on shard %d: %d pushers x %d steps - %d lost",
                id, st.getShard(), pushers, ASYNC_STEPS, lost)
            .isBetween(expected, expected + rollbacks);
      }
    }
  }

  /**
   * The updates lost that Parasol reports, against the true loss the test measured. Each
   * restart here is of another shard, so a worker's {@code updates_lost_by_shard} of a shard is
   * what it saw that restart lose, and the job's figure for the restart is the most any worker
   * saw (all see the same loss, each as far as it had read). The true loss of a restart is the
   * most any block of the shard lost: max_i (version at the kill − version restored), from
   * Status and the restore line.
   *
   * <p>Bounds: reported ≤ true, since a worker sees only versions the old shard had (never more
   * than at the kill: the workers were frozen and its versions stable) and the shard's restore
   * record gives the restored versions exactly. Reported ≥ true − workers: the last push
   * applied to a block was acknowledged to its worker with the block's version at the kill
   * (the kill waited for stable versions, so the answer had left), unless that
   * acknowledgement was lost with the connection; an async worker has at most one push in
   * flight, so at most one update per worker can go unseen.
   */
  private void assertReportedLoss(List<JsonObject> summaries,
      List<CheckpointedJob.Restart> restarts) {
    for (CheckpointedJob.Restart r : restarts) {
      long truth = Collections.max(r.lost().values());
      long reported = 0;
      for (JsonObject s : summaries) {
        JsonObject byShard = s.getAsJsonObject("updates_lost_by_shard");
        String key = Integer.toString(r.shard());
        reported = Math.max(reported, byShard.has(key) ? byShard.get(key).getAsLong() : 0);
      }
      log("restart of shard %d: updates lost %d as the workers report it, %d in truth (killed"
          + " at %s, restored %s)", r.shard(), reported, truth, r.atKill(), r.restored());
      assertThat(reported).as("updates lost at the restart of shard %d as reported (killed at"
              + " %s, restored %s)", r.shard(), r.atKill(), r.restored())
          .isBetween(Math.max(0, truth - cluster.workers), truth);
    }
  }

  private static void assertLostWithinWindow(CheckpointedJob.Restart r, long window) {
    assertThat(r.restored()).as("versions shard %d restored = its newest checkpoint's",
        r.shard()).isEqualTo(r.saved());
    assertThat(r.saved().keySet()).isEqualTo(r.atKill().keySet());
    r.lost().forEach((id, lost) -> assertThat(lost)
        .as("block %d: updates lost at the restart of shard %d (killed at %s, restored %s)",
            id, r.shard(), r.atKill(), r.restored())
        .isBetween(0L, window));
  }

  // ---------------------------------------------------------------------------------------
  // 3. The shard applies a push but the client never hears so; the retry is answered from
  //    the dedupe table.

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void retriedPush_afterDroppedResponse_isAppliedOnce() throws Exception {
    int dropped = 3;
    DropPushResponses drop = new DropPushResponses(dropped);
    inProcess = new ShardServer(NettyServerBuilder.forAddress(
        new InetSocketAddress("127.0.0.1", 0)).intercept(drop), 0, null).start();
    int port = inProcess.port();
    float lr = 0.5f;
    BlockLayout layout = BlockLayout.of(List.of(
        new BlockLayout.Tensor("W", 40, InitKind.INIT_UNIFORM, 0.1f),
        new BlockLayout.Tensor("b", 10, InitKind.INIT_ZEROS, 0f)), 1, 16);
    JobSpec spec = JobSpec.newBuilder().setJobName("retry-once").setModel("test")
        .setMode(Mode.MODE_ASYNC).addAllBlocks(layout.toSpecs(null)).setNumShards(1)
        .setNumWorkers(1).setLearningRate(lr).setSeed(1).build();

    try (PsClient client = PsClient.connect(List.of("127.0.0.1:" + port), layout,
        Duration.ofSeconds(5), Duration.ofSeconds(5))) {
      client.init(spec);
      float[] x0 = new float[layout.dimension()];
      long[] read = client.pull(0, x0, 0, 0);
      StatusResponse before = client.status().get(0);
      float[] g = new float[layout.dimension()];
      for (int i = 0; i < g.length; i++) {
        g[i] = 0.25f + 0.01f * i;
      }

      long t = System.nanoTime();
      PushResponse[] resp = client.push(0, 0, PushKind.PUSH_GRADIENT, g, read, null, 1f);
      long pushNanos = System.nanoTime() - t;
      StatusResponse after = client.status().get(0);
      float[] x1 = new float[layout.dimension()];
      client.pull(0, x1, 0, 0);
      log("test 3: push took %.0f ms with %d client retries; responses dropped %d; status"
          + " before %s, after %s", pushNanos / 1e6, client.retries(), drop.dropped.get(),
          describe(before), describe(after));

      assertThat(drop.dropped.get()).as("responses dropped").isEqualTo(dropped);
      assertThat(client.retries()).as("client retries").isEqualTo(dropped);
      assertThat(resp[0].getOutcome()).isEqualTo(PushOutcome.PUSH_APPLIED);
      Map<Integer, Long> v0 = versions(before);
      Map<Integer, Long> v1 = versions(after);
      assertThat(v0).hasSize(layout.numBlocks()).allSatisfy((id, v) -> assertThat(v).isZero());
      assertThat(v1).allSatisfy((id, v) -> assertThat(v).as("block %d", id)
          .isEqualTo(v0.get(id) + 1));
      assertThat(resp[0].getBlocksList()).extracting(BlockResult::getVersion)
          .containsOnly(1L);
      assertThat(after.getPushesApplied()).as("pushes_applied").isEqualTo(1);
      assertThat(after.getPushesDuplicate()).as("pushes_duplicate").isEqualTo(dropped);
      assertThat(after.getUpdatesApplied()).as("updates_applied")
          .isEqualTo(layout.numBlocks());
      // The values moved by one step of η·g, not by several.
      for (int i = 0; i < x0.length; i++) {
        assertThat(x1[i]).as("x[%d]", i).isCloseTo(x0[i] - lr * g[i],
            Offset.offset(1e-6f));
      }
    }
  }

  /**
   * Lets the first {@code n} Push calls run (the shard applies them) but replaces their
   * response and OK status with UNAVAILABLE, as if the connection broke on the way back.
   */
  static final class DropPushResponses implements ServerInterceptor {
    private final AtomicInteger remaining;
    final AtomicInteger dropped = new AtomicInteger();

    DropPushResponses(int n) {
      this.remaining = new AtomicInteger(n);
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
        ServerCallHandler<Q, R> next) {
      if (!call.getMethodDescriptor().getFullMethodName()
          .equals(ShardGrpc.getPushMethod().getFullMethodName())
          || remaining.getAndDecrement() <= 0) {
        return next.startCall(call, headers);
      }
      return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
        @Override
        public void sendMessage(R message) {
          // Lost on the way back.
        }

        @Override
        public void close(Status status, Metadata trailers) {
          if (status.isOk()) {
            dropped.incrementAndGet();
            super.close(Status.UNAVAILABLE.withDescription(
                "test: response dropped after the shard applied the push"), new Metadata());
          } else {
            super.close(status, trailers);
          }
        }
      }, headers);
    }
  }

}
