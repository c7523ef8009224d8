package io.parasol.experiments.e2e;

import io.parasol.common.BlockLayout;
import io.parasol.client.PsClient;
import io.parasol.server.LocalCluster;
import io.parasol.worker.model.Model;
import io.parasol.worker.train.JobSettings;
import io.parasol.worker.train.TrainingData;
import io.parasol.worker.train.TrainingLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** Runs a job's workers on threads against a local cluster and returns the final model. */
final class Runs {
  private Runs() {}

  static float[] train(JobSettings js, Model model, TrainingData data, long steps)
      throws Exception {
    BlockLayout layout = js.layout(model);
    float[] x = new float[layout.dimension()];
    ExecutorService pool = Executors.newFixedThreadPool(js.numWorkers());
    List<PsClient> clients = new ArrayList<>();
    try (LocalCluster cluster = LocalCluster.start(js.numShards(), null)) {
      List<Future<TrainingLoop.Result>> fs = new ArrayList<>();
      for (int k = 0; k < js.numWorkers(); k++) {
        PsClient c = PsClient.connect(cluster.addresses(), layout, Duration.ofSeconds(30),
            Duration.ofSeconds(60));
        clients.add(c);
        c.init(js.spec("test", model, layout));
        TrainingLoop loop = new TrainingLoop(c, model, data.part(js, k), null,
            new TrainingLoop.Config(k, js, steps, 32, 0), null);
        fs.add(pool.submit(loop::run));
      }
      for (Future<TrainingLoop.Result> f : fs) {
        f.get();
      }
      clients.get(0).pull(0, x, 0, 0);
    } finally {
      pool.shutdownNow();
      for (PsClient c : clients) {
        c.close();
      }
    }
    return x;
  }

  static double maxAbsDiff(float[] a, float[] b) {
    double d = 0;
    for (int i = 0; i < a.length; i++) {
      d = Math.max(d, Math.abs(a[i] - b[i]));
    }
    return d;
  }
}
