package io.parasol.worker.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

class BatchesTest {

  private static final Dataset DATA = SplitsTest.indexed(23, 3);

  private static List<Integer> ids(Batches.Batch b) {
    float[] x = b.features().reshape(b.features().length()).toFloatVector();
    float[] y = b.targets().toFloatVector();
    List<Integer> out = new ArrayList<>();
    for (int k = 0; k < b.size(); k++) {
      int id = (int) x[2 * k];
      assertThat(x[2 * k + 1]).isEqualTo(-id);
      assertThat(y[k]).isEqualTo(id % 3);
      out.add(id);
    }
    return out;
  }

  @Test
  void next_sameSeed_identicalBatches() {
    Batches a = new Batches(DATA, 5, 77);
    Batches b = new Batches(DATA, 5, 77);

    for (int step = 0; step < 20; step++) {
      Batches.Batch x = a.next();
      Batches.Batch y = b.next();
      assertThat(x.features()).isEqualTo(y.features());
      assertThat(x.targets()).isEqualTo(y.targets());
    }
  }

  @Test
  void next_differentSeeds_differentOrder() {
    assertThat(ids(new Batches(DATA, 23, 1).next()))
        .isNotEqualTo(ids(new Batches(DATA, 23, 2).next()));
  }

  @Test
  void next_coversEachExampleOncePerEpochAndReshuffles() {
    Batches batches = new Batches(DATA, 5, 3);
    assertThat(batches.stepsPerEpoch()).isEqualTo(5);
    List<List<Integer>> epochs = new ArrayList<>();

    for (int e = 0; e < 3; e++) {
      assertThat(batches.epoch()).isEqualTo(e);
      List<Integer> seen = new ArrayList<>();
      for (int s = 0; s < batches.stepsPerEpoch(); s++) {
        Batches.Batch b = batches.next();
        assertThat(b.size()).isEqualTo(s < 4 ? 5 : 3);
        assertThat(b.features().shape()).containsExactly(b.size(), 2L);
        assertThat(b.targets().shape()).containsExactly((long) b.size());
        assertThat(b.features().dataType()).isEqualTo(DataType.FLOAT);
        assertThat(b.targets().dataType()).isEqualTo(DataType.FLOAT);
        seen.addAll(ids(b));
      }
      assertThat(seen).containsExactlyInAnyOrderElementsOf(SplitsTest.ids(DATA));
      epochs.add(seen);
    }
    assertThat(batches.epoch()).isEqualTo(3);
    assertThat(epochs.get(0)).isNotEqualTo(epochs.get(1));
  }

  @Test
  void next_batchLargerThanData_givesWholeSetEachStep() {
    Batches batches = new Batches(DATA, 100, 3);

    assertThat(batches.stepsPerEpoch()).isEqualTo(1);
    assertThat(batches.next().size()).isEqualTo(23);
    assertThat(batches.epoch()).isEqualTo(1);
  }

  @Test
  void all_keepsStoredOrder() {
    Batches.Batch all = Batches.all(DATA);

    assertThat(ids(all)).isEqualTo(SplitsTest.ids(DATA));
    assertThat(all.features().shape()).containsExactly(23L, 2L);
  }

  @Test
  void constructor_badArguments_areRejected() {
    assertThatThrownBy(() -> new Batches(DATA, 0, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("batch size must be positive, got 0");
    Dataset empty = new Dataset(0, 2, new float[0], new float[0], 2);
    assertThatThrownBy(() -> new Batches(empty, 4, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("cannot draw batches from an empty data set");
  }
}
