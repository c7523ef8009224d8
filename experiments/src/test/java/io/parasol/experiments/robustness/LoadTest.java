package io.parasol.experiments.robustness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.parasol.common.BlockLayout;
import io.parasol.proto.v1.BlockResult;
import io.parasol.proto.v1.BlockStatus;
import io.parasol.proto.v1.InitKind;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.OptimizerSpec;
import io.parasol.proto.v1.PushKind;
import io.parasol.proto.v1.PushOutcome;
import io.parasol.proto.v1.PushResponse;
import io.parasol.proto.v1.StatusResponse;
import io.parasol.client.PsClient;
import io.parasol.server.LocalCluster;
import io.parasol.worker.train.JobSettings;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * 64 simulated workers, each with its own {@link PsClient}, pull and push as fast as they can
 * against 2 shards in async mode for a fixed wall-clock time (30 s; the system property
 * {@code parasol.load.seconds} overrides it). Afterwards: no call failed or was retried, no
 * update was lost (every block's version equals the pushes that carried it, the shards'
 * counters agree), and every value is where the pushed gradients put it. Prints throughput and
 * latency percentiles. Nothing here is random.
 */
@Tag("slow")
class LoadTest {
  private static final int WORKERS = 64;
  private static final int SHARDS = 2;
  private static final int PARAMS = 32_768;
  private static final int BLOCK = 4_096;
  private static final float LR = 0.01f;
  private static final float GRADIENT = 1e-3f;
  private static final long DEFAULT_SECONDS = 30;
  /** Iterations per worker at most, whatever the clock says. */
  private static final long MAX_STEPS = 10_000_000;
  private static final Duration RPC_TIMEOUT = Duration.ofSeconds(30);

  private LocalCluster cluster;
  private final List<PsClient> clients = new ArrayList<>();
  private ExecutorService pool;

