package io.parasol.worker.model;

import io.parasol.common.BlockLayout;
import io.parasol.proto.v1.InitKind;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A model whose prediction is a function of one linear score per example, z = Xw + b: the
 * parameters "w" (d) and "b" (1), both initialised to zero, the forward pass and the chain rule
 * through z are shared; a subclass gives the loss, its derivative in z and the accuracy.
 * Package-private: {@link LinearRegression} and {@link LogisticRegression} are the public faces.
 */
abstract class LinearScoreModel implements Model {

  /** One batch through the score: data type, features (b x d), targets and scores (b x 1). */
  record Scores(DataType dt, INDArray x, INDArray y, INDArray z) {
    long rows() {
      return x.rows();
    }
  }

  private final String name;
  private final int numFeatures;
  private final List<BlockLayout.Tensor> tensors;

  LinearScoreModel(String name, int numFeatures) {
    if (numFeatures <= 0) {
      throw new IllegalArgumentException(name + ": number of features must be positive, got "
          + numFeatures);
    }
    this.name = name;
    this.numFeatures = numFeatures;
    this.tensors = List.of(new BlockLayout.Tensor("w", numFeatures, InitKind.INIT_ZEROS, 0f),
        new BlockLayout.Tensor("b", 1, InitKind.INIT_ZEROS, 0f));
  }

  /** The mean loss over the batch. */
  abstract double loss(Scores s);

  /** d(mean loss)/dz, b x 1 (the 1/b of the mean included), in a new array: {@code s} stays as it is. */
  abstract INDArray lossGradient(Scores s);

  /** The share of examples predicted right, or NaN where accuracy has no meaning. */
  abstract double accuracy(Scores s);

  /** Refuses targets this loss cannot take; by default every target is accepted. */
  void checkTargets(INDArray y) {
  }

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final List<BlockLayout.Tensor> tensors() {
    return tensors;
  }

  @Override
  public final int numParams() {
    return numFeatures + 1;
  }

  @Override
  public final LossAndGradient lossAndGradient(INDArray params, INDArray features,
      INDArray targets) {
    Scores s = scores(params, features, targets);
    double loss = loss(s);
    INDArray dz = lossGradient(s);
    INDArray gw = s.x().transpose().mmul(dz);
    INDArray gb = dz.sum(0);
    return new LossAndGradient(loss, Nd.concat(s.dt(), numParams(), gw, gb));
  }

  @Override
  public final Evaluation evaluate(INDArray params, INDArray features, INDArray targets) {
    Scores s = scores(params, features, targets);
    return new Evaluation(loss(s), accuracy(s));
  }

  private Scores scores(INDArray params, INDArray features, INDArray targets) {
    INDArray p = Nd.flatParams(params, numParams(), name);
    DataType dt = p.dataType();
    INDArray x = Nd.features(features, numFeatures, dt, name);
    INDArray y = Nd.targetColumn(targets, x.rows(), dt, name);
    checkTargets(y);
    INDArray w = Nd.view(p, 0, numFeatures, 1);
    INDArray z = x.mmul(w).addi(p.getDouble(numFeatures)); // b x 1
    return new Scores(dt, x, y, z);
  }
}
