package io.parasol.cli;

import io.parasol.worker.model.Models;
import io.parasol.worker.train.JobKeys;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Picocli mixin: the model to train, its graph names and its step size. */
public final class ModelOptions {
  @Option(names = "--model", defaultValue = "softmax",
      description = "linear, logistic, softmax, mlp, mlp:H1[,H2...], cnn, cnn:C1,C2[,H], dl4j:PATH"
          + " or a SameDiff graph file (default: ${DEFAULT-VALUE}).")
  String model;

  @Mixin
  GraphOptions graph = new GraphOptions();

  @Option(names = JobKeys.LR_FLAG, description = JobKeys.LR_HELP)
  Float lr;

  /** The graph options of --model cnn and of graph files. */
  Models.Options modelOptions() {
    return graph.modelOptions();
  }

  /** --lr, or the model's default step size. */
  float learningRate() {
    return lr != null ? lr : Models.defaultLearningRate(model);
  }
}
