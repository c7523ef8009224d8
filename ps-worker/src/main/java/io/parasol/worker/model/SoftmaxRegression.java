package io.parasol.worker.model;

import io.parasol.common.BlockLayout;
import io.parasol.proto.v1.InitKind;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Multinomial logistic (softmax) regression: logits XW + b, loss the mean cross-entropy of
 * softmax(logits) with log-sum-exp stabilisation, accuracy by argmax. Parameters: "W"
 * (numFeatures x numClasses, row-major) and "b" (numClasses), both initialised to zero.
 */
public final class SoftmaxRegression implements Model {

  private final int numFeatures;
  private final int numClasses;
  private final List<BlockLayout.Tensor> tensors;

  public SoftmaxRegression(int numFeatures, int numClasses) {
    if (numFeatures <= 0) {
      throw new IllegalArgumentException("softmax: number of features must be positive, got "
          + numFeatures);
    }
    if (numClasses < 2) {
      throw new IllegalArgumentException("softmax: needs at least 2 classes, got " + numClasses);
    }
    if ((long) numFeatures * numClasses + numClasses > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("softmax: " + numFeatures + " x " + numClasses
          + " parameters are too many");
    }
    this.numFeatures = numFeatures;
    this.numClasses = numClasses;
    this.tensors = List.of(
        new BlockLayout.Tensor("W", numFeatures * numClasses, InitKind.INIT_ZEROS, 0f),
        new BlockLayout.Tensor("b", numClasses, InitKind.INIT_ZEROS, 0f));
  }

  @Override
  public String name() {
    return "softmax";
  }

  @Override
  public List<BlockLayout.Tensor> tensors() {
    return tensors;
  }

  @Override
  public int numParams() {
    return numFeatures * numClasses + numClasses;
  }

  @Override
  public LossAndGradient lossAndGradient(INDArray params, INDArray features, INDArray targets) {
    Forward f = forward(params, features, targets);
    INDArray dz = f.z; // overwritten with d loss / d logits
    double loss = Nd.softmaxCrossEntropy(dz, Nd.oneHot(f.y, numClasses, name()), true);
    INDArray gw = f.x.transpose().mmul(dz);
    INDArray gb = dz.sum(0);
    return new LossAndGradient(loss, Nd.concat(f.dt, numParams(), gw, gb));
  }

  @Override
  public Evaluation evaluate(INDArray params, INDArray features, INDArray targets) {
    Forward f = forward(params, features, targets);
    double accuracy = Nd.argmaxAccuracy(f.z, f.y);
    double loss = Nd.softmaxCrossEntropy(f.z, Nd.oneHot(f.y, numClasses, name()), false);
    return new Evaluation(loss, accuracy);
  }

  private record Forward(DataType dt, INDArray x, INDArray y, INDArray z) {}

  private Forward forward(INDArray params, INDArray features, INDArray targets) {
    INDArray p = Nd.flatParams(params, numParams(), name());
    DataType dt = p.dataType();
    INDArray x = Nd.features(features, numFeatures, dt, name());
    INDArray y = Nd.targetColumn(targets, x.rows(), dt, name());
    INDArray w = Nd.view(p, 0, numFeatures, numClasses);
    INDArray bias = Nd.view(p, (long) numFeatures * numClasses, 1, numClasses);
    INDArray z = x.mmul(w).addiRowVector(bias); // b x C logits
    return new Forward(dt, x, y, z);
  }
}
