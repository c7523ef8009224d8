package io.parasol.cli;

import io.parasol.worker.model.LeNet;
import io.parasol.worker.model.Models;
import io.parasol.worker.model.SameDiffModel;
import io.parasol.worker.train.JobKeys;
import picocli.CommandLine.Option;

/** Picocli mixin: the model to train, its graph names and its step size. */
public final class ModelOptions {
  @Option(names = "--model", defaultValue = "softmax",
      description = "linear, logistic, softmax, mlp, mlp:H1[,H2...] (default: ${DEFAULT-VALUE}).")
  String model;

  @Option(names = "--model-features", description = "Graph models: the features"
      + " placeholder [b, d] (default: features).")
  String modelFeatures;

  @Option(names = "--model-labels", description = "Graph models: the labels placeholder, one-hot"
      + " [b, C] or [b, 1] for regression (default: labels).")
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

  @Option(names = JobKeys.LR_FLAG, description = JobKeys.LR_HELP)
  Float lr;

  /** The graph options of --model cnn and of graph files. */
  Models.Options modelOptions() {
    return new Models.Options(
        new SameDiffModel.Names(modelFeatures, modelLabels, modelLoss, modelOutput),
        inputShape == null ? null : LeNet.Shape.parse(inputShape));
  }

  /** --lr, or the model's default step size. */
  float learningRate() {
    return lr != null ? lr : Models.defaultLearningRate(model);
  }
}
