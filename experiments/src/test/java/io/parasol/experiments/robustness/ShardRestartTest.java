package io.parasol.experiments.robustness;

import static org.assertj.core.api.Assertions.assertThat;

import io.parasol.client.PsClient;
import io.parasol.common.BlockLayout;
import io.parasol.proto.v1.Mode;
import io.parasol.server.ShardServer;
import io.parasol.server.checkpoint.Checkpoints;
import io.parasol.worker.data.Scaling;
import io.parasol.worker.model.Model;
import io.parasol.worker.model.Models;
import io.parasol.worker.train.JobSettings;
import io.parasol.worker.train.TrainingData;
import io.parasol.worker.train.TrainingLoop;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Restarts are part of the protocol: a shard is stopped as a killed process would be (no last
 * checkpoint) and a new one restored from its checkpoint directory on the same port, while
 * workers train; every worker notices the rollback, pulls again and finishes its steps, and the
 * shards' versions add up.
 *
 * <p>Deterministic: the workers meet at barriers inside their gradient computation (after a
 * pull, before the push, so no push is in flight): at their J-th step the shard writes its
 * checkpoint, at their K-th it is halted and restored. The pushes of steps J..K-1 are lost;
 * each worker's K-th push, computed from the old incarnation, is refused by the restored shard
 * (the other shard applies it) and the step is computed again.
 */
@Tag("slow")
class ShardRestartTest {
  private static final int SHARDS = 2;
  private static final int WORKERS = 2;
  private static final long STEPS = 30;
  private static final int CHECKPOINT_AT = 8;
  private static final int RESTART_AT = 15;

