package io.parasol.worker.data;

import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import java.util.zip.GZIPInputStream;

/**
 * Reads a {@link Dataset} from a CSV, LIBSVM or IDX (MNIST) file.
 *
 * <p>Files may be gzip-compressed; compression is detected by the gzip magic bytes 1f 8b (RFC
 * 1952), so a {@code .gz} suffix is not required.
 *
 * <p>Classification labels must be integers. They are mapped to class indices 0..C-1 by sorting
 * the distinct labels: labels that already are 0..C-1 keep their values, {-1, +1} becomes
 * {0, 1}, and any other set (e.g. 1-based labels) is indexed in ascending order. The number of
 * classes is the number of distinct labels, and at least 2. With {@link
 * LoadOptions#regression()} the target is kept as a real value and the number of classes is 0.
 *
 * <p>Malformed input raises an {@link IllegalArgumentException} whose message names the file and,
 * for text formats, the 1-based line number; I/O failures raise {@link UncheckedIOException}.
 */
public final class DatasetLoader {

  private static final int BUFFER = 1 << 16;
  /** Labels with larger magnitude cannot be told apart in float32 and are surely not classes. */
  private static final double MAX_LABEL = 1 << 24;

  private DatasetLoader() {}

  /**
   * How to interpret a file.
   *
   * @param labelColumn CSV: 0-based column of the label, or -1 for the last column
   * @param header CSV: skip the first line
   * @param regression keep targets as real values (numClasses = 0) instead of class labels
   * @param numFeatures LIBSVM: number of features, or 0 to infer it from the largest index
   */
  public record LoadOptions(int labelColumn, boolean header, boolean regression,
      int numFeatures) {
    public LoadOptions {
      if (labelColumn < -1) {
        throw new IllegalArgumentException(
            "label column must be >= 0, or -1 for the last column; got " + labelColumn);
      }
      if (numFeatures < 0) {
        throw new IllegalArgumentException(
            "number of features must be >= 0 (0 = infer); got " + numFeatures);
      }
    }

    /** Label in the last column, no header, classification, inferred feature count. */
    public static LoadOptions defaults() {
      return new LoadOptions(-1, false, false, 0);
    }
  }

