package io.parasol.experiments.report;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVPrinter;
import org.apache.commons.csv.CSVRecord;

/**
 * Writes and reads small CSV files (UTF-8, comma-separated, {@code \n} line ends) with Apache
 * Commons CSV.
 *
 * <p>Cells holding a comma, a double quote, CR or LF are quoted as in RFC 4180 (quotes doubled).
 * Numbers are written independently of the default locale: integral {@code double}s below
 * 10<sup>15</sup> without a fraction ({@code 3}), other values in Java's shortest round-trip
 * form ({@code 0.1}, {@code 1.0E-5}, {@code Infinity}); {@code NaN} and {@code null} become empty
 * cells.
 */
public final class Csv {
  private static final CSVFormat FORMAT =
      CSVFormat.RFC4180.builder().setRecordSeparator('\n').get();

  private Csv() {}

  /**
   * Writes a header line and one line per row of numbers, creating parent directories as needed.
   *
   * @throws IllegalArgumentException if a row's length differs from the header's
   */
  public static void write(Path file, List<String> header, List<double[]> rows)
      throws IOException {
    Objects.requireNonNull(rows, "rows");
    List<Object[]> boxed = new ArrayList<>(rows.size());
    for (double[] row : rows) {
      Object[] cells = new Object[row.length];
      for (int i = 0; i < row.length; i++) {
        cells[i] = row[i];
      }
      boxed.add(cells);
    }
    writeObjects(file, header, boxed);
  }

  /**
   * Writes a header line and one line per row of mixed cells ({@link Number}s as described in the
   * class comment, anything else via {@link String#valueOf}), creating parent directories as
   * needed.
   *
   * @throws IllegalArgumentException if a row's length differs from the header's
   */
  public static void writeObjects(Path file, List<String> header, List<Object[]> rows)
      throws IOException {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(header, "header");
    Objects.requireNonNull(rows, "rows");
    for (int r = 0; r < rows.size(); r++) {
      if (rows.get(r).length != header.size()) {
        throw new IllegalArgumentException(
            "row " + r + " has " + rows.get(r).length + " cells, header has " + header.size());
      }
    }
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
        CSVPrinter printer = new CSVPrinter(w, FORMAT)) {
      printer.printRecord(header);
      for (Object[] row : rows) {
        Object[] cells = new Object[row.length];
        for (int i = 0; i < row.length; i++) {
          cells[i] = cell(row[i]);
        }
        printer.printRecord(cells);
      }
    }
  }

  /**
   * Reads a CSV file into rows of cells (the header, if any, is the first row): RFC 4180, with
   * {@code \n} or {@code \r\n} line ends.
   *
   * @throws IOException also if the file is malformed (for example a quoted cell not closed)
   */
  public static List<String[]> read(Path file) throws IOException {
    List<String[]> rows = new ArrayList<>();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8);
        CSVParser parser = CSVParser.builder().setReader(r).setFormat(FORMAT).get()) {
      for (CSVRecord record : parser) {
        rows.add(record.values());
      }
    } catch (java.io.UncheckedIOException e) {
      throw e.getCause();
    } catch (IllegalStateException e) {
      throw new IOException(file + ": " + e.getMessage(), e);
    }
    return rows;
  }

  /** The text of one cell (before quoting). */
  static String cell(Object value) {
    if (value == null) {
      return "";
    }
    if (value instanceof Double || value instanceof Float) {
      double v = ((Number) value).doubleValue();
      if (Double.isNaN(v)) {
        return "";
      }
      if (v == Math.rint(v) && Math.abs(v) < 1e15) {
        return Long.toString((long) v);
      }
      return value instanceof Float ? Float.toString((float) v) : Double.toString(v);
    }
    return String.valueOf(value);
  }
}