  @TempDir
  Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"async", "ssp", "dasgd-round-robin"})
  void shardRestoredFromCheckpoint_workersRollBackAndFinish_versionsAddUp(String mode)
      throws Exception {
    TrainingData data = TrainingData.load("digits", null, -1, false, false, 0.2,
        Scaling.parse("minmax"), 1);
    Model softmax = Models.create("softmax", data.train().numFeatures(),
        data.train().numClasses());
    JobSettings js = switch (mode) {
      case "ssp" -> JobSettings.builder(Mode.MODE_SSP, SHARDS, WORKERS, 0.5f)
          .stalenessBound(2).build();
      case "dasgd-round-robin" -> JobSettings.builder(Mode.MODE_ASYNC, SHARDS, WORKERS, 0.5f)
          .updateBlocks("round-robin").partition("iid").build();
      default -> JobSettings.defaults(Mode.MODE_ASYNC, SHARDS, WORKERS, 0.5f);
    };
    BlockLayout layout = js.layout(softmax);
    Checkpoints cp = new Checkpoints(dir, 0);
    ShardServer[] shards = new ShardServer[SHARDS];
    shards[0] = checkpointed(ShardServer.forAddress("127.0.0.1", 0, 0, null), cp).start();
    int port0 = shards[0].port();
    shards[1] = ShardServer.forAddress("127.0.0.1", 0, 1, null).start();
    List<String> addresses = List.of("127.0.0.1:" + port0, "127.0.0.1:" + shards[1].port());

    AtomicLong restoredVersion = new AtomicLong(-1);
    CyclicBarrier checkpoint = new CyclicBarrier(WORKERS, () -> {
      assertThat(shards[0].checkpointIfChanged()).isTrue();
    });
    CyclicBarrier restart = new CyclicBarrier(WORKERS, () -> {
      try {
        shards[0].halt();
        shards[0] = checkpointed(ShardServer.forAddress("127.0.0.1", port0, 0, null), cp)
            .start();
        restoredVersion.set(shards[0].core().blockVersion(layout.blocksOf(0).get(0).id()));
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });

    io.micrometer.core.instrument.simple.SimpleMeterRegistry registry =
        new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    ExecutorService pool = Executors.newFixedThreadPool(WORKERS);
    List<PsClient> clients = new ArrayList<>();
    List<TrainingLoop.Result> results = new ArrayList<>();
    try {
      List<Future<TrainingLoop.Result>> fs = new ArrayList<>();
      for (int k = 0; k < WORKERS; k++) {
        PsClient c = PsClient.connect(addresses, layout, Duration.ofSeconds(30),
            Duration.ofSeconds(60));
        clients.add(c);
        c.init(js.spec("restart-" + mode, softmax, layout));
        Model m = new Meeting(softmax, checkpoint, restart);
        TrainingLoop loop = new TrainingLoop(c, m, data.part(js, k), null,
            new TrainingLoop.Config(k, js, STEPS, 32, 0), null,
            new io.parasol.worker.train.WorkerMetrics(registry, k),
            io.parasol.worker.train.DelayModel.REAL);
        fs.add(pool.submit(loop::run));
      }
      for (Future<TrainingLoop.Result> f : fs) {
        results.add(f.get(5, TimeUnit.MINUTES));
      }
    } finally {
      pool.shutdownNow();
      for (PsClient c : clients) {
        c.close();
      }
      for (ShardServer s : shards) {
        s.stop(5, TimeUnit.SECONDS);
      }
    }

    long lost = RESTART_AT - CHECKPOINT_AT; // steps per worker applied after the checkpoint
    for (TrainingLoop.Result r : results) {
      assertThat(r.steps()).isEqualTo(STEPS);
      assertThat(r.pushes()).isEqualTo(STEPS);
      assertThat(r.rollbacks()).as("worker %d rollbacks", r.worker()).isEqualTo(1);
      assertThat(registry.get(io.parasol.common.MetricNames.WORKER_ROLLBACKS)
          .tag("worker", Integer.toString(r.worker())).counter().count())
          .as("worker %d rollbacks metric", r.worker()).isEqualTo(1.0);
    }
    // Updates lost: block i of shard 0 lost owners(i) x (RESTART_AT - CHECKPOINT_AT) updates
    // (the pushes of steps J..K-1); the rollback's loss is the most any of its blocks lost.
    // Every push was acknowledged before the restart, so the worker whose push was applied
    // last saw each block's final version: the job's figure (the most any worker saw) is
    // exact; one worker's is a lower bound (it may not have read the other's last push).
    long lostPerRestart = layout.blocksOf(0).stream()
        .mapToLong(b -> owners(js, layout, b.id()) * lost).max().orElseThrow();
    for (TrainingLoop.Result r : results) {
      assertThat(r.rollbackEvents()).singleElement().satisfies(e -> {
        assertThat(e.lossKnown()).isTrue();
        for (BlockLayout.Block b : layout.blocksOf(0)) {
          assertThat(e.restored()).containsEntry(b.id(),
              owners(js, layout, b.id()) * (CHECKPOINT_AT - 1));
        }
      });
      assertThat(r.updatesLost()).as("worker %d updates lost", r.worker())
          .isBetween(0L, lostPerRestart);
      assertThat(registry.get(io.parasol.common.MetricNames.WORKER_UPDATES_LOST)
          .tag("worker", Integer.toString(r.worker())).tag("shard", "0").counter().count())
          .as("worker %d updates lost metric", r.worker()).isEqualTo(r.updatesLost());
    }
    assertThat(io.parasol.client.ShardRollback.jobUpdatesLost(
        results.stream().map(TrainingLoop.Result::rollbackEvents).toList()))
        .as("the job's updates lost").isEqualTo(lostPerRestart);
    // Before the restart every worker had pushed CHECKPOINT_AT - 1 steps into the checkpoint.
    assertThat(restoredVersion.get()).isEqualTo(
        owners(js, layout, layout.blocksOf(0).get(0).id()) * (CHECKPOINT_AT - 1));
    for (BlockLayout.Block b : layout.blocks()) {
      long expected = 0;
      for (int k = 0; k < WORKERS; k++) {
        if (!owns(js, layout, k, b.id())) {
          continue;
        }
        // Restarted shard: applied = pushed - lost after the checkpoint. The other shard also
        // applied the worker's refused step once (its gradient got there before the restarted
        // shard refused it), if the worker pushes to the restarted shard at all.
        final int w = k;
        boolean refused = layout.blocksOf(0).stream().anyMatch(x -> owns(js, layout, w, x.id()));
        expected += b.shard() == 0 ? STEPS - lost : STEPS + (refused ? 1 : 0);
      }
      long applied = shards[b.shard()].core().blockVersion(b.id());
      assertThat(applied).as("block %d on shard %d", b.id(), b.shard()).isEqualTo(expected);
    }
  }

  private static ShardServer checkpointed(ShardServer s, Checkpoints cp) {
    // Checkpoints only when the test says (the interval never comes, no update-count trigger).
    return s.checkpointing(cp, Duration.ofHours(1), 0);
  }

  /** How many workers push block {@code id}. */
  private static long owners(JobSettings js, BlockLayout layout, int id) {
    long n = 0;
    for (int k = 0; k < js.numWorkers(); k++) {
      n += owns(js, layout, k, id) ? 1 : 0;
    }
    return n;
  }

  /** Whether worker {@code k} pushes block {@code id}. */
  private static boolean owns(JobSettings js, BlockLayout layout, int k, int id) {
    int[] mine = js.updateBlocksFor(k, layout);
    if (mine == null) {
      return true;
    }
    for (int x : mine) {
      if (x == id) {
        return true;
      }
    }
    return false;
  }

  /**
   * A worker's model that meets the other workers at its CHECKPOINT_AT-th and RESTART_AT-th
   * gradient (between pull and push).
   */
  private static final class Meeting implements Model {
    private final Model inner;
    private final CyclicBarrier checkpoint;
    private final CyclicBarrier restart;
    private int calls;

    Meeting(Model inner, CyclicBarrier checkpoint, CyclicBarrier restart) {
      this.inner = inner;
      this.checkpoint = checkpoint;
      this.restart = restart;
    }

    @Override
    public LossAndGradient lossAndGradient(INDArray params, INDArray features,
        INDArray targets) {
      calls++;
      try {
        if (calls == CHECKPOINT_AT) {
          checkpoint.await(2, TimeUnit.MINUTES);
        } else if (calls == RESTART_AT) {
          restart.await(2, TimeUnit.MINUTES);
        }
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
      return inner.lossAndGradient(params, features, targets);
    }

    @Override
    public Evaluation evaluate(INDArray params, INDArray features, INDArray targets) {
      return inner.evaluate(params, features, targets);
    }

    @Override
    public String name() {
      return inner.name();
    }

    @Override
    public List<BlockLayout.Tensor> tensors() {
      return inner.tensors();
    }
  }
}
