package io.parasol.cli;

import io.parasol.worker.data.DataFormat;
import io.parasol.worker.data.Scaling;
import io.parasol.worker.model.Models;
import io.parasol.worker.train.TrainingData;
import picocli.CommandLine.Option;

/** Picocli mixin: where the training data comes from and how it is read and split. */
public final class DataOptions {
  @Option(names = "--data", defaultValue = "digits",
      description = "Bundled data name (digits) or a file path (default: ${DEFAULT-VALUE}).")
  String data;

  @Option(names = "--format", defaultValue = "auto",
      description = "File format for --data paths: csv, libsvm, idx, or auto (recognised from"
          + " the path: a directory of IDX files, *.csv, LIBSVM lines) (default:"
          + " ${DEFAULT-VALUE}).")
  String format;

  @Option(names = "--label-column", defaultValue = "-1",
      description = "CSV label column, 0-based; -1 = last (default: ${DEFAULT-VALUE}).")
  int labelColumn;

  @Option(names = "--header", description = "The CSV file has a header line.")
  boolean header;

  @Option(names = "--regression", description = "Targets are real values (linear model).")
  boolean regression;

  @Option(names = "--scaling", description = "Feature scaling: none, minmax, standard"
      + " (default: the model's: " + Models.CNN_SCALING + " for cnn, minmax otherwise).")
  String scaling;

  @Option(names = "--test-fraction", defaultValue = "0.2",
      description = "Held-out test fraction (default: ${DEFAULT-VALUE}).")
  double testFraction;

  /**
   * Loads and splits the data; {@code seed} shuffles the split. Without --scaling, the scaling
   * is {@code model}'s default ({@link Models#defaultScaling}).
   */
  TrainingData load(long seed, String model) {
    String scaling = this.scaling != null ? this.scaling : Models.defaultScaling(model);
    DataFormat f = format.trim().equalsIgnoreCase("auto") ? null : DataFormat.parse(format);
    return TrainingData.load(data, f, labelColumn, header, regression, testFraction,
        Scaling.parse(scaling), seed);
  }
}
