package io.parasol.worker.model;

/**
 * A model whose loss and gradient can be computed on plain arrays, so a training loop can pull
 * into, compute from and push from Java arrays with no ND4J array per step.
 *
 * <p>Same contract as {@link Model#lossAndGradient}: a pure function of parameters and batch;
 * implementations are thread-safe (workers of an embedded cluster share one model).
 */
public interface ArrayModel {

  /**
   * Mean loss over the batch; writes its gradient with respect to {@code params} into
   * {@code grad} (length d, overwritten).
   *
   * @param params the flat parameter vector (length at least d)
   * @param features rows x numFeatures, row-major
   * @param targets per row: the class index (as a float) or the real target
   * @param rows b, the batch size
   */
  double lossAndGradient(float[] params, float[] features, float[] targets, int rows,
      float[] grad);

  /**
   * Mean loss and accuracy of {@code params} on a whole set (e.g. the test set), computed on
   * arrays as {@link #lossAndGradient} is; the same figures as {@link Model#evaluate}.
   *
   * @param features rows x numFeatures, row-major
   * @param targets per row: the class index (as a float) or the real target
   */
  Model.Evaluation evaluate(float[] params, float[] features, float[] targets, int rows);
}
