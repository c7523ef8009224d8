package io.parasol.experiments.observability;

import static org.assertj.core.api.Assertions.assertThat;

import io.parasol.proto.v1.Mode;
import io.parasol.worker.data.Scaling;
import io.parasol.experiments.runner.LocalRunner;
import io.parasol.worker.train.DelayModel;
import io.parasol.worker.train.JobSettings;
import io.parasol.worker.train.TrainingData;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The staleness law for homogeneous asynchronous workers: with m workers whose compute times
 * are i.i.d. exponential, the other m − 1 workers' pushes arrive as a Poisson stream while one
 * worker computes, so the number of updates between its read and its write is geometric with
 * mean m − 1. With 4 workers the mean staleness is close to 3; communication takes a share of
 * each cycle here (during which the worker is not "computing"), so the measured mean sits
 * somewhat below.
 */
@Tag("slow")
class StalenessLawTest {

  @Test
  void meanStaleness_fourHomogeneousAsyncWorkers_isCloseToMMinusOne() throws Exception {
    int workers = 4;
    TrainingData data = TrainingData.load("digits", null, -1, false, false, 0.2,
        Scaling.parse("minmax"), 1);
    JobSettings js = JobSettings.defaults(Mode.MODE_ASYNC, 2, workers, 0.5f);
    LocalRunner.Options o = LocalRunner.Options.builder(js, "softmax", data).batchSize(32)
        .epochs(0).steps(60).evalEvery(0).timeouts(Duration.ofSeconds(30), Duration.ofSeconds(60))
        .computeDelay(DelayModel.parse("exp:30ms")).build();

    LocalRunner.Summary s = LocalRunner.run(o, null, null);

    long[] counts = s.stalenessCounts();
    int shown = Math.min(counts.length, 10);
    System.out.printf(Locale.ROOT, "async, m = %d, compute exp:30ms, %d steps per worker:"
            + " mean staleness %.3f (geometric law: m - 1 = %d), max %d, step ms %s,"
            + " tau counts 0..%d %s%n", workers, s.stepsPerWorker(), s.meanStaleness(),
        workers - 1, s.maxStaleness(), s.stepMillis(), shown - 1,
        Arrays.toString(Arrays.copyOf(counts, shown)));
    assertThat(s.updatesApplied()).isEqualTo(workers * s.stepsPerWorker() * s.blocks());
    assertThat(s.meanStaleness()).isBetween(1.8, 3.6);
  }
}
