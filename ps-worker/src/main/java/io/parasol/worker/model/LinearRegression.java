package io.parasol.worker.model;

import io.parasol.common.BlockLayout;
import io.parasol.proto.v1.InitKind;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Least-squares linear regression: prediction Xw + b, loss mean over the batch of
 * 0.5 (prediction - y)^2. Parameters: "w" (d) and "b" (1), both initialised to zero.
 */
public final class LinearRegression implements Model {

  private final int numFeatures;
  private final List<BlockLayout.Tensor> tensors;

  public LinearRegression(int numFeatures) {
    if (numFeatures <= 0) {
      throw new IllegalArgumentException("linear: number of features must be positive, got "
          + numFeatures);
    }
    this.numFeatures = numFeatures;
    this.tensors = List.of(new BlockLayout.Tensor("w", numFeatures, InitKind.INIT_ZEROS, 0f),
        new BlockLayout.Tensor("b", 1, InitKind.INIT_ZEROS, 0f));
  }

  @Override
  public String name() {
    return "linear";
  }

  @Override
  public List<BlockLayout.Tensor> tensors() {
    return tensors;
  }

  @Override
  public int numParams() {
    return numFeatures + 1;
  }

  @Override
  public LossAndGradient lossAndGradient(INDArray params, INDArray features, INDArray targets) {
    Forward f = forward(params, features, targets);
    long b = f.x.rows();
    double loss = 0.5 * f.residual.mul(f.residual).sumNumber().doubleValue() / b;
    INDArray r = f.residual.divi(b); // d loss / d prediction
    INDArray gw = f.x.transpose().mmul(r);
    INDArray gb = r.sum(0);
    return new LossAndGradient(loss, Nd.concat(f.dt, numParams(), gw, gb));
  }

  @Override
  public Evaluation evaluate(INDArray params, INDArray features, INDArray targets) {
    Forward f = forward(params, features, targets);
    double loss = 0.5 * f.residual.mul(f.residual).sumNumber().doubleValue() / f.x.rows();
    return new Evaluation(loss, Double.NaN);
  }

  private record Forward(DataType dt, INDArray x, INDArray residual) {}

  private Forward forward(INDArray params, INDArray features, INDArray targets) {
    INDArray p = Nd.flatParams(params, numParams(), name());
    DataType dt = p.dataType();
    INDArray x = Nd.features(features, numFeatures, dt, name());
    INDArray y = Nd.targetColumn(targets, x.rows(), dt, name());
    INDArray w = Nd.view(p, 0, numFeatures, 1);
    double bias = p.getDouble(numFeatures);
    INDArray residual = x.mmul(w).addi(bias).subi(y); // b x 1
    return new Forward(dt, x, residual);
  }
}
