package io.parasol.worker.model;

import io.parasol.common.BlockLayout;
import io.parasol.proto.v1.InitKind;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * A multilayer perceptron classifier: ReLU hidden layers and a softmax output trained with
 * cross-entropy, differentiated by hand (backpropagation).
 *
 * <p>Parameters, in order: "W1" (numFeatures x h1, row-major), "b1" (h1), "W2", "b2", ..., the
 * last pair mapping to numClasses. Weights are initialised uniformly on [-s, s] with the
 * Glorot/Xavier scale s = sqrt(6 / (fanIn + fanOut)) (Glorot and Bengio, "Understanding the
 * difficulty of training deep feedforward neural networks", AISTATS 2010); biases are zero.
 */
public final class Mlp implements Model {

  private final int numFeatures;
  private final int numClasses;
  private final int[] widths; // numFeatures, hidden..., numClasses
  private final long[] offsets; // offset of W_l; b_l follows it
  private final int numParams;
  private final String name;
  private final List<BlockLayout.Tensor> tensors;

  /**
   * @param hidden widths of the hidden layers, at least one, each positive
   */
  public Mlp(int numFeatures, int[] hidden, int numClasses) {
    if (numFeatures <= 0) {
      throw new IllegalArgumentException("mlp: number of features must be positive, got "
          + numFeatures);
    }
    if (numClasses < 2) {
      throw new IllegalArgumentException("mlp: needs at least 2 classes, got " + numClasses);
    }
    if (hidden == null || hidden.length == 0) {
      throw new IllegalArgumentException("mlp: needs at least one hidden layer");
    }
    for (int h : hidden) {
      if (h <= 0) {
        throw new IllegalArgumentException(
            "mlp: hidden layer widths must be positive, got " + Arrays.toString(hidden));
      }
    }
    this.numFeatures = numFeatures;
    this.numClasses = numClasses;
    this.widths = new int[hidden.length + 2];
    widths[0] = numFeatures;
    System.arraycopy(hidden, 0, widths, 1, hidden.length);
    widths[widths.length - 1] = numClasses;
    this.name = "mlp:" + Arrays.stream(hidden).mapToObj(Integer::toString)
        .collect(Collectors.joining(","));
    int layers = widths.length - 1;
    this.offsets = new long[layers];
    List<BlockLayout.Tensor> t = new ArrayList<>();
    long offset = 0;
    for (int l = 0; l < layers; l++) {
      int fanIn = widths[l];
      int fanOut = widths[l + 1];
      offsets[l] = offset;
      long size = (long) fanIn * fanOut;
      if (offset + size + fanOut > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException("mlp: " + name + " on " + numFeatures
            + " features has too many parameters");
      }
      float scale = (float) Math.sqrt(6.0 / (fanIn + fanOut));
      t.add(new BlockLayout.Tensor("W" + (l + 1), (int) size, InitKind.INIT_UNIFORM, scale));
      t.add(new BlockLayout.Tensor("b" + (l + 1), fanOut, InitKind.INIT_ZEROS, 0f));
      offset += size + fanOut;
    }
    this.numParams = (int) offset;
    this.tensors = List.copyOf(t);
  }

  /** E.g. "mlp:64" or "mlp:128,64". */
  @Override
  public String name() {
    return name;
  }

  @Override
  public List<BlockLayout.Tensor> tensors() {
    return tensors;
  }

  @Override
  public int numParams() {
    return numParams;
  }

  /** The hidden layer widths. */
  public int[] hidden() {
    return Arrays.copyOfRange(widths, 1, widths.length - 1);
  }

  @Override
  public LossAndGradient lossAndGradient(INDArray params, INDArray features, INDArray targets) {
    Forward f = forward(params, features, targets);
    int layers = widths.length - 1;
    INDArray delta = f.logits(); // overwritten with d loss / d logits
    double loss = Nd.softmaxCrossEntropy(delta, Nd.oneHot(f.y, numClasses, name), true);
    INDArray[] grads = new INDArray[2 * layers];
    for (int l = layers - 1; l >= 0; l--) {
      INDArray input = f.activations[l]; // b x widths[l]
      grads[2 * l] = input.transpose().mmul(delta);
      grads[2 * l + 1] = delta.sum(0);
      if (l > 0) {
        // back through W_l, then through the ReLU: its derivative is 1 where the output is > 0
        INDArray back = delta.mmul(weights(f.p, l).transpose());
        delta = back.muli(input.gt(0.0).castTo(f.dt));
      }
    }
    return new LossAndGradient(loss, Nd.concat(f.dt, numParams, grads));
  }

  @Override
  public Evaluation evaluate(INDArray params, INDArray features, INDArray targets) {
    Forward f = forward(params, features, targets);
    double accuracy = Nd.argmaxAccuracy(f.logits(), f.y);
    double loss = Nd.softmaxCrossEntropy(f.logits(), Nd.oneHot(f.y, numClasses, name), false);
    return new Evaluation(loss, accuracy);
  }

  /** activations[0] = X, activations[l] = relu(...) for hidden l, activations[L] = logits. */
  private record Forward(DataType dt, INDArray p, INDArray y, INDArray[] activations) {
    INDArray logits() {
      return activations[activations.length - 1];
    }
  }

  private Forward forward(INDArray params, INDArray features, INDArray targets) {
    INDArray p = Nd.flatParams(params, numParams, name);
    DataType dt = p.dataType();
    INDArray x = Nd.features(features, numFeatures, dt, name);
    INDArray y = Nd.targetColumn(targets, x.rows(), dt, name);
    int layers = widths.length - 1;
    INDArray[] a = new INDArray[layers + 1];
    a[0] = x;
    for (int l = 0; l < layers; l++) {
      INDArray bias = Nd.view(p, offsets[l] + (long) widths[l] * widths[l + 1], 1,
          widths[l + 1]);
      INDArray z = a[l].mmul(weights(p, l)).addiRowVector(bias);
      a[l + 1] = l < layers - 1 ? Transforms.relu(z, false) : z;
    }
    return new Forward(dt, p, y, a);
  }

  private INDArray weights(INDArray p, int layer) {
    return Nd.view(p, offsets[layer], widths[layer], widths[layer + 1]);
  }
}
