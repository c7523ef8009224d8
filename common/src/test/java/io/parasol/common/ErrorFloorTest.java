package io.parasol.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** The error-floor term Σ_i (α_i/κ_i)·Σ_{j≠i} L_ij·avg Δ_ij on small hand-worked cases. */
class ErrorFloorTest {
  private static final double N = Double.NaN;

  @Test
  void term_weighsEachBlocksAgesByStepOverKappa() {
    double[] alpha = {0.5, 0.25};
    double[] kappa = {0.5, 0.25};
    double[][] aoi = {{N, 2}, {4, N}};
    // L = 1: (0.5/0.5)·2 + (0.25/0.25)·4 = 6.
    assertThat(ErrorFloor.term(alpha, kappa, null, aoi)).isCloseTo(6, within(1e-12));
    // L_01 = 3, L_10 = 0.5: 1·3·2 + 1·0.5·4 = 8.
    double[][] l = {{N, 3}, {0.5, N}};
    assertThat(ErrorFloor.term(alpha, kappa, l, aoi)).isCloseTo(8, within(1e-12));
  }

  @Test
  void term_leavesOutBlocksWithoutKappaAndPairsWithoutSamples() {
    double[] alpha = {1, 1, 1};
    double[] kappa = {1, N, 0.5};
    double[][] aoi = {{N, 1, N}, {9, N, 9}, {2, 2, N}};
    // Block 1 has no κ (another shard's, or not updated); Δ_02 has no sample.
    assertThat(ErrorFloor.term(alpha, kappa, null, aoi)).isCloseTo(1 + 2 * 4, within(1e-12));
    assertThat(ErrorFloor.local(2, null, aoi)).isCloseTo(4, within(1e-12));
  }
}
