package io.parasol.experiments.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.parasol.proto.v1.Mode;
import io.parasol.experiments.runner.LocalRunner;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** 2 shards and 4 workers over loopback gRPC train softmax regression on the bundled digits. */
@Tag("slow")
class DigitsEndToEndTest {

  private static LocalRunner.Summary run(Mode mode) throws Exception {
    LocalRunner.Summary s = LocalRunner.run(Jobs.options(Jobs.settings(mode, 2, 4, 0.5f), 10),
        null, null);
    System.out.print(LocalRunner.table(s));
    return s;
  }

  @Test
  void sync_fourWorkers_reachesNinetyPercent() throws Exception {
    LocalRunner.Summary s = run(Mode.MODE_SYNC);
    assertThat(s.testAccuracy()).isGreaterThanOrEqualTo(0.90);
    assertThat(s.maxStaleness()).isZero();
    // Each step is applied once, to every block.
    assertThat(s.updatesApplied()).isEqualTo(s.stepsPerWorker() * s.blocks());
    assertThat(s.latePushes()).isZero();
  }

  @Test
  void async_fourWorkers_reachesNinetyPercent() throws Exception {
    LocalRunner.Summary s = run(Mode.MODE_ASYNC);
    assertThat(s.testAccuracy()).isGreaterThanOrEqualTo(0.90);
    // Every push is applied to every block: 4 workers' steps times the blocks.
    assertThat(s.updatesApplied()).isEqualTo(4 * s.stepsPerWorker() * s.blocks());
    assertThat(s.meanStaleness()).isGreaterThan(0);
  }

  @Test
  void sync_backupWorkers_dropLateGradientsAndStillTrain() throws Exception {
    LocalRunner.Options o = Jobs.options(Jobs.builder(Mode.MODE_SYNC, 2, 4, 0.5f).quorum(3).build(),
        10);
    LocalRunner.Summary s = LocalRunner.run(o, null, null);
    System.out.print(LocalRunner.table(s));
    assertThat(s.testAccuracy()).isGreaterThanOrEqualTo(0.90);
    assertThat(s.updatesApplied()).isEqualTo(s.stepsPerWorker() * s.blocks());
  }
}
