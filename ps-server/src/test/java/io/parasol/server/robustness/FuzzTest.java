package io.parasol.server.robustness;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.parasol.common.FloatCodec;
import io.parasol.common.JobSpecs;
import io.parasol.proto.v1.BlockChunk;
import io.parasol.proto.v1.BlockRead;
import io.parasol.proto.v1.BlockSpec;
import io.parasol.proto.v1.BlockStatus;
import io.parasol.proto.v1.InitKind;
import io.parasol.proto.v1.InitRequest;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.PullChunk;
import io.parasol.proto.v1.PullRequest;
import io.parasol.proto.v1.PushHeader;
import io.parasol.proto.v1.PushKind;
import io.parasol.proto.v1.PushMessage;
import io.parasol.proto.v1.StatusResponse;
import io.parasol.server.ShardServer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Sends at least 10,000 generated malformed or hostile requests to a real shard over gRPC on
 * 127.0.0.1 and checks the shard's contract for bad input: every request is refused with a
 * status that is neither OK nor INTERNAL nor UNKNOWN, and afterwards the shard still answers
 * and every block is bit-identical with the same version. Prints the status codes per request
 * category.
 */
@Tag("slow")
class FuzzTest {
  private static final long SEED = 0x5EED_F022_2025L;
  private static final int REQUESTS = 10_000;
  private static final int IN_FLIGHT = 8;
  /** A run that has not sent every request by then fails instead of running on. */
  private static final long BUDGET_SECONDS = 240;
  private static final int WORKERS = 4;
  private static final int[] LENGTHS = {7, 1_000, 70_000, 33};

  private final List<ShardServer> servers = new ArrayList<>();
  private final List<ManagedChannel> channels = new ArrayList<>();
  private ExecutorService pool;

