package io.parasol.worker.model;

import io.parasol.common.BlockLayout;
import io.parasol.proto.v1.InitKind;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Binary logistic regression: p = sigmoid(Xw + b), targets 0 or 1, loss the mean binary
 * cross-entropy computed stably as max(z, 0) - z y + log1p(exp(-|z|)). Accuracy thresholds p at
 * 0.5. Parameters: "w" (d) and "b" (1), both initialised to zero.
 */
public final class LogisticRegression implements Model {

  private final int numFeatures;
  private final List<BlockLayout.Tensor> tensors;

  public LogisticRegression(int numFeatures) {
    if (numFeatures <= 0) {
      throw new IllegalArgumentException("logistic: number of features must be positive, got "
          + numFeatures);
    }
    this.numFeatures = numFeatures;
    this.tensors = List.of(new BlockLayout.Tensor("w", numFeatures, InitKind.INIT_ZEROS, 0f),
        new BlockLayout.Tensor("b", 1, InitKind.INIT_ZEROS, 0f));
  }

  @Override
  public String name() {
    return "logistic";
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
    double loss = loss(f);
    INDArray dz = Transforms.sigmoid(f.z, true).subi(f.y).divi(b); // b x 1
    INDArray gw = f.x.transpose().mmul(dz);
    INDArray gb = dz.sum(0);
    return new LossAndGradient(loss, Nd.concat(f.dt, numParams(), gw, gb));
  }

  @Override
  public Evaluation evaluate(INDArray params, INDArray features, INDArray targets) {
    Forward f = forward(params, features, targets);
    // sigmoid(z) >= 0.5 exactly when z >= 0
    double correct = f.z.gte(0.0).castTo(f.dt).eq(f.y).castTo(f.dt).sumNumber().doubleValue();
    return new Evaluation(loss(f), correct / f.x.rows());
  }

  private static double loss(Forward f) {
    INDArray softplus = Transforms.log1p(Transforms.exp(Transforms.abs(f.z, true).negi(), false),
        false);
    INDArray perExample = Transforms.relu(f.z, true).subi(f.z.mul(f.y)).addi(softplus);
    return perExample.sumNumber().doubleValue() / f.x.rows();
  }

  private record Forward(DataType dt, INDArray x, INDArray y, INDArray z) {}

  private Forward forward(INDArray params, INDArray features, INDArray targets) {
    INDArray p = Nd.flatParams(params, numParams(), name());
    DataType dt = p.dataType();
    INDArray x = Nd.features(features, numFeatures, dt, name());
    INDArray y = Nd.targetColumn(targets, x.rows(), dt, name());
    Nd.oneHot(y, 2, name()); // checks that every target is 0 or 1
    INDArray w = Nd.view(p, 0, numFeatures, 1);
    INDArray z = x.mmul(w).addi(p.getDouble(numFeatures)); // b x 1 logits
    return new Forward(dt, x, y, z);
  }
}
