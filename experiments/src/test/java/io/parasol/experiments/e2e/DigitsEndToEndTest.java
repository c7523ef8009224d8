package io.parasol.experiments.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.parasol.proto.v1.Mode;
import io.parasol.experiments.runner.LocalRunner;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** 2 shards and 4 workers over loopback gRPC train softmax regression on the bundled digits. */
@Tag("slow")
class DigitsEndToEndTest {

  /**
   * These runs check the modes' rules (every step applied once, no late gradient without
   * backup workers), not failure detection (ElasticEndToEndTest, FaultToleranceTest): a lease
   * far beyond any stall of a loaded machine (a paused VM, a long collection) keeps the live
   * set fixed, so the counts do not depend on the machine's timing.
   */
  private static final int LEASE_MILLIS = 600_000;

  private static LocalRunner.Summary run(Mode mode) throws Exception {
    LocalRunner.Summary s = LocalRunner.run(Jobs.options(Jobs.builder(mode, 2, 4, 0.5f)
        .leaseMillis(LEASE_MILLIS).build(), 10), null, null);
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
    assertThat(s.latePushes()).as("late contributions without backup workers (the first one's"
        + " cause is logged by TrainingLoop)").isZero();
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
    LocalRunner.Options o = Jobs.options(Jobs.builder(Mode.MODE_SYNC, 2, 4, 0.5f).quorum(3)
        .leaseMillis(LEASE_MILLIS).build(), 10);
    LocalRunner.Summary s = LocalRunner.run(o, null, null);
    System.out.print(LocalRunner.table(s));
    assertThat(s.testAccuracy()).isGreaterThanOrEqualTo(0.90);
    assertThat(s.updatesApplied()).isEqualTo(s.stepsPerWorker() * s.blocks());
  }
}
