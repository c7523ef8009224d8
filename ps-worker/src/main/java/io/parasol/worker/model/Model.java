package io.parasol.worker.model;

import io.parasol.common.BlockLayout;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A model as a pure function of a flat float32 parameter vector and a mini-batch.
 *
 * <p>{@link #lossAndGradient} neither keeps nor mutates state: the same parameters and batch
 * give the same loss and gradient. The flat vector is the concatenation of {@link #tensors()} in
 * order; each tensor is stored row-major.
 */
public interface Model {

  /** Short name, e.g. "softmax" or "mlp:64". */
  String name();

  /** The parameter tensors in flat-vector order, with their initialisation rules. */
  List<BlockLayout.Tensor> tensors();

  /** d, the length of the flat parameter vector. */
  default int numParams() {
    return tensors().stream().mapToInt(BlockLayout.Tensor::size).sum();
  }

  /**
   * Mean loss over the batch and its gradient with respect to {@code params}.
   *
   * @param params row vector of length d (float)
   * @param features b x numFeatures (float)
   * @param targets length-b vector of targets (class index as float, or real value)
   */
  LossAndGradient lossAndGradient(INDArray params, INDArray features, INDArray targets);

  /** Mean loss and, for classifiers, accuracy over a whole set (no gradient). */
  Evaluation evaluate(INDArray params, INDArray features, INDArray targets);

  /** Loss and flat gradient (a new row vector of length d). */
  record LossAndGradient(double loss, INDArray gradient) {}

  /** Loss and accuracy; accuracy is NaN for regression. */
  record Evaluation(double loss, double accuracy) {}
}
