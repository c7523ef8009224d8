package io.parasol.worker.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Graph models: the contract's checks, SameDiff's gradients, files saved by user code. */
class SameDiffModelTest {
  @TempDir Path dir;

  /** A user's MLP written with SameDiff's own API, as a user would write it. */
  private static SameDiff userMlp(int features, int hidden, int classes) {
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("features", DataType.FLOAT, -1, features);
    SDVariable y = sd.placeHolder("labels", DataType.FLOAT, -1, classes);
    SDVariable w1 = sd.var("w1", Nd4j.rand(DataType.FLOAT, features, hidden).subi(0.5).muli(0.6));
    SDVariable b1 = sd.var("b1", Nd4j.zeros(DataType.FLOAT, 1, hidden));
    SDVariable w2 = sd.var("w2", Nd4j.rand(DataType.FLOAT, hidden, classes).subi(0.5).muli(0.6));
    SDVariable b2 = sd.var("b2", Nd4j.zeros(DataType.FLOAT, 1, classes));
    SDVariable h = sd.nn().relu(x.mmul(w1).add(b1), 0);
    SDVariable out = h.mmul(w2).add("output", b2);
    sd.loss().softmaxCrossEntropy("loss", y, out, null);
    sd.setLossVariables("loss");
    return sd;
  }

  private static INDArray row(float[] v) {
    return Nd4j.create(v, new long[] {1, v.length}, DataType.FLOAT);
  }

  @Test
  void lossAndGradient_matchesTheSameHandWrittenMlp() {
    // The same network, parameters and batch through SameDiff's autodiff and through the
    // hand-written MLP (itself checked against finite differences in double precision).
    Nd4j.getRandom().setSeed(3);
    SameDiffModel g = new SameDiffModel("user", userMlp(6, 5, 3), SameDiffModel.Names.DEFAULT,
        6, 3);
    assertThat(g.numParams()).isEqualTo(6 * 5 + 5 + 5 * 3 + 3);
    // Variables in the order of their names: b1, b2, w1, w2; the MLP's order: W1, b1, W2, b2.
    assertThat(g.tensors()).extracting(t -> t.name()).containsExactly("b1", "b2", "w1", "w2");
    Mlp ref = new Mlp(6, new int[] {5}, 3);
    SplittableRandom r = new SplittableRandom(5);
    float[] pm = new float[g.numParams()];
    for (int i = 0; i < pm.length; i++) {
      pm[i] = (float) (r.nextDouble() - 0.5);
    }
    int[][] mlpRanges = {{30, 35}, {50, 53}, {0, 30}, {35, 50}}; // b1, b2, w1, w2 in pm
    float[] p = new float[pm.length];
    int at = 0;
    for (int[] rg : mlpRanges) {
      System.arraycopy(pm, rg[0], p, at, rg[1] - rg[0]);
      at += rg[1] - rg[0];
    }
    float[] x = new float[8 * 6];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextDouble();
    }
    float[] y = {0, 1, 2, 0, 1, 2, 2, 1};
    INDArray xa = Nd4j.create(x, new long[] {8, 6}, DataType.FLOAT);
    INDArray ya = Nd4j.create(y, new long[] {8}, DataType.FLOAT);
    var a = g.lossAndGradient(row(p), xa, ya);
    var b = ref.lossAndGradient(row(pm), xa, ya);
    assertThat(a.loss()).isCloseTo(b.loss(), org.assertj.core.data.Offset.offset(1e-5));
    float[] ga = a.gradient().toFloatVector();
    float[] gm = b.gradient().toFloatVector();
    float[] gb = new float[gm.length];
    at = 0;
    for (int[] rg : mlpRanges) {
      System.arraycopy(gm, rg[0], gb, at, rg[1] - rg[0]);
      at += rg[1] - rg[0];
    }
    for (int i = 0; i < ga.length; i++) {
      assertThat(ga[i]).as("param %d", i).isCloseTo(gb[i],
          org.assertj.core.data.Offset.offset(1e-5f + 1e-4f * Math.abs(gb[i])));
    }
    assertThat(g.evaluate(row(p), xa, ya).accuracy())
        .isEqualTo(ref.evaluate(row(pm), xa, ya).accuracy());
  }

  @Test
  void load_graphSavedByUserCode_trainsUnderItsOwnNames() throws Exception {
    Path file = dir.resolve("mlp.sd");
    userMlp(4, 3, 2).save(file.toFile(), false);
    Model m = Models.create(file.toString(), 4, 2);
    assertThat(m).isInstanceOf(SameDiffModel.class);
    assertThat(m.numParams()).isEqualTo(4 * 3 + 3 + 3 * 2 + 2);
    var lg = m.lossAndGradient(row(new float[m.numParams()]), Nd4j.rand(DataType.FLOAT, 5, 4),
        Nd4j.create(new float[] {0, 1, 1, 0, 1}, new long[] {5}, DataType.FLOAT));
    assertThat(lg.loss()).isCloseTo(Math.log(2), org.assertj.core.data.Offset.offset(1e-5));
  }

  @Test
  void create_badGraphs_sayWhatIsWrong() throws Exception {
    Path file = dir.resolve("mlp.sd");
    userMlp(4, 3, 2).save(file.toFile(), false);
    assertThatThrownBy(() -> Models.create(file.toString(), 5, 2))
        .hasMessageContaining("takes 4 features but the data has 5");
    assertThatThrownBy(() -> Models.create(file.toString(), 4, 3))
        .hasMessageContaining("holds 2 classes but the data has 3");
    assertThatThrownBy(() -> Models.create(file.toString(), 4, 2, new Models.Options(
        new SameDiffModel.Names("x", null, null, null), null)))
        .hasMessageContaining("no placeholder 'x'").hasMessageContaining("--model-features")
        .hasMessageContaining("features");
    assertThatThrownBy(() -> Models.create(dir.resolve("missing.sd").toString(), 4, 2))
        .hasMessageContaining("does not exist");
    SameDiff noLoss = userMlp(4, 3, 2);
    noLoss.setLossVariables(new String[0]);
    assertThatThrownBy(() -> new SameDiffModel("g", noLoss, SameDiffModel.Names.DEFAULT, 4, 2))
        .hasMessageContaining("no loss variable");
    SameDiff noVars = SameDiff.create();
    SDVariable x = noVars.placeHolder("features", DataType.FLOAT, -1, 4);
    SDVariable y = noVars.placeHolder("labels", DataType.FLOAT, -1, 2);
    noVars.loss().meanSquaredError("loss", y, x.mmul(noVars.constant("k",
        Nd4j.ones(DataType.FLOAT, 4, 2))), null);
    noVars.setLossVariables("loss");
    assertThatThrownBy(() -> new SameDiffModel("g", noVars, SameDiffModel.Names.DEFAULT, 4, 2))
        .hasMessageContaining("no trainable variables");
  }

  @Test
  void cnn_fitsImagesAndRefusesWhatDoesNot() {
    Model cnn = Models.create("cnn", 784, 10);
    assertThat(cnn.numParams()).isEqualTo(416 + 12_832 + 65_664 + 1_290);
    assertThatThrownBy(() -> Models.create("cnn", 64, 10)).hasMessageContaining("too small");
    assertThatThrownBy(() -> Models.create("cnn", 785, 10)).hasMessageContaining("--input-shape");
    assertThatThrownBy(() -> Models.create("cnn", 784, 10,
        new Models.Options(SameDiffModel.Names.DEFAULT, LeNet.Shape.parse("3,28,28"))))
        .hasMessageContaining("2352 values but the data has 784");
  }
}
