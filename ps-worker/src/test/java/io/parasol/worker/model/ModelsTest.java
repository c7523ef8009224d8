package io.parasol.worker.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.parasol.common.BlockLayout;
import io.parasol.proto.v1.InitKind;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class ModelsTest {

  @Test
  void create_knownNames_buildMatchingModels() {
    assertThat(Models.create("linear", 3, 0)).isInstanceOf(LinearRegression.class);
    assertThat(Models.create("logistic", 3, 2)).isInstanceOf(LogisticRegression.class);
    assertThat(Models.create(" Softmax ", 3, 10)).isInstanceOf(DenseNet.class);
    assertThat(Models.create(" Softmax ", 3, 10).name()).isEqualTo("softmax");
    assertThat(Models.create("mlp", 3, 10).name()).isEqualTo("mlp:64");
    assertThat(Models.create("mlp:128", 3, 10).name()).isEqualTo("mlp:128");
    assertThat(Models.create("mlp:128, 64", 3, 10).name()).isEqualTo("mlp:128,64");
    assertThat(((DenseNet) Models.create("mlp:128,64", 3, 10)).hidden()).containsExactly(128, 64);
  }

  @Test
  void create_unknownName_listsAcceptedNames() {
    assertThatThrownBy(() -> Models.create("svm", 3, 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("unknown model 'svm'; expected one of linear, logistic, softmax, mlp,"
            + " mlp:H1[,H2...], cnn, cnn:C1,C2[,H], dl4j:PATH, or the path of a saved SameDiff"
            + " graph");
  }

  @Test
  void create_badMlpWidths_areRejected() {
    assertThatThrownBy(() -> Models.create("mlp:12,x", 3, 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("model 'mlp:12,x': hidden layer width 'x' is not an integer");
    assertThatThrownBy(() -> Models.create("mlp:0", 3, 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("model 'mlp:0': hidden layer width 0 must be positive");
    assertThatThrownBy(() -> Models.create("mlp:", 3, 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("hidden layer width '' is not an integer");
  }

  @Test
  void create_modelThatDoesNotFitTheData_isRejected() {
    assertThatThrownBy(() -> Models.create("logistic", 3, 10))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("model 'logistic' is binary and needs 2 classes, but the data has 10;"
            + " use softmax or mlp");
    assertThatThrownBy(() -> Models.create("linear", 3, 10))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("model 'linear' needs regression data");
    assertThatThrownBy(() -> Models.create("softmax", 3, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("model 'softmax' needs class labels, but the data has real-valued targets"
            + " (regression); use linear");
    assertThatThrownBy(() -> Models.create("mlp:8", 3, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("model 'mlp' needs class labels");
    assertThatThrownBy(() -> Models.create("softmax", 0, 3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("number of features must be positive, got 0");
  }

  @Test
  void tensors_softmax_layoutAndZeroInit() {
    Model m = new SoftmaxRegression(64, 10);

    assertThat(m.tensors()).containsExactly(
        new BlockLayout.Tensor("W", 640, InitKind.INIT_ZEROS, 0f),
        new BlockLayout.Tensor("b", 10, InitKind.INIT_ZEROS, 0f));
    assertThat(m.numParams()).isEqualTo(650);
  }

  @Test
  void tensors_mlp_glorotUniformWeightsAndZeroBiases() {
    Model m = new Mlp(64, new int[] {32, 16}, 10);

    List<BlockLayout.Tensor> t = m.tensors();
    assertThat(t).extracting(BlockLayout.Tensor::name)
        .containsExactly("W1", "b1", "W2", "b2", "W3", "b3");
    assertThat(t).extracting(BlockLayout.Tensor::size)
        .containsExactly(64 * 32, 32, 32 * 16, 16, 16 * 10, 10);
    assertThat(t.get(0).init()).isEqualTo(InitKind.INIT_UNIFORM);
    assertThat(t.get(0).initScale()).isCloseTo((float) Math.sqrt(6.0 / 96), within(1e-7f));
    assertThat(t.get(4).initScale()).isCloseTo((float) Math.sqrt(6.0 / 26), within(1e-7f));
    assertThat(t.get(1).init()).isEqualTo(InitKind.INIT_ZEROS);
    assertThat(m.numParams()).isEqualTo(64 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10);
  }

  @Test
  void softmax_zeroParams_lossIsLogCAndSoftmaxTensorsInRowMajor() {
    Model m = new SoftmaxRegression(2, 3);
    INDArray x = Nd4j.create(new float[] {1, 2, 3, 4}, new long[] {2, 2}, DataType.FLOAT);
    INDArray y = Nd4j.create(new float[] {0, 2}, new long[] {2}, DataType.FLOAT);

    assertThat(m.evaluate(Nd4j.zeros(DataType.FLOAT, 1, 9), x, y).loss())
        .isCloseTo(Math.log(3), within(1e-6));

    // W = [[1,0,0],[0,0,1]] row-major, b = [0, 0, 10]: logits row0 = [1, 0, 12], row1 = [3, 0, 14]
    INDArray p = Nd4j.create(new float[] {1, 0, 0, 0, 0, 1, 0, 0, 10}, new long[] {1, 9},
        DataType.FLOAT);
    Model.Evaluation e = m.evaluate(p, x, y);
    assertThat(e.accuracy()).isEqualTo(0.5);
  }

  @Test
  void logistic_largeLogits_lossStaysFinite() {
    Model m = new LogisticRegression(1);
    INDArray x = Nd4j.create(new float[] {1000, -1000}, new long[] {2, 1}, DataType.FLOAT);
    INDArray y = Nd4j.create(new float[] {0, 0}, new long[] {2}, DataType.FLOAT);
    INDArray p = Nd4j.create(new float[] {1, 0}, new long[] {1, 2}, DataType.FLOAT);

    Model.LossAndGradient lg = m.lossAndGradient(p, x, y);

    // example 0: z = 1000, y = 0 -> loss 1000; example 1: z = -1000 -> loss ~0
    assertThat(lg.loss()).isCloseTo(500, within(1e-3));
    assertThat(lg.gradient().toFloatVector()).containsExactly(500f, 0.5f);
    assertThat(m.evaluate(p, x, y).accuracy()).isEqualTo(0.5);
  }

  @Test
  void linear_exactFit_hasZeroLossAndNanAccuracy() {
    Model m = new LinearRegression(2);
    INDArray x = Nd4j.create(new float[] {1, 2, 3, 4}, new long[] {2, 2}, DataType.FLOAT);
    INDArray y = Nd4j.create(new float[] {1 * 2 - 2 + 1, 3 * 2 - 4 + 1}, new long[] {2},
        DataType.FLOAT);
    INDArray p = Nd4j.create(new float[] {2, -1, 1}, new long[] {1, 3}, DataType.FLOAT);

    Model.LossAndGradient lg = m.lossAndGradient(p, x, y);

    assertThat(lg.loss()).isZero();
    assertThat(lg.gradient().toFloatVector()).containsOnly(0f);
    assertThat(m.evaluate(p, x, y).accuracy()).isNaN();
  }

  @Test
  void lossAndGradient_badShapesOrTargets_areRejected() {
    Model m = new SoftmaxRegression(2, 3);
    INDArray p = Nd4j.zeros(DataType.FLOAT, 1, 9);
    INDArray x = Nd4j.zeros(DataType.FLOAT, 2, 2);

    assertThatThrownBy(() -> m.lossAndGradient(Nd4j.zeros(DataType.FLOAT, 1, 8), x,
        Nd4j.zeros(DataType.FLOAT, 2)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("softmax: expected a parameter vector of length 9, got shape [1, 8]");
    assertThatThrownBy(() -> m.lossAndGradient(p, Nd4j.zeros(DataType.FLOAT, 2, 3),
        Nd4j.zeros(DataType.FLOAT, 2)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("softmax: expected features of shape b x 2, got [2, 3]");
    assertThatThrownBy(() -> m.lossAndGradient(p, x,
        Nd4j.create(new float[] {1, 3}, new long[] {2}, DataType.FLOAT)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("softmax: target 3.0 of example 1 is not a class index in 0..2");
    assertThatThrownBy(() -> new LogisticRegression(2).lossAndGradient(
        Nd4j.zeros(DataType.FLOAT, 1, 3), x,
        Nd4j.create(new float[] {0.5f, 1}, new long[] {2}, DataType.FLOAT)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("logistic: target 0.5 of example 0 is not a class index in 0..1");
  }
}
