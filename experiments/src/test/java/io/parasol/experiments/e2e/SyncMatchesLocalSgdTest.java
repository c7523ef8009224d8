package io.parasol.experiments.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.parasol.common.BlockLayout;
import io.parasol.common.Initializer;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.client.PsClient;
import io.parasol.worker.data.Batches;
import io.parasol.worker.data.Dataset;
import io.parasol.server.LocalCluster;
import io.parasol.worker.model.Model;
import io.parasol.worker.model.Models;
import io.parasol.worker.train.JobSettings;
import io.parasol.worker.train.TrainingLoop;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Sync mode with one worker, through two real shards over loopback gRPC, computes exactly the
 * iterates of plain mini-batch SGD on ND4J without a server: same initial values, same batches.
 */
class SyncMatchesLocalSgdTest {

  @Test
  void syncOneWorker_matchesPlainMiniBatchSgd() throws Exception {
    JobSettings js = Jobs.settings(Mode.MODE_SYNC, 2, 1, 0.5f);
    Dataset train = Jobs.digits().part(1, 0);
    Model model = Models.create("softmax", train.numFeatures(), train.numClasses());
    BlockLayout layout = js.layout(model);
    JobSpec spec = js.spec("equivalence", model, layout);
    int steps = 60;

    float[] distributed = new float[layout.dimension()];
    try (LocalCluster cluster = LocalCluster.start(2, null);
        PsClient client = PsClient.connect(cluster.addresses(), layout, Duration.ofSeconds(30),
            Duration.ofSeconds(30))) {
      client.init(spec);
      TrainingLoop.Result r = new TrainingLoop(client, model, train, null,
          new TrainingLoop.Config(0, js, steps, 32, 0), null).run();
      // The pull of step t+1 leaves with the push of step t and waits at the shard while that
      // push is applied; the time it waited counts only where the step blocked on it, so the
      // summary's pull share (pull - wait) is never negative.
      assertThat(r.waitSeconds()).isBetween(0.0, r.pullSeconds());
      long[] versions = client.pull(0, distributed, 0, 0);
      assertThat(versions).containsOnly(steps);
    }

    float[] x = Initializer.initialVector(layout, js.seed());
    Batches batches = new Batches(train, 32, TrainingLoop.workerSeed(js.seed(), 0));
    for (int t = 0; t < steps; t++) {
      Batches.Batch b = batches.next();
      float[] g = model.lossAndGradient(Nd4j.create(x, new long[] {1, x.length},
          DataType.FLOAT), b.features(), b.targets()).gradient().toFloatVector();
      for (int i = 0; i < x.length; i++) {
        x[i] -= 0.5f * g[i];
      }
    }

    double maxDiff = 0;
    double maxAbs = 0;
    for (int i = 0; i < x.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(x[i] - distributed[i]));
      maxAbs = Math.max(maxAbs, Math.abs(x[i]));
    }
    System.out.printf("sync(1 worker) vs local SGD after %d steps: max |diff| = %.3g (max |x| ="
        + " %.3g)%n", steps, maxDiff, maxAbs);
    assertThat(maxAbs).isGreaterThan(0.1);
    assertThat(maxDiff).isLessThanOrEqualTo(1e-6 * Math.max(1, maxAbs));
  }
}