  @AfterEach
  void stop() throws Exception {
    if (pool != null) {
      pool.shutdownNow();
      pool.awaitTermination(30, TimeUnit.SECONDS);
    }
    for (PsClient c : clients) {
      c.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  /** What one simulated worker did. */
  private static final class WorkerStats {
    // Latencies in ns, 3 significant digits (HdrHistogram: fixed footprint per worker).
    final Histogram pull = new Histogram(3);
    final Histogram push = new Histogram(3);
    final long[] blockUpdates;
    final long[] shardPushes = new long[SHARDS];
    final List<String> errors = new ArrayList<>();
    long steps;

    WorkerStats(int blocks) {
      blockUpdates = new long[blocks];
    }
  }

  @Test
  @Timeout(value = 15, unit = TimeUnit.MINUTES)
  void manyWorkers_asyncPushPull_noErrorsNoLostUpdates() throws Exception {
    long seconds = Long.getLong("parasol.load.seconds", DEFAULT_SECONDS);
    cluster = LocalCluster.start(SHARDS, null);
    JobSettings settings = JobSettings.defaults(Mode.MODE_ASYNC, SHARDS, WORKERS, LR);
    BlockLayout layout = BlockLayout.of(
        List.of(new BlockLayout.Tensor("w", PARAMS, InitKind.INIT_ZEROS, 0f)), SHARDS, BLOCK);
    JobSpec spec = spec(settings, layout);
    for (int w = 0; w < WORKERS; w++) {
      clients.add(PsClient.connect(cluster.addresses(), layout, RPC_TIMEOUT, RPC_TIMEOUT));
    }
    // Every worker declares the job, as real workers do; the shards agree on one fingerprint.
    String fp = clients.get(0).init(spec);
    for (PsClient c : clients) {
      assertThat(c.init(spec)).isEqualTo(fp);
    }
    System.out.printf("LoadTest: %d workers, %d shards, %d blocks of %d floats (%s), async,"
        + " %d s%n", WORKERS, SHARDS, layout.numBlocks(), BLOCK, blocksPerShard(layout),
        seconds);

    pool = Executors.newFixedThreadPool(WORKERS);
    CountDownLatch ready = new CountDownLatch(WORKERS);
    CountDownLatch go = new CountDownLatch(1);
    long[] deadline = new long[1];
    List<Future<WorkerStats>> futures = new ArrayList<>();
    for (int w = 0; w < WORKERS; w++) {
      final int worker = w;
      futures.add(pool.submit(() -> {
        ready.countDown();
        if (!go.await(60, TimeUnit.SECONDS)) {
          throw new IllegalStateException("never started");
        }
        return work(worker, clients.get(worker), layout, deadline[0]);
      }));
    }
    assertThat(ready.await(60, TimeUnit.SECONDS)).isTrue();
    long t0 = System.nanoTime();
    deadline[0] = t0 + TimeUnit.SECONDS.toNanos(seconds);
    go.countDown();
    pool.shutdown();
    assertThat(pool.awaitTermination(seconds + 2 * RPC_TIMEOUT.toSeconds() + 30,
        TimeUnit.SECONDS)).as("workers stopped").isTrue();
    double elapsed = (System.nanoTime() - t0) / 1e9;

    Histogram pulls = new Histogram(3);
    Histogram pushes = new Histogram(3);
    long[] blockUpdates = new long[layout.numBlocks()];
    long[] shardPushes = new long[SHARDS];
    List<String> errors = new ArrayList<>();
    long minSteps = Long.MAX_VALUE;
    long maxSteps = 0;
    for (Future<WorkerStats> f : futures) {
      WorkerStats s = f.get();
      pulls.add(s.pull);
      pushes.add(s.push);
      for (int b = 0; b < blockUpdates.length; b++) {
        blockUpdates[b] += s.blockUpdates[b];
      }
      for (int sh = 0; sh < SHARDS; sh++) {
        shardPushes[sh] += s.shardPushes[sh];
      }
      errors.addAll(s.errors);
      minSteps = Math.min(minSteps, s.steps);
      maxSteps = Math.max(maxSteps, s.steps);
    }
    long retries = clients.stream().mapToLong(PsClient::retries).sum();
    List<StatusResponse> status = clients.get(0).status();

    System.out.printf("LoadTest: ran %.1f s: %d pushes (%.1f/s, %.1f shard pushes/s),"
        + " %d pulls (%.1f/s); steps per worker %d..%d; retries %d; errors %d%n", elapsed,
        pushes.getTotalCount(), pushes.getTotalCount() / elapsed,
        Arrays.stream(shardPushes).sum() / elapsed, pulls.getTotalCount(), pulls.getTotalCount() / elapsed,
        minSteps, maxSteps, retries, errors.size());
    System.out.printf("LoadTest: %-12s %8s %10s %10s %10s %10s%n", "latency (ms)", "n", "p50",
        "p99", "max", "mean");
    for (String op : List.of("pull", "push")) {
      Histogram h = op.equals("pull") ? pulls : pushes;
      System.out.printf("LoadTest:   %-10s %8d %10.2f %10.2f %10.2f %10.2f%n", op,
          h.getTotalCount(), h.getValueAtPercentile(50) / 1e6, h.getValueAtPercentile(99) / 1e6,
          h.getMaxValue() / 1e6, h.getMean() / 1e6);
    }
    for (StatusResponse st : status) {
      System.out.printf("LoadTest:   shard %d: pushes_applied %d (sent %d), updates_applied %d,"
          + " pushes_duplicate %d, pushes_rejected %d, pulls %d, mean staleness %.2f,"
          + " max staleness %d%n", st.getShard(), st.getPushesApplied(),
          shardPushes[st.getShard()], st.getUpdatesApplied(), st.getPushesDuplicate(),
          st.getPushesRejected(), st.getPulls(),
          st.getStalenessCount() == 0 ? 0.0 : (double) st.getStalenessSum()
              / st.getStalenessCount(), st.getStalenessMax());
    }
    System.out.printf("LoadTest: peak heap %.0f MiB%n", peakHeapBytes() / 1048576.0);
    for (String e : errors.subList(0, Math.min(10, errors.size()))) {
      System.out.println("LoadTest:   error " + e);
    }

    assertThat(errors).as("failed calls").isEmpty();
    assertThat(retries).as("calls tried again").isZero();
    assertThat(pushes.getTotalCount()).as("pushes").isPositive();
    for (StatusResponse st : status) {
      int shard = st.getShard();
      long versions = 0;
      for (BlockStatus b : st.getBlocksList()) {
        assertThat(b.getVersion()).as("version of block %d (shard %d)", b.getId(), shard)
            .isEqualTo(blockUpdates[b.getId()]);
        assertThat(cluster.server(shard).core().blockVersion(b.getId()))
            .isEqualTo(b.getVersion());
        versions += b.getVersion();
      }
      assertThat(st.getUpdatesApplied()).as("updates_applied of shard %d", shard)
          .isEqualTo(versions);
      assertThat(st.getPushesApplied()).as("pushes_applied of shard %d", shard)
          .isEqualTo(shardPushes[shard]);
      assertThat(st.getPushesRejected()).isZero();
      assertThat(st.getPushesDroppedStale()).isZero();
    }
    // From zeros, ν gradients of GRADIENT at step LR leave every value at −LR·GRADIENT·ν (up
    // to float rounding), identical across a block.
    for (BlockLayout.Block b : layout.blocks()) {
      float[] v = cluster.server(b.shard()).core().blockValues(b.id());
      double expected = -(double) LR * GRADIENT * blockUpdates[b.id()];
      assertThat(v).as("block %d values equal", b.id()).containsOnly(v[0]);
      assertThat((double) v[0]).as("block %d value after %d updates", b.id(),
          blockUpdates[b.id()]).isCloseTo(expected, within(Math.abs(expected) * 0.01 + 1e-9));
    }
  }

  /** Pull, then push a constant gradient with the versions read, until the deadline. */
  private static WorkerStats work(int worker, PsClient client, BlockLayout layout,
      long deadline) {
    WorkerStats s = new WorkerStats(layout.numBlocks());
    float[] model = new float[layout.dimension()];
    float[] gradient = new float[layout.dimension()];
    Arrays.fill(gradient, GRADIENT);
    while (System.nanoTime() < deadline && s.steps < MAX_STEPS) {
      long[] read;
      long t0 = System.nanoTime();
      try {
        read = client.pull(worker, model, 0, 0);
      } catch (RuntimeException e) {
        s.errors.add("worker " + worker + " pull: " + e);
        break;
      }
      long t1 = System.nanoTime();
      s.pull.recordValue(Math.max(0, t1 - t0));
      PushResponse[] resp;
      try {
        resp = client.push(worker, s.steps, PushKind.PUSH_GRADIENT, gradient, read, null,
            Float.NaN);
      } catch (RuntimeException e) {
        s.errors.add("worker " + worker + " push: " + e);
        break;
      }
      s.push.recordValue(Math.max(0, System.nanoTime() - t1));
      for (int shard = 0; shard < resp.length; shard++) {
        PushResponse r = resp[shard];
        if (r == null) {
          continue;
        }
        if (r.getOutcome() != PushOutcome.PUSH_APPLIED) {
          s.errors.add("worker " + worker + " push to shard " + shard + ": " + r.getOutcome());
          continue;
        }
        s.shardPushes[shard]++;
        for (BlockResult br : r.getBlocksList()) {
          s.blockUpdates[br.getBlockId()]++;
        }
      }
      s.steps++;
    }
    return s;
  }

  /** The job spec, built as {@link JobSettings#spec} builds it, for a model-free layout. */
  private static JobSpec spec(JobSettings js, BlockLayout layout) {
    return JobSpec.newBuilder()
        .setJobName("load")
        .setModel("none")
        .setMode(js.mode())
        .addAllBlocks(layout.toSpecs(js.blockLearningRates(layout)))
        .setNumShards(js.numShards())
        .setNumWorkers(js.numWorkers())
        .setLearningRate(js.learningRate())
        .setSeed(js.seed())
        .setQuorum(js.quorum())
        .setStalenessBound(js.stalenessBound())
        .setLocalSteps(js.localSteps())
        .setMaxStaleness(js.maxStaleness())
        .setStalenessLr(js.stalenessLr())
        .setOptimizer(OptimizerSpec.newBuilder().setKind(js.optimizer()))
        .setParticipation(js.participation())
        .setLeaseMillis(js.leaseMillis())
        .build();
  }

  private static String blocksPerShard(BlockLayout layout) {
    StringBuilder sb = new StringBuilder();
    for (int s = 0; s < layout.numShards(); s++) {
      sb.append(s == 0 ? "" : ", ").append(layout.blocksOf(s).size()).append(" on shard ")
          .append(s);
    }
    return sb.toString();
  }

  private static long peakHeapBytes() {
    long sum = 0;
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) {
        sum += p.getPeakUsage().getUsed();
      }
    }
    return sum;
  }
}
