package io.parasol.experiments.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.parasol.client.PsClient;
import io.parasol.common.BlockLayout;
import io.parasol.common.Initializer;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.server.LocalCluster;
import io.parasol.worker.data.Batches;
import io.parasol.worker.data.Dataset;
import io.parasol.worker.model.Model;
import io.parasol.worker.model.Models;
import io.parasol.worker.train.JobKeys;
import io.parasol.worker.train.JobSettings;
import io.parasol.worker.train.TrainingLoop;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A step-size schedule through real shards over loopback gRPC: one worker in sync mode (the
 * shards apply the schedule) and in local mode (the worker applies it to its local steps)
 * computes exactly the iterates of plain mini-batch SGD with η·s(t/T) at step t of T.
 */
class ScheduledSgdMatchesLocalSgdTest {
  private static final int STEPS = 60;
  private static final float LR = 0.5f;

  @Test
  void syncOneWorker_cosine_matchesScheduledSgd() throws Exception {
    check(Mode.MODE_SYNC, "cosine");
  }

  @Test
  void localOneWorker_stepDecay_matchesScheduledSgd() throws Exception {
    check(Mode.MODE_LOCAL, "step:0.5,0.8:0.2");
  }

  private static void check(Mode mode, String schedule) throws Exception {
    JobSettings js = Jobs.settings(mode, 2, 1, LR).toBuilder().localSteps(4)
        .lrSchedule(JobKeys.LR_SCHEDULE.parse(schedule)).build();
    Dataset train = Jobs.digits().part(1, 0);
    Model model = Models.create("softmax", train.numFeatures(), train.numClasses());
    BlockLayout layout = js.layout(model);
    JobSpec spec = js.spec("scheduled", model, layout, STEPS);

    float[] distributed = new float[layout.dimension()];
    try (LocalCluster cluster = LocalCluster.start(2, null);
        PsClient client = PsClient.connect(cluster.addresses(), layout, Duration.ofSeconds(30),
            Duration.ofSeconds(30))) {
      client.init(spec);
      new TrainingLoop(client, model, train, null,
          new TrainingLoop.Config(0, js, STEPS, 32, 0), null).run();
      client.pull(0, distributed, 0, 0);
    }

    float[] x = Initializer.initialVector(layout, js.seed());
    Batches batches = new Batches(train, 32, TrainingLoop.workerSeed(js.seed(), 0));
    float[] plain = x.clone();
    Batches plainBatches = new Batches(train, 32, TrainingLoop.workerSeed(js.seed(), 0));
    for (int t = 0; t < STEPS; t++) {
      double p = (double) t / STEPS;
      double s = schedule.equals("cosine") ? 0.5 * (1 + Math.cos(Math.PI * p))
          : (p >= 0.5 ? 0.2 : 1) * (p >= 0.8 ? 0.2 : 1);
      step(model, batches, x, (float) (LR * s));
      step(model, plainBatches, plain, LR);
    }

    double maxDiff = 0;
    double maxAbs = 0;
    double fromPlain = 0;
    for (int i = 0; i < x.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(x[i] - distributed[i]));
      maxAbs = Math.max(maxAbs, Math.abs(x[i]));
      fromPlain = Math.max(fromPlain, Math.abs(plain[i] - distributed[i]));
    }
    assertThat(maxAbs).isGreaterThan(0.1);
    assertThat(maxDiff).as("against scheduled SGD").isLessThanOrEqualTo(1e-5 * Math.max(1,
        maxAbs));
    assertThat(fromPlain).as("the schedule changed the iterates").isGreaterThan(1e-3);
  }

  private static void step(Model model, Batches batches, float[] x, float eta) {
    Batches.Batch b = batches.next();
    float[] g = model.lossAndGradient(Nd4j.create(x, new long[] {1, x.length},
        DataType.FLOAT), b.features(), b.targets()).gradient().toFloatVector();
    for (int i = 0; i < x.length; i++) {
      x[i] -= eta * g[i];
    }
  }
}