  /**
   * Loads a data set.
   *
   * @param path a CSV or LIBSVM file; for IDX, the images file (its labels file is found next to
   *     it by replacing "images-idx3" with "labels-idx1" in the name) or a directory holding the
   *     MNIST training pair {@code train-images-idx3-ubyte[.gz]} and {@code
   *     train-labels-idx1-ubyte[.gz]}
   */
  public static Dataset load(Path path, DataFormat format, LoadOptions options) {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(format, "format");
    Objects.requireNonNull(options, "options");
    if (format == DataFormat.IDX) {
      return loadIdx(path, options);
    }
    requireFile(path);
    try (InputStream in = open(path)) {
      return format == DataFormat.CSV
          ? readCsv(in, path.toString(), options)
          : readLibsvm(in, path.toString(), options);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + path + ": " + e.getMessage(), e);
    }
  }

  // ---------------------------------------------------------------------------------- CSV

  /** Reads CSV from a stream (gzip-compressed or not); {@code source} names it in errors. */
  static Dataset readCsv(InputStream stream, String source, LoadOptions o) throws IOException {
    BufferedReader r = reader(stream, source);
    FloatList features = new FloatList();
    DoubleList labels = new DoubleList();
    int columns = -1;
    int labelColumn = -1;
    int lineNo = 0;
    boolean skipHeader = o.header();
    String line;
    while ((line = r.readLine()) != null) {
      lineNo++;
      if (lineNo == 1 && !line.isEmpty() && line.charAt(0) == '\uFEFF') {
        line = line.substring(1);
      }
      if (line.isBlank()) {
        continue;
      }
      if (skipHeader) {
        skipHeader = false;
        continue;
      }
      String[] fields = line.split(",", -1);
      if (columns < 0) {
        columns = fields.length;
        if (columns < 2) {
          throw new IllegalArgumentException(source + " line " + lineNo + ": found " + columns
              + " column; a CSV data set needs at least one feature and a label"
              + " (is the file comma-separated?)");
        }
        labelColumn = o.labelColumn() == -1 ? columns - 1 : o.labelColumn();
        if (labelColumn >= columns) {
          throw new IllegalArgumentException(source + " line " + lineNo + ": label column "
              + labelColumn + " does not exist; the file has " + columns
              + " columns (0-based, -1 = last)");
        }
      } else if (fields.length != columns) {
        throw new IllegalArgumentException(source + " line " + lineNo + ": found "
            + fields.length + " columns, expected " + columns + " as on the first data line");
      }
      for (int c = 0; c < columns; c++) {
        String what = c == labelColumn ? "label" : "value";
        float v = parseFloat(fields[c], source, lineNo, what + " in column " + c);
        if (c == labelColumn) {
          labels.add(o.regression() ? v : parseLabel(fields[c], source, lineNo));
        } else {
          features.add(v);
        }
      }
    }
    if (labels.size() == 0) {
      throw new IllegalArgumentException(source + ": no data lines"
          + (o.header() ? " after the header" : ""));
    }
    return build(labels.size(), columns - 1, features.toArray(), labels, o.regression());
  }

  // ------------------------------------------------------------------------------- LIBSVM

  /** Reads LIBSVM text from a stream (gzip-compressed or not). */
  static Dataset readLibsvm(InputStream stream, String source, LoadOptions o) throws IOException {
    BufferedReader r = reader(stream, source);
    DoubleList labels = new DoubleList();
    IntList rowStart = new IntList();
    IntList rowLine = new IntList();
    IntList indices = new IntList();
    FloatList values = new FloatList();
    int maxIndex = 0;
    int lineNo = 0;
    String line;
    while ((line = r.readLine()) != null) {
      lineNo++;
      int hash = line.indexOf('#');
      if (hash >= 0) {
        line = line.substring(0, hash);
      }
      line = line.strip();
      if (line.isEmpty()) {
        continue;
      }
      String[] tokens = line.split("\\s+");
      float label = parseFloat(tokens[0], source, lineNo, "label");
      labels.add(o.regression() ? label : parseLabel(tokens[0], source, lineNo));
      rowStart.add(indices.size());
      rowLine.add(lineNo);
      for (int t = 1; t < tokens.length; t++) {
        String tok = tokens[t];
        int colon = tok.indexOf(':');
        if (colon <= 0 || colon == tok.length() - 1) {
          throw new IllegalArgumentException(source + " line " + lineNo + ": expected"
              + " index:value, found '" + tok + "'");
        }
        String idxText = tok.substring(0, colon);
        if (idxText.equals("qid")) {
          continue;
        }
        int index;
        try {
          index = Integer.parseInt(idxText);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(source + " line " + lineNo + ": bad feature index '"
              + idxText + "' in '" + tok + "'", e);
        }
        if (index < 1) {
          throw new IllegalArgumentException(source + " line " + lineNo + ": feature index "
              + index + " in '" + tok + "' is not positive (LIBSVM indices are 1-based)");
        }
        if (o.numFeatures() > 0 && index > o.numFeatures()) {
          throw new IllegalArgumentException(source + " line " + lineNo + ": feature index "
              + index + " exceeds the declared " + o.numFeatures() + " features");
        }
        float v = parseFloat(tok.substring(colon + 1), source, lineNo,
            "value of feature " + index);
        indices.add(index - 1);
        values.add(v);
        maxIndex = Math.max(maxIndex, index);
      }
    }
    int n = labels.size();
    if (n == 0) {
      throw new IllegalArgumentException(source + ": no data lines");
    }
    int d = o.numFeatures() > 0 ? o.numFeatures() : maxIndex;
    if (d == 0) {
      throw new IllegalArgumentException(source + ": no feature appears in any line;"
          + " cannot infer the number of features");
    }
    if ((long) n * d > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(source + ": " + n + " x " + d
          + " dense features are too many for memory");
    }
    rowStart.add(indices.size());
    float[] dense = new float[n * d];
    int[] lastRow = new int[d];
    Arrays.fill(lastRow, -1);
    for (int i = 0; i < n; i++) {
      for (int k = rowStart.get(i); k < rowStart.get(i + 1); k++) {
        int j = indices.get(k);
        if (lastRow[j] == i) {
          throw new IllegalArgumentException(source + " line " + rowLine.get(i)
              + ": feature index " + (j + 1) + " appears twice");
        }
        lastRow[j] = i;
        dense[i * d + j] = values.get(k);
      }
    }
    return build(n, d, dense, labels, o.regression());
  }

  // ---------------------------------------------------------------------------------- IDX

  private static final int IDX_IMAGES_MAGIC = 0x00000803;
  private static final int IDX_LABELS_MAGIC = 0x00000801;

  private static Dataset loadIdx(Path path, LoadOptions o) {
    Path images = Files.isDirectory(path) ? findTrainImages(path) : path;
    requireFile(images);
    Path labelsPath = labelsFileFor(images);
    int n;
    int pixels;
    float[] features;
    try (DataInputStream in = new DataInputStream(open(images))) {
      int magic = in.readInt();
      if (magic != IDX_IMAGES_MAGIC) {
        throw new IllegalArgumentException(String.format("%s: IDX magic number is 0x%08x,"
            + " expected 0x%08x (unsigned-byte images of 3 dimensions)", images, magic,
            IDX_IMAGES_MAGIC));
      }
      n = in.readInt();
      int rows = in.readInt();
      int cols = in.readInt();
      if (n <= 0 || rows <= 0 || cols <= 0) {
        throw new IllegalArgumentException(images + ": IDX header declares " + n + " images of "
            + rows + " x " + cols + " pixels");
      }
      if ((long) n * rows * cols > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException(images + ": " + n + " images of " + rows + " x "
            + cols + " pixels are too many for memory");
      }
      pixels = rows * cols;
      features = new float[n * pixels];
      byte[] buf = new byte[pixels];
      for (int i = 0; i < n; i++) {
        readFully(in, buf, images, "image " + i + " of " + n);
        int base = i * pixels;
        for (int p = 0; p < pixels; p++) {
          features[base + p] = buf[p] & 0xFF;
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + images + ": " + e.getMessage(), e);
    }
    DoubleList labels = new DoubleList();
    try (DataInputStream in = new DataInputStream(open(labelsPath))) {
      int magic = in.readInt();
      if (magic != IDX_LABELS_MAGIC) {
        throw new IllegalArgumentException(String.format("%s: IDX magic number is 0x%08x,"
            + " expected 0x%08x (unsigned-byte labels of 1 dimension)", labelsPath, magic,
            IDX_LABELS_MAGIC));
      }
      int count = in.readInt();
      if (count != n) {
        throw new IllegalArgumentException(labelsPath + " holds " + count + " labels but "
            + images + " holds " + n + " images");
      }
      byte[] buf = new byte[n];
      readFully(in, buf, labelsPath, "labels");
      for (byte b : buf) {
        labels.add((double) (b & 0xFF));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + labelsPath + ": " + e.getMessage(), e);
    }
    return build(n, pixels, features, labels, o.regression());
  }

  /**
   * The official test images of an MNIST-style directory ({@code t10k-images-idx3-ubyte[.gz]}),
   * if it holds them.
   */
  public static java.util.Optional<Path> officialTestImages(Path dir) {
    if (!Files.isDirectory(dir)) {
      return java.util.Optional.empty();
    }
    for (String name : new String[] {"t10k-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz",
        "t10k-images.idx3-ubyte", "t10k-images.idx3-ubyte.gz"}) {
      Path p = dir.resolve(name);
      if (Files.isRegularFile(p)) {
        return java.util.Optional.of(p);
      }
    }
    return java.util.Optional.empty();
  }

  private static Path findTrainImages(Path dir) {
    String[] names = {"train-images-idx3-ubyte", "train-images-idx3-ubyte.gz",
        "train-images.idx3-ubyte", "train-images.idx3-ubyte.gz"};
    for (String name : names) {
      Path p = dir.resolve(name);
      if (Files.isRegularFile(p)) {
        return p;
      }
    }
    throw new IllegalArgumentException("directory " + dir + " holds no MNIST training images;"
        + " expected one of " + String.join(", ", names));
  }

  /** The labels file next to an IDX images file. */
  static Path labelsFileFor(Path images) {
    String name = images.getFileName().toString();
    String labelsName;
    if (name.contains("images-idx3")) {
      labelsName = name.replace("images-idx3", "labels-idx1");
    } else if (name.contains("images.idx3")) {
      labelsName = name.replace("images.idx3", "labels.idx1");
    } else {
      throw new IllegalArgumentException("cannot find the labels for IDX images " + images
          + ": the file name should contain 'images-idx3' (its labels file then has"
          + " 'labels-idx1' in its place)");
    }
    Path labels = images.resolveSibling(labelsName);
    if (Files.isRegularFile(labels)) {
      return labels;
    }
    Path alt = images.resolveSibling(labelsName.endsWith(".gz")
        ? labelsName.substring(0, labelsName.length() - 3) : labelsName + ".gz");
    if (Files.isRegularFile(alt)) {
      return alt;
    }
    throw new IllegalArgumentException("labels file " + labels + " for IDX images " + images
        + " not found");
  }

  private static void readFully(DataInputStream in, byte[] buf, Path file, String what)
      throws IOException {
    try {
      in.readFully(buf);
    } catch (EOFException e) {
      throw new IllegalArgumentException(file + " is truncated: it ends inside " + what, e);
    }
  }

  // ------------------------------------------------------------------------------- shared

  private static void requireFile(Path path) {
    if (!Files.exists(path)) {
      throw new IllegalArgumentException("file not found: " + path);
    }
    if (!Files.isRegularFile(path)) {
      throw new IllegalArgumentException(path + " is not a regular file");
    }
  }

  /** Opens a file, decompressing it if it starts with the gzip magic bytes. */
  static InputStream open(Path path) throws IOException {
    BufferedInputStream in = new BufferedInputStream(Files.newInputStream(path), BUFFER);
    try {
      if (isGzip(in)) {
        return new BufferedInputStream(new GZIPInputStream(in, BUFFER), BUFFER);
      }
      if (path.getFileName().toString().endsWith(".gz")) {
        throw new IllegalArgumentException(path + " has a .gz name but is not gzip-compressed");
      }
      return in;
    } catch (IOException | RuntimeException e) {
      in.close();
      throw e;
    }
  }

  /** Wraps a stream in a buffer, and in a gzip decoder if it starts with 1f 8b. */
  static InputStream maybeGunzip(InputStream raw) throws IOException {
    BufferedInputStream in = raw instanceof BufferedInputStream b ? b
        : new BufferedInputStream(raw, BUFFER);
    return isGzip(in) ? new BufferedInputStream(new GZIPInputStream(in, BUFFER), BUFFER) : in;
  }

  /** Whether the stream starts with the gzip magic bytes 1f 8b; consumes nothing. */
  private static boolean isGzip(BufferedInputStream in) throws IOException {
    in.mark(2);
    int b0 = in.read();
    int b1 = in.read();
    in.reset();
    return b0 == 0x1f && b1 == 0x8b;
  }

  private static BufferedReader reader(InputStream stream, String source) throws IOException {
    Objects.requireNonNull(source, "source");
    return new BufferedReader(
        new InputStreamReader(maybeGunzip(stream), StandardCharsets.UTF_8), BUFFER);
  }

  private static float parseFloat(String text, String source, int line, String what) {
    String t = text.strip();
    float v;
    try {
      if (t.isEmpty() || !isPlainNumber(t)) {
        throw new NumberFormatException(t);
      }
      v = Float.parseFloat(t);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(source + " line " + line + ": bad number '" + text
          + "' (" + what + ")", e);
    }
    if (!Float.isFinite(v)) {
      throw new IllegalArgumentException(source + " line " + line + ": " + what + " '" + text
          + "' is not a finite float32 value");
    }
    return v;
  }

  /** Rejects what Java's parser accepts beyond decimal numbers: NaN, hex, 'f'/'d' suffixes. */
  private static boolean isPlainNumber(String t) {
    for (int i = 0; i < t.length(); i++) {
      char c = t.charAt(i);
      if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e'
          || c == 'E')) {
        return false;
      }
    }
    return true;
  }

  private static double parseLabel(String text, String source, int line) {
    double v = Double.parseDouble(text.strip()); // already validated by parseFloat
    if (v != Math.rint(v) || Math.abs(v) > MAX_LABEL) {
      throw new IllegalArgumentException(source + " line " + line + ": class label '"
          + text.strip() + "' is not an integer (load the data as regression for real-valued"
          + " targets)");
    }
    return v;
  }

  private static Dataset build(int n, int d, float[] features, DoubleList raw,
      boolean regression) {
    float[] targets = new float[n];
    if (regression) {
      for (int i = 0; i < n; i++) {
        targets[i] = (float) raw.get(i);
      }
      return new Dataset(n, d, features, targets, 0);
    }
    double[] distinct = Arrays.stream(raw.toArray()).sorted().distinct().toArray();
    for (int i = 0; i < n; i++) {
      targets[i] = Arrays.binarySearch(distinct, raw.get(i));
    }
    return new Dataset(n, d, features, targets, Math.max(2, distinct.length));
  }

  /** A growable float array. */
  private static final class FloatList {
    private float[] a = new float[1024];
    private int size;

    void add(float v) {
      if (size == a.length) {
        a = Arrays.copyOf(a, Math.max(16, (int) Math.min(Integer.MAX_VALUE - 8, 2L * size)));
      }
      a[size++] = v;
    }

    float get(int i) {
      return a[i];
    }

    float[] toArray() {
      return Arrays.copyOf(a, size);
    }
  }

  /** A growable double array. */
  private static final class DoubleList {
    private double[] a = new double[1024];
    private int size;

    void add(double v) {
      if (size == a.length) {
        a = Arrays.copyOf(a, Math.max(16, (int) Math.min(Integer.MAX_VALUE - 8, 2L * size)));
      }
      a[size++] = v;
    }

    double get(int i) {
      return a[i];
    }

    int size() {
      return size;
    }

    double[] toArray() {
      return Arrays.copyOf(a, size);
    }
  }

  /** A growable int array. */
  private static final class IntList {
    private int[] a = new int[1024];
    private int size;

    void add(int v) {
      if (size == a.length) {
        a = Arrays.copyOf(a, Math.max(16, (int) Math.min(Integer.MAX_VALUE - 8, 2L * size)));
      }
      a[size++] = v;
    }

    int get(int i) {
      return a[i];
    }

    int size() {
      return size;
    }
  }
}
