package io.parasol.worker.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SplitsTest {

  /** n examples whose first feature is the example's index, labels cycle 0..c-1. */
  static Dataset indexed(int n, int numClasses) {
    float[] x = new float[n * 2];
    float[] y = new float[n];
    for (int i = 0; i < n; i++) {
      x[2 * i] = i;
      x[2 * i + 1] = -i;
      y[i] = numClasses == 0 ? i * 0.5f : i % numClasses;
    }
    return new Dataset(n, 2, x, y, numClasses);
  }

  static List<Integer> ids(Dataset d) {
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < d.numExamples(); i++) {
      out.add((int) d.features()[2 * i]);
      assertThat(d.features()[2 * i + 1]).isEqualTo(-d.features()[2 * i]);
    }
    return out;
  }

  @Test
  void trainTest_sameSeed_sameSplit() {
    Dataset d = indexed(100, 3);

    Splits.Split a = Splits.trainTest(d, 0.2, 42);
    Splits.Split b = Splits.trainTest(d, 0.2, 42);
    Splits.Split c = Splits.trainTest(d, 0.2, 43);

    assertThat(ids(a.train())).isEqualTo(ids(b.train()));
    assertThat(ids(a.test())).isEqualTo(ids(b.test()));
    assertThat(ids(a.train())).isNotEqualTo(ids(c.train()));
  }

  @Test
  void trainTest_isDisjointCompleteAndShuffled() {
    Dataset d = indexed(101, 3);

    Splits.Split s = Splits.trainTest(d, 0.25, 1);

    assertThat(s.test().numExamples()).isEqualTo(25);
    assertThat(s.train().numExamples()).isEqualTo(76);
    List<Integer> all = new ArrayList<>(ids(s.train()));
    all.addAll(ids(s.test()));
    assertThat(all).containsExactlyInAnyOrderElementsOf(ids(d));
    List<Integer> sorted = new ArrayList<>(ids(s.train()));
    sorted.sort(null);
    assertThat(ids(s.train())).isNotEqualTo(sorted);
    for (int i = 0; i < s.train().numExamples(); i++) {
      int id = (int) s.train().features()[2 * i];
      assertThat(s.train().targets()[i]).isEqualTo(id % 3);
    }
    assertThat(s.train().numClasses()).isEqualTo(3);
  }

  @Test
  void trainTest_tinyFraction_keepsOneTestExample() {
    Splits.Split s = Splits.trainTest(indexed(10, 2), 0.001, 5);

    assertThat(s.test().numExamples()).isEqualTo(1);
    assertThat(s.train().numExamples()).isEqualTo(9);
  }

  @Test
  void trainTest_badFraction_isRejected() {
    assertThatThrownBy(() -> Splits.trainTest(indexed(10, 2), 1.0, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("test fraction must be in (0, 1), got 1.0");
  }

  @Test
  void partition_sizesDifferByAtMostOneAndCoverInOrder() {
    Dataset d = indexed(23, 2);
    List<Integer> joined = new ArrayList<>();
    int[] sizes = new int[5];

    for (int k = 0; k < 5; k++) {
      Dataset part = Splits.partition(d, 5, k);
      sizes[k] = part.numExamples();
      joined.addAll(ids(part));
      assertThat(part.numClasses()).isEqualTo(2);
    }

    assertThat(sizes).containsExactly(5, 5, 5, 4, 4);
    assertThat(joined).isEqualTo(ids(d));
  }

  @Test
  void partition_badArguments_areRejected() {
    Dataset d = indexed(3, 2);

    assertThatThrownBy(() -> Splits.partition(d, 2, 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("part must be in 0..1, got 2");
    assertThatThrownBy(() -> Splits.partition(d, 4, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("cannot divide 3 examples into 4 non-empty parts");
    assertThatThrownBy(() -> Splits.partition(d, 0, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("number of parts must be positive, got 0");
  }

  @Test
  void labelSkew_everyPartNonEmptyAndCompleteAndReproducible() {
    Dataset d = indexed(200, 10);

    for (double alpha : new double[] {0.01, 0.1, 1, 100}) {
      Dataset[] a = Splits.labelSkew(d, 8, alpha, 3);
      Dataset[] b = Splits.labelSkew(d, 8, alpha, 3);
      List<Integer> all = new ArrayList<>();
      for (int k = 0; k < 8; k++) {
        assertThat(a[k].numExamples()).as("alpha %s part %d", alpha, k).isPositive();
        assertThat(ids(a[k])).isEqualTo(ids(b[k])).isSorted();
        all.addAll(ids(a[k]));
      }
      assertThat(all).containsExactlyInAnyOrderElementsOf(ids(d));
    }
  }

  @Test
  void labelSkew_smallAlpha_concentratesClasses() {
    Dataset d = indexed(1000, 10);

    Dataset[] parts = Splits.labelSkew(d, 5, 0.05, 11);

    // With alpha this small each class lands (almost) entirely in one part, so a part holds far
    // fewer than all 10 classes on average.
    double classesPerPart = 0;
    for (Dataset p : parts) {
      boolean[] seen = new boolean[10];
      int count = 0;
      for (float y : p.targets()) {
        if (!seen[(int) y]) {
          seen[(int) y] = true;
          count++;
        }
      }
      classesPerPart += count / 5.0;
    }
    assertThat(classesPerPart).isLessThan(5);
  }

  @Test
  void labelSkew_differentSeeds_differ() {
    Dataset d = indexed(200, 4);

    Dataset[] a = Splits.labelSkew(d, 4, 0.5, 1);
    Dataset[] b = Splits.labelSkew(d, 4, 0.5, 2);

    assertThat(ids(a[0])).isNotEqualTo(ids(b[0]));
  }

  @Test
  void labelSkew_regressionOrBadAlpha_isRejected() {
    assertThatThrownBy(() -> Splits.labelSkew(indexed(10, 0), 2, 1, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("regression");
    assertThatThrownBy(() -> Splits.labelSkew(indexed(10, 2), 2, 0, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Dirichlet alpha must be positive and finite, got 0.0");
  }

  @Test
  void gamma_hasMeanEqualToShape() {
    java.util.SplittableRandom rng = new java.util.SplittableRandom(9);
    for (double shape : new double[] {0.3, 1, 4.5}) {
      double sum = 0;
      int n = 20000;
      for (int i = 0; i < n; i++) {
        double g = Splits.gamma(shape, rng);
        assertThat(g).isGreaterThanOrEqualTo(0);
        sum += g;
      }
      assertThat(sum / n).isCloseTo(shape, org.assertj.core.data.Offset.offset(0.05 * shape
          + 0.02));
    }
  }

  @Test
  void subset_copiesRowsInGivenOrder() {
    Dataset d = indexed(5, 2);

    Dataset s = Splits.subset(d, new int[] {4, 0, 4});

    assertThat(ids(s)).containsExactly(4, 0, 4);
    assertThat(s.targets()).containsExactly(0f, 0f, 0f);
    assertThatThrownBy(() -> Splits.subset(d, new int[] {5}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("index 5 at position 0 is outside 0..4");
  }
}