  @AfterEach
  void stop() throws Exception {
    if (pool != null) {
      pool.shutdownNow();
      pool.awaitTermination(10, TimeUnit.SECONDS);
    }
    for (ManagedChannel c : channels) {
      c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    for (ShardServer s : servers) {
      s.stop(5, TimeUnit.SECONDS);
    }
  }

  private ShardServer startShard() throws Exception {
    ShardServer s = ShardServer.forAddress("127.0.0.1", 0, 0, null).start();
    servers.add(s);
    return s;
  }

  private Wire connect(ShardServer s) {
    ManagedChannel c = Wire.channelTo(s.port());
    channels.add(c);
    return new Wire(c);
  }

  private static JobSpec spec(Mode mode) {
    JobSpec.Builder b = JobSpec.newBuilder().setJobName("fuzz-" + mode).setMode(mode)
        .setNumShards(1).setNumWorkers(WORKERS).setLearningRate(0.1f).setSeed(11)
        // Leases outlast the run: an expired worker would let a sync step complete.
        .setLeaseMillis(3_600_000);
    for (int i = 0; i < LENGTHS.length; i++) {
      b.addBlocks(BlockSpec.newBuilder().setId(i).setName("b" + i).setLength(LENGTHS[i])
          .setShard(0).setInit(InitKind.INIT_UNIFORM).setInitScale(1f));
    }
    return b.build();
  }

  @Test
  @Timeout(value = 6, unit = TimeUnit.MINUTES)
  void hostileRequests_asyncShard_allRefusedAndStateUnchanged() throws Exception {
    ShardServer server = startShard();
    Wire wire = connect(server);
    JobSpec spec = spec(Mode.MODE_ASYNC);
    String fp = init(wire, spec);
    boolean[][] contributed = new boolean[LENGTHS.length][WORKERS];
    fuzz("async", server, wire, spec, fp, contributed, SEED);
  }

  @Test
  @Timeout(value = 6, unit = TimeUnit.MINUTES)
  void hostileRequests_syncShard_allRefusedAndStateUnchanged() throws Exception {
    ShardServer server = startShard();
    Wire wire = connect(server);
    JobSpec spec = spec(Mode.MODE_SYNC);
    String fp = init(wire, spec);
    // Legitimate traffic first, so that there is a step that is over (block 0 at version 1)
    // and an open step with a contribution (worker 0 in block 1's step 0).
    for (int w = 0; w < WORKERS; w++) {
      assertThat(validPush(wire, fp, w, 0, 0).status().getCode()).isEqualTo(Status.Code.OK);
    }
    assertThat(validPush(wire, fp, 0, 1, 0).status().getCode()).isEqualTo(Status.Code.OK);
    assertThat(server.core().blockVersion(0)).isEqualTo(1);
    boolean[][] contributed = new boolean[LENGTHS.length][WORKERS];
    contributed[1][0] = true;
    fuzz("sync", server, wire, spec, fp, contributed, SEED + 1);
  }

  /**
   * Init with specs that break the contract, on a shard that has no job yet: each is refused
   * (not INTERNAL or UNKNOWN) and the shard stays uninitialised. A spec the shard accepts is
   * reported and the shard replaced by a fresh one.
   */
  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void invalidInit_freshShard_refusedAndShardStaysEmpty() throws Exception {
    SplittableRandom rnd = new SplittableRandom(SEED + 2);
    System.out.printf("FuzzTest fresh-shard Init: seed=0x%X%n", SEED + 2);
    ShardServer server = startShard();
    Wire wire = connect(server);
    Tally tally = new Tally();
    int replaced = 0;
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    int sent = 0;
    for (; sent < 2_000 && System.nanoTime() < end; sent++) {
      JobSpec base = InvalidSpecs.validBase(rnd);
      InvalidSpecs.Mutated m = InvalidSpecs.mutate(rnd, base);
      String category = "init.fresh." + lastMutation(m.what());
      Wire.Outcome o = wire.init(InitRequest.newBuilder().setSpec(m.spec()).setShard(0).build());
      tally.record(category, o, () -> "Init(fresh shard) " + m.what());
      boolean initialised = wire.status().getInitialised();
      if (initialised) {
        tally.violation(category, "the shard took the spec: now initialised",
            () -> "Init(fresh shard) " + m.what());
      }
      if (initialised) {
        // Go on against a fresh shard.
        replaced++;
        ManagedChannel c = channels.remove(channels.size() - 1);
        c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        servers.remove(server);
        server.stop(5, TimeUnit.SECONDS);
        server = startShard();
        wire = connect(server);
      }
    }
    report("fresh-shard Init", tally, sent);
    System.out.printf("FuzzTest fresh-shard Init: %d shards took an invalid spec%n", replaced);
    assertThat(sent).as("Init requests sent").isGreaterThanOrEqualTo(1_000);
    assertThat(tally.violations()).as("Init requests that broke the rule").isEmpty();
  }

  /** "block[2].length=..." as "block.length": the kind of the last (decisive) mutation. */
  private static String lastMutation(String what) {
    String last = what.substring(what.lastIndexOf(", ") + 1).trim();
    return last.replaceAll("\\[\\d+]", "").replaceAll("[= ].*", "");
  }

  private static String init(Wire wire, JobSpec spec) {
    assertThat(wire.init(InitRequest.newBuilder().setSpec(spec).setShard(0).build()).status()
        .getCode()).isEqualTo(Status.Code.OK);
    return JobSpecs.fingerprint(spec);
  }

  /** A valid sync gradient of ones from {@code worker} for {@code block} at {@code step}. */
  private static Wire.Outcome validPush(Wire wire, String fp, int worker, int block, long step)
      throws InterruptedException {
    float[] g = new float[LENGTHS[block]];
    Arrays.fill(g, 1f);
    PushHeader h = PushHeader.newBuilder().setFingerprint(fp).setWorker(worker)
        .setSequence(1 + block).setStep(step).setKind(PushKind.PUSH_GRADIENT)
        .addBlocks(BlockRead.newBuilder().setBlockId(block).setVersion(step)).build();
    List<PushMessage> msgs = List.of(PushMessage.newBuilder().setHeader(h).build(),
        PushMessage.newBuilder().setChunk(BlockChunk.newBuilder().setBlockId(block)
            .setValues(FloatCodec.encode(g))).build());
    return wire.push(msgs, -1, Wire.DEADLINE_MS);
  }

  private void fuzz(String name, ShardServer server, Wire wire, JobSpec spec, String fp,
      boolean[][] contributed, long seed) throws Exception {
    System.out.printf("FuzzTest %s: seed=0x%X requests=%d in-flight=%d%n", name, seed, REQUESTS,
        IN_FLIGHT);
    int[][] bits = new int[LENGTHS.length][];
    long[] versions = new long[LENGTHS.length];
    for (int b = 0; b < LENGTHS.length; b++) {
      bits[b] = bits(server.core().blockValues(b));
      versions[b] = server.core().blockVersion(b);
    }
    StatusResponse before = wire.status();

    SplittableRandom rnd = new SplittableRandom(seed);
    HostileRequests gen = new HostileRequests(rnd,
        new HostileRequests.Target(spec.getMode(), spec, fp, LENGTHS, versions.clone(),
            contributed), wire, () -> Wire.open(server.port()));
    Tally tally = new Tally();
    pool = Executors.newFixedThreadPool(IN_FLIGHT);
    Semaphore slots = new Semaphore(IN_FLIGHT);
    long t0 = System.nanoTime();
    long end = t0 + TimeUnit.SECONDS.toNanos(BUDGET_SECONDS);
    int sent = 0;
    for (; sent < REQUESTS && System.nanoTime() < end; sent++) {
      if (!slots.tryAcquire(Wire.DEADLINE_MS + 2 * Wire.SLACK_MS, TimeUnit.MILLISECONDS)) {
        break;
      }
      HostileRequests.Probe p = gen.next();
      pool.execute(() -> {
        try {
          tally.record(p.category(), p.call().send(), p.request());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
          tally.violation(p.category(), "the client call threw " + e, p.request());
        } finally {
          slots.release();
        }
      });
    }
    boolean drained = slots.tryAcquire(IN_FLIGHT, Wire.DEADLINE_MS + 2 * Wire.SLACK_MS,
        TimeUnit.MILLISECONDS);
    double seconds = (System.nanoTime() - t0) / 1e9;

    // The shard still answers, with its state as before.
    StatusResponse after = wire.status();
    assertThat(after.getInitialised()).isTrue();
    assertThat(after.getFingerprint()).isEqualTo(fp);
    for (int b = 0; b < LENGTHS.length; b++) {
      final int block = b;
      int[] now = bits(server.core().blockValues(b));
      if (!Arrays.equals(now, bits[b])) {
        tally.violation("STATE", "block " + b + " changed: " + differing(bits[b], now)
            + " of " + now.length + " values differ", () -> "(after all requests)");
      }
      if (server.core().blockVersion(b) != versions[b]) {
        tally.violation("STATE", "block " + b + " version " + versions[b] + " -> "
            + server.core().blockVersion(block), () -> "(after all requests)");
      }
    }
    if (after.getPushesApplied() != before.getPushesApplied()
        || after.getUpdatesApplied() != before.getUpdatesApplied()) {
      tally.violation("STATE", "counters moved: pushes_applied " + before.getPushesApplied()
          + " -> " + after.getPushesApplied() + ", updates_applied "
          + before.getUpdatesApplied() + " -> " + after.getUpdatesApplied(),
          () -> "(after all requests)");
    }
    // A valid pull by every worker (no stream slot leaked) returns the snapshot.
    for (int w = 0; w < WORKERS; w++) {
      List<PullChunk> chunks = wire.pullAll(PullRequest.newBuilder().setFingerprint(fp)
          .setWorker(w).build());
      float[][] got = new float[LENGTHS.length][];
      for (PullChunk c : chunks) {
        int b = c.getChunk().getBlockId();
        if (got[b] == null) {
          got[b] = new float[LENGTHS[b]];
        }
        FloatCodec.decode(c.getChunk().getValues(), got[b], c.getChunk().getOffset());
        assertThat(c.getVersion()).isEqualTo(server.core().blockVersion(b));
      }
      for (int b = 0; b < LENGTHS.length; b++) {
        assertThat(bits(got[b])).as("pulled block %d", b)
            .isEqualTo(bits(server.core().blockValues(b)));
      }
    }
    for (BlockStatus bs : after.getBlocksList()) {
      assertThat(bs.getVersion()).isEqualTo(server.core().blockVersion(bs.getId()));
    }
    System.out.printf("FuzzTest %s: %d requests in %.1f s (%.0f/s), shard counters: "
        + "pushes_rejected %d -> %d, pushes_dropped_late %d -> %d, pushes_applied %d -> %d%n",
        name, sent, seconds, sent / seconds, before.getPushesRejected(),
        after.getPushesRejected(), before.getPushesDroppedLate(), after.getPushesDroppedLate(),
        before.getPushesApplied(), after.getPushesApplied());
    report(name, tally, sent);
    assertThat(drained).as("every request answered").isTrue();
    assertThat(sent).as("requests sent within %d s", BUDGET_SECONDS).isEqualTo(REQUESTS);
    assertThat(tally.violations()).as("requests that broke the rule, or state that changed")
        .isEmpty();
  }

  private static void report(String name, Tally tally, int sent) {
    System.out.printf("FuzzTest %s: status codes per category (%d requests, %d cancelled by the"
        + " client, %d violations)%n%s", name, sent, tally.cancelledCount(),
        tally.violationCount(), tally.table());
    for (String v : tally.violations()) {
      System.out.println("  VIOLATION " + v);
    }
  }

  private static int[] bits(float[] v) {
    int[] out = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = Float.floatToRawIntBits(v[i]);
    }
    return out;
  }

  private static int differing(int[] a, int[] b) {
    int n = 0;
    for (int i = 0; i < a.length; i++) {
      if (a[i] != b[i]) {
        n++;
      }
    }
    return n;
  }
}
