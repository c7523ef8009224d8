package io.parasol.worker.data;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The file formats {@link DatasetLoader} reads. */
public enum DataFormat {
  /** Comma-separated values, one example per line, with the label in one column. */
  CSV,
  /**
   * LIBSVM / SVMlight sparse text: {@code label index:value ...} with 1-based indices (Chang and
   * Lin, "LIBSVM: A library for support vector machines", ACM TIST 2011).
   */
  LIBSVM,
  /** LeCun's IDX binary format as used by MNIST: an images file and a labels file. */
  IDX;

  /** The lower-case name, as accepted by {@link #parse}. */
  public String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The format of the data at {@code path}, recognised from what is there: a directory or a
   * file whose name holds "idx3"/"idx1" is IDX; a name ending in .csv (optionally .gz) is CSV; a
   * text file whose first line reads {@code label index:value ...} is LIBSVM, otherwise CSV.
   *
   * @throws IllegalArgumentException naming the path when it is neither
   */
  public static DataFormat detect(java.nio.file.Path path) {
    String name = path.getFileName() == null ? "" : path.getFileName().toString()
        .toLowerCase(Locale.ROOT);
    if (java.nio.file.Files.isDirectory(path)) {
      try (var files = java.nio.file.Files.list(path)) {
        if (files.anyMatch(p -> p.getFileName().toString().contains("idx3"))) {
          return IDX;
        }
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException("cannot list " + path + ": " + e.getMessage(), e);
      }
      throw new IllegalArgumentException(path + " is a directory without IDX files"
          + " (train-images-idx3-ubyte[.gz]); give a CSV or LIBSVM file, or --format");
    }
    if (name.contains("idx3") || name.contains("idx1")) {
      return IDX;
    }
    if (name.endsWith(".csv") || name.endsWith(".csv.gz")) {
      return CSV;
    }
    try (var in = new java.io.BufferedReader(new java.io.InputStreamReader(
        java.nio.file.Files.newInputStream(path), java.nio.charset.StandardCharsets.UTF_8))) {
      String line = in.readLine();
      while (line != null && line.isBlank()) {
        line = in.readLine();
      }
      if (line != null && line.trim().matches("[-+0-9.eE]+(\\s+\\d+:[^\\s]+)+")) {
        return LIBSVM;
      }
      return CSV;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot read " + path + ": " + e.getMessage(), e);
    }
  }

  /**
   * Parses a format name, ignoring case and surrounding blanks.
   *
   * @throws IllegalArgumentException naming the accepted formats if {@code name} is none of them
   */
  public static DataFormat parse(String name) {
    String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
    for (DataFormat f : values()) {
      if (f.cliName().equals(n)) {
        return f;
      }
    }
    throw new IllegalArgumentException("unknown data format '" + name + "'; expected one of "
        + Arrays.stream(values()).map(DataFormat::cliName).collect(Collectors.joining(", ")));
  }
}
