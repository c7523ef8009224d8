package io.parasol.experiments.report;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Writes and reads small CSV files (UTF-8, comma-separated, {@code \n} line ends).
 *
 * <p>Cells holding a comma, a double quote, CR or LF are quoted as in RFC 4180 (quotes doubled).
 * Numbers are written independently of the default locale: integral {@code double}s below
 * 10<sup>15</sup> without a fraction ({@code 3}), other values in Java's shortest round-trip
 * form ({@code 0.1}, {@code 1.0E-5}, {@code Infinity}); {@code NaN} and {@code null} become empty
 * cells.
 */
public final class Csv {
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
    try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      writeLine(w, header.toArray());
      for (Object[] row : rows) {
        writeLine(w, row);
      }
    }
  }

  /**
   * Reads a CSV file into rows of cells (the header, if any, is the first row). Handles quoted
   * cells with doubled quotes, commas and line breaks, and both {@code \n} and {@code \r\n} line
   * ends; a final line end does not start a new row.
   *
   * @throws IOException also if a quoted cell is not closed
   */
  public static List<String[]> read(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.UTF_8);
    List<String[]> rows = new ArrayList<>();
    List<String> row = new ArrayList<>();
    StringBuilder cell = new StringBuilder();
    boolean inQuotes = false;
    boolean pending = false; // the current row has content not yet added to rows
    int i = 0;
    while (i < text.length()) {
      char c = text.charAt(i++);
      if (inQuotes) {
        if (c != '"') {
          cell.append(c);
        } else if (i < text.length() && text.charAt(i) == '"') {
          cell.append('"');
          i++;
        } else {
          inQuotes = false;
        }
        continue;
      }
      switch (c) {
        case '"' -> {
          inQuotes = true;
          pending = true;
        }
        case ',' -> {
          row.add(cell.toString());
          cell.setLength(0);
          pending = true;
        }
        case '\r', '\n' -> {
          if (c == '\r' && i < text.length() && text.charAt(i) == '\n') {
            i++;
          }
          row.add(cell.toString());
          cell.setLength(0);
          rows.add(row.toArray(new String[0]));
          row.clear();
          pending = false;
        }
        default -> {
          cell.append(c);
          pending = true;
        }
      }
    }
    if (inQuotes) {
      throw new IOException(file + ": unterminated quoted cell");
    }
    if (pending) {
      row.add(cell.toString());
      rows.add(row.toArray(new String[0]));
    }
    return rows;
  }

  private static void writeLine(BufferedWriter w, Object[] cells) throws IOException {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < cells.length; i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append(cell(cells[i]));
    }
    w.write(sb.append('\n').toString());
  }

  /** The text of one cell, quoted where needed. */
  static String cell(Object value) {
    if (value == null) {
      return "";
    }
    if (value instanceof Double || value instanceof Float) {
      return number(((Number) value).doubleValue(), value instanceof Float);
    }
    String s = String.valueOf(value);
    if (value instanceof Number) {
      return s;
    }
    boolean quote =
        s.indexOf(',') >= 0 || s.indexOf('"') >= 0 || s.indexOf('\n') >= 0 || s.indexOf('\r') >= 0;
    return quote ? '"' + s.replace("\"", "\"\"") + '"' : s;
  }

  private static String number(double v, boolean isFloat) {
    if (Double.isNaN(v)) {
      return "";
    }
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    return isFloat ? Float.toString((float) v) : Double.toString(v);
  }
}
