package io.parasol.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.parasol.server.LocalCluster;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The example, end to end, against two in-process shards on 127.0.0.1. */
@Tag("slow")
class OwnTrainingLoopTest {
  @Test
  void train_ownSameDiffModel_lossFallsAndDigitsAreRecognised() throws Exception {
    try (LocalCluster cluster = LocalCluster.start(2, null)) {
      OwnTrainingLoop.Result r = OwnTrainingLoop.train(cluster.addresses(), 300, false);
      System.out.println(r);
      assertThat(r.firstLoss()).isGreaterThan(2.0); // about ln 10 at the start
      assertThat(r.lastLoss()).isLessThan(r.firstLoss() / 3);
      assertThat(r.testAccuracy()).isGreaterThan(0.85);
    }
  }
}
