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
