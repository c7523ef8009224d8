package io.parasol.worker.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Least-squares linear regression: prediction Xw + b, loss mean over the batch of
 * 0.5 (prediction - y)^2. Parameters: "w" (d) and "b" (1), both initialised to zero.
 */
public final class LinearRegression extends LinearScoreModel {

  public LinearRegression(int numFeatures) {
    super("linear", numFeatures);
  }

  @Override
  double loss(Scores s) {
    INDArray r = s.z().sub(s.y());
    return 0.5 * r.mul(r).sumNumber().doubleValue() / s.rows();
  }

  @Override
  INDArray lossGradient(Scores s) {
    return s.z().sub(s.y()).divi(s.rows());
  }

  @Override
  double accuracy(Scores s) {
    return Double.NaN;
  }
}
