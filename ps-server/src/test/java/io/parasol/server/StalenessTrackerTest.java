package io.parasol.server;

import io.parasol.server.core.ShardCore;
import io.parasol.server.core.ShardException;
import io.parasol.server.core.PushPlan;
import io.parasol.server.core.StalenessTracker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.parasol.common.FloatCodec;
import io.parasol.common.MetricNames;
import io.parasol.proto.v1.BlockRead;
import io.parasol.proto.v1.BlockSpec;
import io.parasol.proto.v1.InitKind;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.PushHeader;
import io.parasol.proto.v1.PushKind;
import org.junit.jupiter.api.Test;

/**
 * The staleness tracker's figures for a scripted sequence of pushes: exact τ counts, κ_i and
 * Δ_ij, both through the tracker and through the Micrometer meters.
 */
class StalenessTrackerTest {

  /** Three blocks of one float: 0 and 1 on this shard (0), 2 on shard 1. */
  private static JobSpec spec() {
    JobSpec.Builder b = JobSpec.newBuilder().setJobName("aoi").setMode(Mode.MODE_ASYNC)
        .setNumShards(2).setNumWorkers(2).setLearningRate(0.1f).setSeed(3);
    int[] shards = {0, 0, 1};
    for (int i = 0; i < 3; i++) {
      b.addBlocks(BlockSpec.newBuilder().setId(i).setLength(1).setShard(shards[i])
          .setInit(InitKind.INIT_ZEROS));
    }
    return b.build();
  }

  private static void push(ShardCore core, JobSpec spec, int worker, long seq, int block,
      long v0, long v1, long v2) throws ShardException {
    long[] read = {v0, v1, v2};
    PushHeader.Builder h = PushHeader.newBuilder().setFingerprint(Specs.fp(spec))
        .setWorker(worker).setSequence(seq).setKind(PushKind.PUSH_GRADIENT)
        .addBlocks(BlockRead.newBuilder().setBlockId(block).setVersion(read[block]));
    for (int j = 0; j < 3; j++) {
      if (j != block) {
        h.addSeen(BlockRead.newBuilder().setBlockId(j).setVersion(read[j]));
      }
    }
    PushPlan plan = core.preparePush(h.build());
    plan.accept(block, 0, FloatCodec.encode(new float[] {1f}));
    core.push(plan);
  }

  @Test
  void scriptedPushes_giveExactStalenessKappaAndAoi() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    ShardCore core = new ShardCore(0, registry, Runnable::run);
    JobSpec spec = spec();
    core.init(spec, 0);

    // versions (b0, b1, b2-as-seen) read by each push, and the block it updates:
    push(core, spec, 0, 1, 0, 0, 0, 0); // b0: τ=0; Δ01 = 0-0, Δ02 = known(0)-0 = 0
    push(core, spec, 1, 1, 0, 0, 0, 5); // b0: τ=1; Δ01 = 0, Δ02 = 5-5 = 0 (known b2 is now 5)
    push(core, spec, 0, 2, 1, 2, 0, 3); // b1: τ=0; Δ10 = 2-2 = 0, Δ12 = 5-3 = 2
    push(core, spec, 1, 2, 0, 0, 1, 5); // b0: τ=2; Δ01 = 1-1 = 0, Δ02 = 0
    push(core, spec, 0, 3, 1, 1, 0, 5); // b1: τ=1; Δ10 = 3-1 = 2, Δ12 = 0

    StalenessTracker t = core.tracker();
    assertThat(t.stalenessCount(0)).isEqualTo(2);
    assertThat(t.stalenessCount(1)).isEqualTo(2);
    assertThat(t.stalenessCount(2)).isEqualTo(1);
    assertThat(t.stalenessCount(3)).isZero();
    assertThat(t.updates(0)).isEqualTo(3);
    assertThat(t.updates(1)).isEqualTo(2);
    // Five pushes, each one iteration updating one block: κ_i = ν_i / n, not a share.
    assertThat(t.iterations()).isEqualTo(5);
    assertThat(t.kappa(0)).isCloseTo(0.6, within(1e-12));
    assertThat(t.kappa(1)).isCloseTo(0.4, within(1e-12));
    assertThat(t.meanAoi(0, 1)).isZero();
    assertThat(t.meanAoi(0, 2)).isZero();
    assertThat(t.aoiCount(0, 2)).isEqualTo(3);
    assertThat(t.meanAoi(1, 0)).isCloseTo(1.0, within(1e-12));
    assertThat(t.meanAoi(1, 2)).isCloseTo(1.0, within(1e-12));

