package io.parasol.worker.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class BundledDataTest {

  @Test
  void load_digits_has1797ExamplesOf64FeaturesAnd10Classes() {
    Dataset d = BundledData.load("digits");

    assertThat(d.numExamples()).isEqualTo(1797);
    assertThat(d.numFeatures()).isEqualTo(64);
    assertThat(d.numClasses()).isEqualTo(10);
    float max = 0;
    for (float v : d.features()) {
      max = Math.max(max, v);
    }
    assertThat(max).isEqualTo(16f);
    // first row of the file: a zero
    assertThat(d.targets()[0]).isEqualTo(0f);
    assertThat(d.features()[2]).isEqualTo(5f);
  }

  @Test
  void isBundled_knowsDigitsIgnoringCase() {
    assertThat(BundledData.isBundled("Digits")).isTrue();
    assertThat(BundledData.isBundled("mnist")).isFalse();
    assertThat(BundledData.names()).containsExactly("digits");
  }

  @Test
  void load_unknownName_listsKnownNames() {
    assertThatThrownBy(() -> BundledData.load("iris"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("unknown bundled data set 'iris'; known: digits");
  }
}
