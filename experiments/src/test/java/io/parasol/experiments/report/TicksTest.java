package io.parasol.experiments.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

class TicksTest {

  @Test
  void linear_zeroToPointNineSeven_stepsOfPointTwo() {
    assertThat(Ticks.linear(0, 0.97)).containsExactly(0, 0.2, 0.4, 0.6, 0.8, 1.0);
  }

  @Test
  void linear_threeToFortySeven_stepsOfTen() {
    assertThat(Ticks.linear(3, 47)).containsExactly(0, 10, 20, 30, 40, 50);
  }

  @Test
  void linear_negativeToPositive_coversRangeWithTwos() {
    assertThat(Ticks.linear(-3.2, 7.9)).containsExactly(-4, -2, 0, 2, 4, 6, 8);
  }

  @Test
  void linear_tinyValues_exactDecimals() {
    assertThat(Ticks.linear(1e-7, 9.3e-7))
        .containsExactly(0, 2e-7, 4e-7, 6e-7, 8e-7, 1e-6);
  }

  @Test
  void linear_reversedEnds_sameAsOrdered() {
    assertThat(Ticks.linear(47, 3)).containsExactly(Ticks.linear(3, 47));
  }

  @Test
  void linear_singleValue_widenedAroundIt() {
    double[] ticks = Ticks.linear(5, 5);

    assertThat(ticks[0]).isLessThan(5);
    assertThat(ticks[ticks.length - 1]).isGreaterThan(5);
    assertThat(ticks).contains(5.0).hasSizeBetween(Ticks.MIN_TICKS, Ticks.MAX_TICKS);
    assertThat(Ticks.linear(0, 0)).hasSizeBetween(Ticks.MIN_TICKS, Ticks.MAX_TICKS);
  }

  @Test
  void linear_randomRanges_coverRangeWithNiceEvenSteps() {
    Random random = new Random(42);
    for (int trial = 0; trial < 2000; trial++) {
      double scale = Math.pow(10, random.nextInt(16) - 8);
      double lo = (random.nextDouble() * 2 - 1) * scale;
      double hi = lo + random.nextDouble() * scale;
      double[] ticks = Ticks.linear(lo, hi);

      assertThat(ticks.length).as("[%s, %s]", lo, hi).isBetween(4, 9);
      assertThat(ticks[0]).isLessThanOrEqualTo(lo);
      assertThat(ticks[ticks.length - 1]).isGreaterThanOrEqualTo(hi);
      double step = ticks[1] - ticks[0];
      double mantissa = Math.round(step / Math.pow(10, Math.floor(Math.log10(step) + 1e-9)) * 1e6)
          / 1e6;
      assertThat(mantissa).as("step %s", step).isIn(1.0, 2.0, 5.0);
      for (int i = 1; i < ticks.length; i++) {
        assertThat(ticks[i] - ticks[i - 1]).isCloseTo(step, within(step * 1e-6));
      }
    }
  }

  @Test
  void linear_nonFinite_throws() {
    assertThatThrownBy(() -> Ticks.linear(0, Double.NaN))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void log_fewDecades_powersOfTen() {
    assertThat(Ticks.log(0.003, 2.5)).containsExactly(0.001, 0.01, 0.1, 1, 10);
  }

  @Test
  void log_withinOneDecade_oneTwoFive() {
    assertThat(Ticks.log(1.5, 7)).containsExactly(1, 2, 5, 10);
  }

  @Test
  void log_manyDecades_atMostMaxTicks() {
    assertThat(Ticks.log(1e-10, 1e10))
        .containsExactly(1e-10, 1e-7, 1e-4, 1e-1, 1e2, 1e5, 1e8, 1e11);
  }

  @Test
  void log_nonPositive_throws() {
    assertThatThrownBy(() -> Ticks.log(0, 1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void labels_fractionalStep_sameDecimals() {
    assertThat(Ticks.labels(new double[] {0, 0.2, 0.4, 0.6, 0.8, 1.0}))
        .containsExactly("0.0", "0.2", "0.4", "0.6", "0.8", "1.0");
    assertThat(Ticks.labels(new double[] {-0.1, -0.05, 0, 0.05}))
        .containsExactly("-0.10", "-0.05", "0.00", "0.05");
  }

  @Test
  void labels_integralStep_noDecimals() {
    assertThat(Ticks.labels(new double[] {0, 10, 20, 30})).containsExactly("0", "10", "20", "30");
  }

  @Test
  void labels_largeOrTinyMagnitudes_scientific() {
    assertThat(Ticks.labels(new double[] {0, 5e5, 1e6, 1.5e6}))
        .containsExactly("0", "5e5", "1e6", "1.5e6");
    assertThat(Ticks.labels(new double[] {2e-7, 4e-7, 6e-7}))
        .containsExactly("2e-7", "4e-7", "6e-7");
  }

  @Test
  void logLabel_smallAndLarge() {
    assertThat(Ticks.logLabel(0.01)).isEqualTo("0.01");
    assertThat(Ticks.logLabel(1000)).isEqualTo("1000");
    assertThat(Ticks.logLabel(1e-5)).isEqualTo("1e-5");
    assertThat(Ticks.logLabel(1e8)).isEqualTo("1e8");
  }
}
