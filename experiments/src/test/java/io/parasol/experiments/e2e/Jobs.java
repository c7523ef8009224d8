package io.parasol.experiments.e2e;

import io.parasol.proto.v1.Mode;
import io.parasol.worker.data.Scaling;
import io.parasol.experiments.runner.LocalRunner;
import io.parasol.worker.train.JobSettings;
import io.parasol.worker.train.TrainingData;
import java.time.Duration;

/** Settings and data shared by the end-to-end tests. */
final class Jobs {
  private Jobs() {}

  private static TrainingData digits;

  static synchronized TrainingData digits() {
    if (digits == null) {
      digits = TrainingData.load("digits", null, -1, false, false, 0.2, Scaling.parse("minmax"),
          1);
    }
    return digits;
  }

  static JobSettings settings(Mode mode, int shards, int workers, float lr) {
    return JobSettings.defaults(mode, shards, workers, lr);
  }

  static JobSettings.Builder builder(Mode mode, int shards, int workers, float lr) {
    return JobSettings.builder(mode, shards, workers, lr);
  }

  static LocalRunner.Options options(JobSettings js, int epochs) {
    return LocalRunner.Options.builder(js, "softmax", digits()).batchSize(32).epochs(epochs)
        .steps(0).evalEvery(0).timeouts(Duration.ofSeconds(30), Duration.ofSeconds(60)).build();
  }
}
