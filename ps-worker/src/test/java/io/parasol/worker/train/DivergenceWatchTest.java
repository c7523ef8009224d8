package io.parasol.worker.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DivergenceWatchTest {

  @Test
  void observe_nonFiniteLoss_failsAtOnceNamingStepAndLr() {
    DivergenceWatch w = new DivergenceWatch(2, 0.5, true);
    w.observe(1, 2.3);
    assertThatThrownBy(() -> w.observe(2, Double.NaN))
        .isInstanceOf(DivergenceWatch.DivergedException.class)
        .hasMessageContaining("step 2").hasMessageContaining("worker 2")
        .hasMessageContaining("lr 0.5").hasMessageContaining("--lr")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }

  @Test
  void observe_decreasingNoisyLoss_neverFails() {
    DivergenceWatch w = new DivergenceWatch(0, 0.1, true);
    SplittableRandom rng = new SplittableRandom(1);
    assertThatCode(() -> {
      for (int t = 1; t <= 2000; t++) {
        double loss = 2.3 * Math.exp(-t / 300.0) + 0.05 + 0.4 * rng.nextDouble();
        w.observe(t, loss);
      }
    }).doesNotThrowAnyException();
  }

  @Test
  void observe_shortSpike_isNotDivergence() {
    DivergenceWatch w = new DivergenceWatch(0, 0.1, true);
    assertThatCode(() -> {
      for (int t = 1; t <= 100; t++) {
        w.observe(t, 1.0);
      }
      for (int t = 101; t <= 110; t++) {
        w.observe(t, 50.0);
      }
      for (int t = 111; t <= 300; t++) {
        w.observe(t, 1.0);
      }
    }).doesNotThrowAnyException();
  }

  @Test
  void observe_lossThatBlowsUpAndStays_failsWithinPatience() {
    DivergenceWatch w = new DivergenceWatch(0, 0.5, true);
    for (int t = 1; t <= 50; t++) {
      w.observe(t, 2.0 - t * 0.01);
    }
    long failedAt = -1;
    for (int t = 51; t <= 400 && failedAt < 0; t++) {
      try {
        w.observe(t, 40.0);
      } catch (DivergenceWatch.DivergedException e) {
        failedAt = e.step();
      }
    }
    assertThat(failedAt).isEqualTo(50L + DivergenceWatch.PATIENCE);
  }

  @Test
  void observe_lossThatBlowsUpAtOnce_failsRightAfterWarmup() {
    DivergenceWatch w = new DivergenceWatch(0, 50, true);
    w.observe(1, 2.3);
    long failedAt = -1;
    for (int t = 2; t <= 400 && failedAt < 0; t++) {
      try {
        w.observe(t, 30 + (t % 7) * 10);
      } catch (DivergenceWatch.DivergedException e) {
        failedAt = e.step();
      }
    }
    assertThat(failedAt).isEqualTo(DivergenceWatch.WARMUP + DivergenceWatch.PATIENCE);
  }

  @Test
  void observe_disabled_neverFails() {
    DivergenceWatch w = new DivergenceWatch(0, 0.5, false);
    assertThatCode(() -> {
      w.observe(1, Double.POSITIVE_INFINITY);
      for (int t = 2; t <= 500; t++) {
        w.observe(t, t * 10.0);
      }
    }).doesNotThrowAnyException();
  }
}
