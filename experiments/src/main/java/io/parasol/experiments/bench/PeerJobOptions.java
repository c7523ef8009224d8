package io.parasol.experiments.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The training job and its PyTorch peer, as {@code bench train} and {@code bench scaling} take
 * them (a picocli mixin: one declaration of each flag for both commands).
 */
final class PeerJobOptions {
  @Option(names = "--model", defaultValue = "mlp:64",
      description = "mlp:64 (784-64-10) or cnn (LeNet) (default: ${DEFAULT-VALUE}).")
  String model;

  @Option(names = "--data", defaultValue = "/usr/share/datasets/fashion-mnist",
      description = "Directory of the IDX files (Debian's dataset-fashion-mnist) (default:"
          + " ${DEFAULT-VALUE}).")
  String data;

  @Option(names = "--batch-size", defaultValue = "32",
      description = "Mini-batch per worker (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = "--lr", defaultValue = "0.1",
      description = "Step size (default: ${DEFAULT-VALUE}).")
  float lr;

  @Option(names = "--epochs", defaultValue = "1",
      description = "Epochs (default: ${DEFAULT-VALUE}).")
  int epochs;

  @Option(names = "--seed", defaultValue = "1", description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--python", defaultValue = "/usr/bin/python3",
      description = "Interpreter that imports torch (default: ${DEFAULT-VALUE}).")
  String python;

  @Option(names = "--no-peer", description = "Run Parasol only.")
  boolean noPeer;

  /** Checks the flags; returns whether the PyTorch peer runs (says so on stderr if not). */
  boolean check(String command) {
    BenchCommand.positive("--batch-size", batchSize);
    BenchCommand.positive("--lr", lr);
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
