package io.parasol.experiments.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class SamplesTest {

  @Test
  void quantiles_withinTheHistogramsPrecision() {
    Samples s = new Samples();
    for (int i = 1; i <= 1000; i++) {
      s.add(i * 1_000L); // 1 µs .. 1 ms
    }

    assertThat(s.count()).isEqualTo(1000);
    assertThat(s.total()).isEqualTo(500_500_000L);
    assertThat(s.median()).isCloseTo(500_000, within(500.0));
    assertThat(s.p99()).isCloseTo(990_000, within(1_000.0));
    assertThat(s.gbps(1e6)).isCloseTo(2.0, within(0.01));
    assertThat(s.summary(1e6)).containsEntry("repetitions", 1000)
        .containsKeys("gb_per_s", "ms_median", "ms_p99");
  }

  @Test
  void empty_isNaN() {
    assertThat(new Samples().median()).isNaN();
  }

  @Test
  void round_keepsDigits() {
    assertThat(Samples.round(1.23456, 3)).isEqualTo(1.235);
    assertThat(Samples.round(Double.POSITIVE_INFINITY, 3)).isInfinite();
  }
}
