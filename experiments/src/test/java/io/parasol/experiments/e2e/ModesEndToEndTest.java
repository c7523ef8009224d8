package io.parasol.experiments.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.parasol.common.BlockLayout;
import io.parasol.common.FloatCodec;
import io.parasol.common.Initializer;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.PushKind;
import io.parasol.client.PsClient;
import io.parasol.worker.data.Batches;
import io.parasol.worker.data.Dataset;
import io.parasol.server.LocalCluster;
import io.parasol.experiments.runner.LocalRunner;
import io.parasol.worker.model.Model;
import io.parasol.worker.model.Models;
import io.parasol.worker.train.JobSettings;
import io.parasol.worker.train.TrainingData;
import io.parasol.worker.train.TrainingLoop;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/** ssp, local-update SGD and coordinate-wise async SGD over real shards on loopback. */
@Tag("slow")
class ModesEndToEndTest {
  private static final TrainingData DATA = Jobs.digits();
  private static final Model SOFTMAX = Models.create("softmax", DATA.train().numFeatures(),
      DATA.train().numClasses());

  @Test
  void localWithOneLocalStep_equalsSyncStepForStep() throws Exception {
    JobSettings sync = Jobs.settings(Mode.MODE_SYNC, 2, 2, 0.5f);
    JobSettings local = Jobs.builder(Mode.MODE_LOCAL, 2, 2, 0.5f).localSteps(1).build();
    float[] a = Runs.train(sync, SOFTMAX, DATA, 25);
    float[] b = Runs.train(local, SOFTMAX, DATA, 25);
    double diff = Runs.maxAbsDiff(a, b);
    System.out.printf("local(tau=1) vs sync after 25 steps: max |diff| = %.3g%n", diff);
    assertThat(diff).isLessThan(1e-5);
  }

  @Test
  void localRound_isTheMeanOfTheWorkersIndependentModels() throws Exception {
    int tau = 3;
    JobSettings js = Jobs.builder(Mode.MODE_LOCAL, 2, 3, 0.5f).localSteps(tau).build();
    float[] distributed = Runs.train(js, SOFTMAX, DATA, tau); // one round

    BlockLayout layout = js.layout(SOFTMAX);
    float[] x0 = Initializer.initialVector(layout, js.seed());
    double[] mean = new double[x0.length];
    for (int k = 0; k < js.numWorkers(); k++) {
      float[] x = x0.clone();
      Batches batches = new Batches(DATA.part(js, k), 32, TrainingLoop.workerSeed(js.seed(), k));
      for (int t = 0; t < tau; t++) {
        Batches.Batch batch = batches.next();
        float[] g = SOFTMAX.lossAndGradient(Nd4j.create(x, new long[] {1, x.length},
            DataType.FLOAT), batch.features(), batch.targets()).gradient().toFloatVector();
        for (int i = 0; i < x.length; i++) {
          x[i] -= 0.5f * g[i];
        }
      }
      for (int i = 0; i < x.length; i++) {
        mean[i] += x[i] / js.numWorkers();
      }
    }
    double diff = 0;
    for (int i = 0; i < mean.length; i++) {
      diff = Math.max(diff, Math.abs(mean[i] - distributed[i]));
    }
    assertThat(Runs.maxAbsDiff(distributed, x0)).isGreaterThan(0.01);
    assertThat(diff).isLessThan(1e-5);
  }

  @Test
  void coordinateWise_workerWithABlockSubsetNeverChangesTheOthers() throws Exception {
    JobSettings js = Jobs.builder(Mode.MODE_ASYNC, 2, 4, 0.5f).updateBlocks("round-robin")
        .partition("iid").build();
    BlockLayout layout = js.layout(SOFTMAX);
    JobSpec spec = js.spec("dasgd", SOFTMAX, layout);
    int[] mine = js.updateBlocksFor(1, layout);
    assertThat(mine).containsExactly(1, 5);
    try (LocalCluster cluster = LocalCluster.start(2, null);
        PsClient c = PsClient.connect(cluster.addresses(), layout, Duration.ofSeconds(30),
            Duration.ofSeconds(30))) {
      c.init(spec);
      float[] before = new float[layout.dimension()];
      long[] v0 = c.pull(1, before, 0, 0);
      Dataset part = DATA.part(js, 1);
      TrainingLoop loop = new TrainingLoop(c, SOFTMAX, part, null,
          new TrainingLoop.Config(1, js, 20, 32, 0), null);
      loop.run();
      float[] after = new float[layout.dimension()];
      long[] v1 = c.pull(1, after, 0, 0);
      for (BlockLayout.Block b : layout.blocks()) {
        boolean owned = Arrays.stream(mine).anyMatch(id -> id == b.id());
        float[] pb = Arrays.copyOfRange(before, b.offset(), b.offset() + b.length());
        float[] pa = Arrays.copyOfRange(after, b.offset(), b.offset() + b.length());
        if (owned) {
          assertThat(v1[b.id()]).isEqualTo(20);
          assertThat(pa).isNotEqualTo(pb);
        } else {
          assertThat(v1[b.id()]).isEqualTo(v0[b.id()]).isZero();
          assertThat(FloatCodec.encode(pa)).isEqualTo(FloatCodec.encode(pb));
        }
      }
      // A push naming only block 5 leaves every other block's version alone.
      c.push(1, 20, PushKind.PUSH_GRADIENT, new float[layout.dimension()], v1, new int[] {5},
          0f);
      long[] v2 = c.pull(1, after, 0, 0);
      for (int id = 0; id < v2.length; id++) {
        assertThat(v2[id]).isEqualTo(id == 5 ? v1[id] + 1 : v1[id]);
      }
    }
  }

  private static LocalRunner.Summary run(JobSettings js, int epochs) throws Exception {
    LocalRunner.Summary s = LocalRunner.run(Jobs.options(js, epochs), null, null);
    System.out.print(LocalRunner.table(s));
    return s;
  }

  @Test
  void ssp_boundTwo_fourWorkers_reachesNinetyPercent() throws Exception {
    LocalRunner.Summary s = run(Jobs.builder(Mode.MODE_SSP, 2, 4, 0.5f).stalenessBound(2).build(),
        10);
    assertThat(s.testAccuracy()).isGreaterThanOrEqualTo(0.90);
    assertThat(s.modeParameters()).containsEntry("staleness_bound", 2);
  }

  @Test
  void local_fourLocalSteps_fourWorkers_reachesNinetyPercent() throws Exception {
    LocalRunner.Summary s = run(Jobs.builder(Mode.MODE_LOCAL, 2, 4, 0.5f).localSteps(4).build(),
        10);
    assertThat(s.testAccuracy()).isGreaterThanOrEqualTo(0.90);
    assertThat(s.modeParameters()).containsEntry("local_steps", 4);
  }

  @Test
  void asyncRoundRobinBlocks_fourWorkers_reachesNinetyPercent() throws Exception {
    LocalRunner.Summary s = run(Jobs.builder(Mode.MODE_ASYNC, 2, 4, 0.5f)
        .updateBlocks("round-robin").partition("shared").build(), 10);
    assertThat(s.testAccuracy()).isGreaterThanOrEqualTo(0.90);
    // Each worker pushes only its own blocks: one update per block per step of its owner.
    assertThat(s.updatesApplied()).isEqualTo(s.stepsPerWorker() * s.blocks());
  }
}
