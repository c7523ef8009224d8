package io.parasol.worker.data;

import java.util.Objects;

/**
 * An in-memory dataset: n examples of d float features, row-major, and one target per example.
 *
 * <p>For classification the target is the class index 0..numClasses-1 stored as a float; for
 * regression {@code numClasses} is 0 and the target is the real value.
 */
public record Dataset(int numExamples, int numFeatures, float[] features, float[] targets,
    int numClasses) {
  public Dataset {
    Objects.requireNonNull(features, "features");
    Objects.requireNonNull(targets, "targets");
    if (features.length != (long) numExamples * numFeatures) {
      throw new IllegalArgumentException("features has " + features.length + " values, expected "
          + numExamples + " x " + numFeatures);
    }
    if (targets.length != numExamples) {
      throw new IllegalArgumentException(
          "targets has " + targets.length + " values, expected " + numExamples);
    }
  }

  public boolean isClassification() {
    return numClasses > 0;
  }
}
