package io.parasol.worker.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class ScalingTest {

  // three examples, features: varying, constant, negative
  private static final Dataset TRAIN = new Dataset(3, 3,
      new float[] {0, 5, -1, 2, 5, -3, 4, 5, -2}, new float[] {0, 1, 0}, 2);

  @Test
  void minmax_mapsTrainRangeToUnitIntervalAndConstantToZero() {
    Dataset s = Scaling.MINMAX.fit(TRAIN).apply(TRAIN);

    assertThat(s.features()).containsExactly(0f, 0f, 1f, 0.5f, 0f, 0f, 1f, 0f, 0.5f);
    assertThat(s.targets()).containsExactly(0f, 1f, 0f);
    assertThat(TRAIN.features()[0]).isEqualTo(0f); // input untouched
  }

  @Test
  void minmax_appliesTrainStatisticsToOtherSets() {
    Dataset test = new Dataset(1, 3, new float[] {8, 7, -5}, new float[] {1}, 2);

    Dataset s = Scaling.MINMAX.fit(TRAIN).apply(test);

    assertThat(s.features()).containsExactly(2f, 0f, -1f);
  }

  @Test
  void standard_givesZeroMeanUnitVarianceAndCentresConstants() {
    Dataset s = Scaling.STANDARD.fit(TRAIN).apply(TRAIN);

    double std = Math.sqrt(8.0 / 3);
    float[] f = s.features();
    assertThat(f[0]).isCloseTo((float) (-2 / std), within(1e-6f));
    assertThat(f[3]).isCloseTo(0f, within(1e-6f));
    assertThat(f[6]).isCloseTo((float) (2 / std), within(1e-6f));
    assertThat(new float[] {f[1], f[4], f[7]}).containsOnly(0f);
    double mean = (f[2] + f[5] + f[8]) / 3.0;
    double var = (f[2] * f[2] + f[5] * f[5] + f[8] * f[8]) / 3.0 - mean * mean;
    assertThat(mean).isCloseTo(0, within(1e-6));
    assertThat(var).isCloseTo(1, within(1e-5));
  }

  @Test
  void none_leavesDataAlone() {
    assertThat(Scaling.NONE.fit(TRAIN).apply(TRAIN).features()).containsExactly(TRAIN.features());
  }

  @Test
  void apply_wrongFeatureCount_isRejected() {
    Dataset other = new Dataset(1, 2, new float[] {1, 2}, new float[] {0}, 2);

    assertThatThrownBy(() -> Scaling.STANDARD.fit(TRAIN).apply(other))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("scaling was fitted on 3 features but the data set has 2");
  }

  @Test
  void parse_acceptsNamesAndListsThemOnError() {
    assertThat(Scaling.parse("MinMax")).isEqualTo(Scaling.MINMAX);
    assertThat(Scaling.parse("standard")).isEqualTo(Scaling.STANDARD);
    assertThat(Scaling.parse("none")).isEqualTo(Scaling.NONE);
    assertThatThrownBy(() -> Scaling.parse("zscore"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("unknown scaling 'zscore'; expected one of none, minmax, standard");
  }
}
