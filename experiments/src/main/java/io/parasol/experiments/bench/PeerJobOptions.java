package io.parasol.experiments.bench;

import io.parasol.worker.model.Models;
import io.parasol.worker.train.JobKeys;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The training job and its PyTorch peer, as {@code bench train} and {@code bench scaling} take
 * them (a picocli mixin: one declaration of each flag for both commands).
 */
final class PeerJobOptions {
  @Option(names = "--model", defaultValue = "mlp:64",
      description = "mlp:64 (784-64-10), cnn (16,32,128) or cnn:C1,C2[,H] (default:"
          + " ${DEFAULT-VALUE}). Each trains with its model's defaults: mlp plain SGD on"
          + " min-max scaled pixels, cnn Adam on standardised pixels, on both sides.")
  String model;

  @Option(names = "--data", defaultValue = "/usr/share/datasets/fashion-mnist",
      description = "Directory of the IDX files (Debian's dataset-fashion-mnist) (default:"
          + " ${DEFAULT-VALUE}).")
  String data;

  @Option(names = JobKeys.BATCH_SIZE_FLAG, defaultValue = JobKeys.BATCH_SIZE_DEFAULT,
      description = "Mini-batch per worker (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = JobKeys.LR_FLAG, description = "Step size (default: the model's: "
      + Models.NETWORK_LEARNING_RATE + " for mlp, " + Models.CNN_LEARNING_RATE + " for cnn).")
  Float lrFlag;

  /** The step size: --lr, or the model's default. */
  float lr() {
    return lrFlag != null ? lrFlag : Models.defaultLearningRate(model);
  }

  @Option(names = JobKeys.LR_SCHEDULE_FLAG, description = "Step-size schedule, on both sides:"
      + " constant, cosine[:F] or step:P1[,P2...]:FACTOR (default: the model's: "
      + Models.CNN_LR_SCHEDULE + " for cnn, constant for mlp).")
  String lrScheduleFlag;

  /** The step-size schedule: --lr-schedule, or the model's default. */
  String lrSchedule() {
    return lrScheduleFlag != null ? lrScheduleFlag : Models.defaultLrSchedule(model);
  }

  @Option(names = JobKeys.EPOCHS_FLAG, defaultValue = "1",
      description = "Epochs (default: ${DEFAULT-VALUE}).")
  int epochs;

  @Option(names = JobKeys.SEED_FLAG, defaultValue = JobKeys.SEED_DEFAULT,
      description = JobKeys.SEED_HELP)
  long seed;

  @Option(names = "--python", defaultValue = "/usr/bin/python3",
      description = "Interpreter that imports torch (default: ${DEFAULT-VALUE}).")
  String python;

  @Option(names = "--no-peer", description = "Run Parasol only.")
  boolean noPeer;

  /** Checks the flags; returns whether the PyTorch peer runs (says so on stderr if not). */
  boolean check(String command) {
    JobKeys.BATCH_SIZE.check(batchSize);
    JobKeys.LR.check(lr());
    JobKeys.LR_SCHEDULE.parse(lrSchedule());
    if (!model.equals("mlp:64") && !model.equals("mlp") && !Models.isCnn(model)) {
      throw new IllegalArgumentException("--model must be mlp:64, cnn or cnn:C1,C2[,H] (the"
          + " PyTorch peer builds those), got " + model);
    }
    BenchCommand.positive("--epochs", epochs);
    if (!Files.isDirectory(Path.of(data))) {
      throw new IllegalArgumentException("--data " + data + " is not a directory; install"
          + " Debian's dataset-fashion-mnist or point --data at IDX files");
    }
    boolean peer = !noPeer && TrainBench.torchAvailable(python);
    if (!noPeer && !peer) {
      System.err.println(command + ": " + python + " does not import torch; running Parasol"
          + " only (apt-get install python3-torch libopenblas0-pthread)");
    }
    return peer;
  }
}
