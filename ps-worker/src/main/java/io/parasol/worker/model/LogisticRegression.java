package io.parasol.worker.model;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Binary logistic regression: p = sigmoid(Xw + b), targets 0 or 1, loss the mean binary
 * cross-entropy computed stably as max(z, 0) - z y + log1p(exp(-|z|)). Accuracy thresholds p at
 * 0.5. Parameters: "w" (d) and "b" (1), both initialised to zero.
 */
public final class LogisticRegression extends LinearScoreModel {

  public LogisticRegression(int numFeatures) {
    super("logistic", numFeatures);
  }

  @Override
  void checkTargets(INDArray y) {
    Nd.oneHot(y, 2, name()); // checks that every target is 0 or 1
  }

  @Override
  double loss(Scores s) {
    INDArray z = s.z();
    INDArray softplus = Transforms.log1p(Transforms.exp(Transforms.abs(z, true).negi(), false),
        false);
    INDArray perExample = Transforms.relu(z, true).subi(z.mul(s.y())).addi(softplus);
    return perExample.sumNumber().doubleValue() / s.rows();
  }

  @Override
  INDArray lossGradient(Scores s) {
    return Transforms.sigmoid(s.z(), true).subi(s.y()).divi(s.rows());
  }

  @Override
  double accuracy(Scores s) {
    // sigmoid(z) >= 0.5 exactly when z >= 0
    double correct = s.z().gte(0.0).castTo(s.dt()).eq(s.y()).castTo(s.dt())
        .sumNumber().doubleValue();
    return correct / s.rows();
  }
}
