package io.parasol.cli;

import io.parasol.worker.model.LeNet;
import io.parasol.worker.model.Models;
import io.parasol.worker.model.SameDiffModel;
import picocli.CommandLine.Option;

/**
 * Picocli mixin: how to read a model's graph (its placeholders, loss and output variables) and
 * the image shape of {@code cnn}. Shared by the job commands and {@code model describe}, so a
 * graph is read the same way where it is trained and where it is described.
 */
public final class GraphOptions {
  /** The features placeholder when --model-features is not given. */
  static final String FEATURES_DEFAULT = "features";
  /** The labels placeholder when --model-labels is not given. */
  static final String LABELS_DEFAULT = "labels";

  @Option(names = "--model-features", description = "Graph models: the features"
      + " placeholder [b, d] (default: " + FEATURES_DEFAULT + ").")
  String modelFeatures;

  @Option(names = "--model-labels", description = "Graph models: the labels placeholder, one-hot"
      + " [b, C] or [b, 1] for regression (default: " + LABELS_DEFAULT + ").")
  String modelLabels;

  @Option(names = "--model-loss", description = "Graph models: the mean-loss variable (default:"
      + " the graph's loss variable).")
  String modelLoss;

  @Option(names = "--model-output", description = "Graph models: the class scores [b, C] used"
      + " for accuracy (default: output, if the graph has it).")
  String modelOutput;

  @Option(names = "--input-shape", description = "cnn: the images' C,H,W (default: one channel"
      + " of square images, e.g. 1,28,28 for 784 features).")
  String inputShape;

  /** The graph options of --model cnn and of graph files. */
  Models.Options modelOptions() {
    return new Models.Options(
        new SameDiffModel.Names(modelFeatures, modelLabels, modelLoss, modelOutput),
        inputShape == null ? null : LeNet.Shape.parse(inputShape));
  }

  /** The features placeholder's name, given or default. */
  String featuresName() {
    return modelFeatures == null ? FEATURES_DEFAULT : modelFeatures;
  }

  /** The labels placeholder's name, given or default. */
  String labelsName() {
    return modelLabels == null ? LABELS_DEFAULT : modelLabels;
  }
}