    // The same figures through Micrometer.
    var tau0 = registry.get(MetricNames.SHARD_STALENESS).tag("block", "0").summary();
    assertThat(tau0.count()).isEqualTo(3);
    assertThat(tau0.totalAmount()).isEqualTo(3.0);
    var aoi12 = registry.get(MetricNames.SHARD_AOI).tag("block", "1").tag("source", "2")
        .summary();
    assertThat(aoi12.count()).isEqualTo(2);
    assertThat(aoi12.totalAmount()).isEqualTo(2.0);
    assertThat(registry.get(MetricNames.SHARD_UPDATES).tag("block", "0").functionCounter().count())
        .isEqualTo(3.0);
    assertThat(core.status().getStalenessCountsList().subList(0, 3)).containsExactly(2L, 2L, 1L);
    assertThat(core.status().getIterations()).isEqualTo(5);
    assertThat(core.status().getBlocks(1).getKappa()).isCloseTo(0.4, within(1e-12));
    // α = 0.1, L = 1: (0.1/0.6)·(0 + 0) + (0.1/0.4)·(1 + 1) = 0.5.
    assertThat(t.errorFloor(null)).isCloseTo(0.5, within(1e-6));
    assertThat(core.status().getErrorFloor()).isCloseTo(0.5, within(1e-6));
    assertThat(registry.get(MetricNames.SHARD_ERROR_FLOOR).gauge().value())
        .isCloseTo(0.5, within(1e-6));
    assertThat(registry.get(MetricNames.SHARD_ERROR_FLOOR_LOCAL).tag("block", "1").gauge()
        .value()).isCloseTo(0.2, within(1e-6));
  }

  /** One push updating blocks {@code ids}, all read at their current versions. */
  private static void pushBlocks(ShardCore core, JobSpec spec, int worker, long seq, int... ids)
      throws ShardException {
    PushHeader.Builder h = PushHeader.newBuilder().setFingerprint(Specs.fp(spec))
        .setWorker(worker).setSequence(seq).setKind(PushKind.PUSH_GRADIENT);
    for (int id : ids) {
      h.addBlocks(BlockRead.newBuilder().setBlockId(id)
          .setVersion(core.tracker().updates(id)));
    }
    PushPlan plan = core.preparePush(h.build());
    for (int id : ids) {
      plan.accept(id, 0, FloatCodec.encode(new float[] {1f}));
    }
    core.push(plan);
  }

  /** Four blocks of one float, all on one shard, m workers. */
  private static JobSpec oneShard(int workers) {
    JobSpec.Builder b = JobSpec.newBuilder().setJobName("kappa").setMode(Mode.MODE_ASYNC)
        .setNumShards(1).setNumWorkers(workers).setLearningRate(0.1f).setSeed(3);
    for (int i = 0; i < 4; i++) {
      b.addBlocks(BlockSpec.newBuilder().setId(i).setLength(1).setShard(0)
          .setInit(InitKind.INIT_ZEROS));
    }
    return b.build();
  }

  @Test
  void asyncPushesOfEveryBlock_giveKappaOne() throws Exception {
    ShardCore core = new ShardCore(0, new SimpleMeterRegistry(), Runnable::run);
    JobSpec spec = oneShard(2);
    core.init(spec, 0);
    for (int k = 1; k <= 12; k++) {
      pushBlocks(core, spec, k % 2, k, 0, 1, 2, 3);
    }
    assertThat(core.tracker().iterations()).isEqualTo(12);
    for (int i = 0; i < 4; i++) {
      assertThat(core.tracker().kappa(i)).isEqualTo(1.0);
      assertThat(core.status().getBlocks(i).getKappa()).isEqualTo(1.0);
    }
  }

  @Test
  void roundRobinOverMWorkers_givesKappaOneOverM() throws Exception {
    for (int m : new int[] {2, 4}) {
      ShardCore core = new ShardCore(0, new SimpleMeterRegistry(), Runnable::run);
      JobSpec spec = oneShard(m);
      core.init(spec, 0);
      long[] seq = new long[m];
      // Worker k owns the blocks i with i mod m = k; the workers take turns, 6 rounds each.
      for (int step = 0; step < 6 * m; step++) {
        int k = step % m;
        int[] mine = java.util.stream.IntStream.range(0, 4).filter(i -> i % m == k).toArray();
        pushBlocks(core, spec, k, ++seq[k], mine);
      }
      for (int i = 0; i < 4; i++) {
        assertThat(core.tracker().kappa(i)).as("m=%d block %d", m, i)
            .isCloseTo(1.0 / m, within(1e-12));
      }
    }
  }
}
