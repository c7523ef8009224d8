package io.parasol.worker.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.parasol.worker.data.DatasetLoader.LoadOptions;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetLoaderTest {

  @TempDir Path dir;

  private static Path resource(String name) throws URISyntaxException {
    return Path.of(DatasetLoaderTest.class.getResource("/data/" + name).toURI());
  }

  private Path write(String name, String text) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, text, StandardCharsets.UTF_8);
    return p;
  }

  private Path writeGzip(String name, byte[] bytes) throws IOException {
    Path p = dir.resolve(name);
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(p))) {
      out.write(bytes);
    }
    return p;
  }

  @Test
  void csv_headerAndLabelColumnInMiddle_readsFeaturesAndIndexesLabels() throws Exception {
    Dataset d = DatasetLoader.load(resource("small.csv"), DataFormat.CSV,
        new LoadOptions(1, true, false, 0));

    assertThat(d.numExamples()).isEqualTo(4);
    assertThat(d.numFeatures()).isEqualTo(2);
    assertThat(d.features()).containsExactly(1.5f, 0.25f, 2.0f, -1.5f, 0.5f, 7f, 4f, 0.1f);
    // labels {1, 2, 3} are sorted and indexed
    assertThat(d.targets()).containsExactly(2f, 0f, 2f, 1f);
    assertThat(d.numClasses()).isEqualTo(3);
  }

  @Test
  void csv_minusOnePlusOneLabels_mapToZeroAndOne() throws Exception {
    Path p = write("pm.csv", "0.5,1,-1\n0.25,2,+1\n1,1,1\n");

    Dataset d = DatasetLoader.load(p, DataFormat.CSV, LoadOptions.defaults());

    assertThat(d.targets()).containsExactly(0f, 1f, 1f);
    assertThat(d.numClasses()).isEqualTo(2);
    assertThat(d.numFeatures()).isEqualTo(2);
  }

  @Test
  void csv_zeroBasedLabels_keepValues() throws Exception {
    Path p = write("zb.csv", "1,2\n1,0\n1,1\n3,2\n");

    Dataset d = DatasetLoader.load(p, DataFormat.CSV, LoadOptions.defaults());

    assertThat(d.targets()).containsExactly(2f, 0f, 1f, 2f);
    assertThat(d.numClasses()).isEqualTo(3);
  }

  @Test
  void csv_singleClass_hasTwoClasses() throws Exception {
    Path p = write("one.csv", "1,0\n2,0\n");

    assertThat(DatasetLoader.load(p, DataFormat.CSV, LoadOptions.defaults()).numClasses())
        .isEqualTo(2);
  }

  @Test
  void csv_regression_keepsRealTargets() throws Exception {
    Path p = write("reg.csv", "1,2.5\n3,-0.75\n");

    Dataset d = DatasetLoader.load(p, DataFormat.CSV, new LoadOptions(-1, false, true, 0));

    assertThat(d.targets()).containsExactly(2.5f, -0.75f);
    assertThat(d.numClasses()).isZero();
    assertThat(d.isClassification()).isFalse();
  }

  @Test
  void csv_gzipped_isDetectedByNameAndByMagic() throws Exception {
    byte[] text = "1,2,0\n3,4,1\n".getBytes(StandardCharsets.UTF_8);
    Path named = writeGzip("g.csv.gz", text);
    Path unnamed = writeGzip("g.csv", text);

    for (Path p : new Path[] {named, unnamed}) {
      Dataset d = DatasetLoader.load(p, DataFormat.CSV, LoadOptions.defaults());
      assertThat(d.features()).containsExactly(1f, 2f, 3f, 4f);
      assertThat(d.targets()).containsExactly(0f, 1f);
    }
  }

  @Test
  void csv_badNumber_messageNamesFileAndLine() throws Exception {
    Path p = write("bad.csv", "a,b,label\n1,2,0\n3,x4,1\n");

    assertThatThrownBy(() -> DatasetLoader.load(p, DataFormat.CSV,
        new LoadOptions(-1, true, false, 0)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bad.csv line 3")
        .hasMessageContaining("'x4'")
        .hasMessageContaining("column 1");
  }

  @Test
  void csv_raggedRow_messageNamesLineAndCounts() throws Exception {
    Path p = write("ragged.csv", "1,2,0\n3,4,1\n5,1\n");

    assertThatThrownBy(() -> DatasetLoader.load(p, DataFormat.CSV, LoadOptions.defaults()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ragged.csv line 3")
        .hasMessageContaining("found 2 columns, expected 3");
  }

  @Test
  void csv_fractionalClassLabel_isRejected() throws Exception {
    Path p = write("frac.csv", "1,0\n2,0.5\n");

    assertThatThrownBy(() -> DatasetLoader.load(p, DataFormat.CSV, LoadOptions.defaults()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("frac.csv line 2")
        .hasMessageContaining("not an integer");
  }

  @Test
  void csv_nanValue_isRejected() throws Exception {
    Path p = write("nan.csv", "1,0\nNaN,1\n");

    assertThatThrownBy(() -> DatasetLoader.load(p, DataFormat.CSV, LoadOptions.defaults()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("nan.csv line 2");
  }

  @Test
  void csv_labelColumnOutOfRange_isRejected() throws Exception {
    Path p = write("lc.csv", "1,2,0\n");

    assertThatThrownBy(() -> DatasetLoader.load(p, DataFormat.CSV,
        new LoadOptions(5, false, false, 0)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("label column 5")
        .hasMessageContaining("3 columns");
  }

  @Test
  void csv_onlyHeader_isRejected() throws Exception {
    Path p = write("empty.csv", "a,b\n\n");

    assertThatThrownBy(() -> DatasetLoader.load(p, DataFormat.CSV,
        new LoadOptions(-1, true, false, 0)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no data lines");
  }

  @Test
  void load_missingFile_isRejected() {
    Path p = dir.resolve("nope.csv");

    assertThatThrownBy(() -> DatasetLoader.load(p, DataFormat.CSV, LoadOptions.defaults()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("file not found")
        .hasMessageContaining("nope.csv");
  }

  @Test
  void libsvm_fixture_readsSparseRowsDenseWithComments() throws Exception {
    Dataset d = DatasetLoader.load(resource("small.libsvm"), DataFormat.LIBSVM,
        LoadOptions.defaults());

    assertThat(d.numExamples()).isEqualTo(4);
    assertThat(d.numFeatures()).isEqualTo(4);
    assertThat(d.features()).containsExactly(
        0.5f, 0f, 2f, 0f,
        0f, 1.5f, 0f, 0f,
        0f, 0f, -1f, 4.25f,
        0f, 0f, 0f, 0f);
    assertThat(d.targets()).containsExactly(1f, 0f, 1f, 0f);
    assertThat(d.numClasses()).isEqualTo(2);
  }

  @Test
  void libsvm_roundTrip_equalsDenseData() throws Exception {
    Random r = new Random(7);
    int n = 50;
    int dim = 12;
    float[] x = new float[n * dim];
    float[] y = new float[n];
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      y[i] = r.nextInt(3);
      sb.append((int) y[i]);
      for (int j = 0; j < dim; j++) {
        if (r.nextDouble() < 0.3) {
          float v = (r.nextInt(2000) - 1000) / 8f;
          x[i * dim + j] = v;
          sb.append(' ').append(j + 1).append(':').append(v);
        }
      }
      sb.append('\n');
    }
    Path p = write("rt.libsvm", sb.toString());

    Dataset d = DatasetLoader.load(p, DataFormat.LIBSVM, new LoadOptions(-1, false, false, dim));

    assertThat(d.numFeatures()).isEqualTo(dim);
    assertThat(d.features()).containsExactly(x);
    assertThat(d.targets()).containsExactly(y);
    assertThat(d.numClasses()).isEqualTo(3);
  }

  @Test
  void libsvm_indexBeyondDeclaredFeatures_isRejected() throws Exception {
    Path p = write("big.libsvm", "1 1:1\n0 7:2\n");

    assertThatThrownBy(() -> DatasetLoader.load(p, DataFormat.LIBSVM,
        new LoadOptions(-1, false, false, 5)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("big.libsvm line 2")
        .hasMessageContaining("index 7");
  }

  @Test
  void libsvm_zeroIndexOrBadToken_isRejected() throws Exception {
    Path zero = write("zero.libsvm", "1 0:1\n");
    Path bad = write("tok.libsvm", "1 1:2\n0 3-4\n");

    assertThatThrownBy(() -> DatasetLoader.load(zero, DataFormat.LIBSVM, LoadOptions.defaults()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("zero.libsvm line 1")
        .hasMessageContaining("1-based");
    assertThatThrownBy(() -> DatasetLoader.load(bad, DataFormat.LIBSVM, LoadOptions.defaults()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("tok.libsvm line 2")
        .hasMessageContaining("'3-4'");
  }

  @Test
  void libsvm_duplicateIndex_isRejected() throws Exception {
    Path p = write("dup.libsvm", "1 1:1\n\n0 2:1 2:3\n");

    assertThatThrownBy(() -> DatasetLoader.load(p, DataFormat.LIBSVM, LoadOptions.defaults()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("dup.libsvm line 3")
        .hasMessageContaining("appears twice");
  }

  // ------------------------------------------------------------------------------------ IDX

  private static final int N = 5;
  private static final int ROWS = 3;
  private static final int COLS = 2;

  private static byte[] idxImages(int magic, int n) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    out.writeInt(magic);
    out.writeInt(n);
    out.writeInt(ROWS);
    out.writeInt(COLS);
    for (int i = 0; i < n * ROWS * COLS; i++) {
      out.writeByte((i * 37) & 0xFF); // includes values >= 128 (negative as signed bytes)
    }
    return bytes.toByteArray();
  }

  private static byte[] idxLabels(int n) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    out.writeInt(0x00000801);
    out.writeInt(n);
    for (int i = 0; i < n; i++) {
      out.writeByte(i % 3);
    }
    return bytes.toByteArray();
  }

  private static void assertIdxData(Dataset d) {
    assertThat(d.numExamples()).isEqualTo(N);
    assertThat(d.numFeatures()).isEqualTo(ROWS * COLS);
    for (int i = 0; i < N * ROWS * COLS; i++) {
      assertThat(d.features()[i]).isEqualTo((float) ((i * 37) & 0xFF));
    }
    assertThat(d.targets()).containsExactly(0f, 1f, 2f, 0f, 1f);
    assertThat(d.numClasses()).isEqualTo(3);
  }

  @Test
  void idx_raw_readsImagesAndLabelsNextToThem() throws Exception {
    Path images = dir.resolve("t10k-images-idx3-ubyte");
    Files.write(images, idxImages(0x00000803, N));
    Files.write(dir.resolve("t10k-labels-idx1-ubyte"), idxLabels(N));

    assertIdxData(DatasetLoader.load(images, DataFormat.IDX, LoadOptions.defaults()));
  }

  @Test
  void idx_gzipped_readsImagesAndLabels() throws Exception {
    Path images = writeGzip("train-images-idx3-ubyte.gz", idxImages(0x00000803, N));
    writeGzip("train-labels-idx1-ubyte.gz", idxLabels(N));

    assertIdxData(DatasetLoader.load(images, DataFormat.IDX, LoadOptions.defaults()));
  }

  @Test
  void idx_directory_loadsTrainPair() throws Exception {
    writeGzip("train-images-idx3-ubyte.gz", idxImages(0x00000803, N));
    writeGzip("train-labels-idx1-ubyte.gz", idxLabels(N));
    Files.write(dir.resolve("t10k-images-idx3-ubyte"), idxImages(0x00000803, 2));
    Files.write(dir.resolve("t10k-labels-idx1-ubyte"), idxLabels(2));

    assertIdxData(DatasetLoader.load(dir, DataFormat.IDX, LoadOptions.defaults()));
  }

  @Test
  void idx_wrongMagic_isRejected() throws Exception {
    Path images = dir.resolve("train-images-idx3-ubyte");
    Files.write(images, idxImages(0x00000801, N));
    Files.write(dir.resolve("train-labels-idx1-ubyte"), idxLabels(N));

    assertThatThrownBy(() -> DatasetLoader.load(images, DataFormat.IDX, LoadOptions.defaults()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("train-images-idx3-ubyte")
        .hasMessageContaining("0x00000801")
        .hasMessageContaining("0x00000803");
  }

  @Test
  void idx_countMismatch_isRejected() throws Exception {
    Path images = dir.resolve("train-images-idx3-ubyte");
    Files.write(images, idxImages(0x00000803, N));
    Files.write(dir.resolve("train-labels-idx1-ubyte"), idxLabels(N - 1));

    assertThatThrownBy(() -> DatasetLoader.load(images, DataFormat.IDX, LoadOptions.defaults()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("holds 4 labels")
        .hasMessageContaining("holds 5 images");
  }

  @Test
  void idx_truncatedImages_isRejected() throws Exception {
    byte[] full = idxImages(0x00000803, N);
    Path images = dir.resolve("train-images-idx3-ubyte");
    Files.write(images, java.util.Arrays.copyOf(full, full.length - 3));
    Files.write(dir.resolve("train-labels-idx1-ubyte"), idxLabels(N));

    assertThatThrownBy(() -> DatasetLoader.load(images, DataFormat.IDX, LoadOptions.defaults()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("truncated");
  }

  @Test
  void idx_missingLabels_isRejected() throws Exception {
    Path images = dir.resolve("train-images-idx3-ubyte");
    Files.write(images, idxImages(0x00000803, N));

    assertThatThrownBy(() -> DatasetLoader.load(images, DataFormat.IDX, LoadOptions.defaults()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("train-labels-idx1-ubyte")
        .hasMessageContaining("not found");
  }

  @Test
  void idx_directoryWithoutImages_isRejected() {
    assertThatThrownBy(() -> DatasetLoader.load(dir, DataFormat.IDX, LoadOptions.defaults()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("train-images-idx3-ubyte");
  }

  @Test
  void dataFormat_parse_acceptsNamesAndListsThemOnError() {
    assertThat(DataFormat.parse(" LibSVM ")).isEqualTo(DataFormat.LIBSVM);
    assertThat(DataFormat.parse("csv")).isEqualTo(DataFormat.CSV);
    assertThat(DataFormat.parse("idx")).isEqualTo(DataFormat.IDX);
    assertThatThrownBy(() -> DataFormat.parse("parquet"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("unknown data format 'parquet'; expected one of csv, libsvm, idx");
  }

  @Test
  void loadOptions_invalidValues_areRejected() {
    assertThatThrownBy(() -> new LoadOptions(-2, false, false, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("label column");
    assertThatThrownBy(() -> new LoadOptions(-1, false, false, -1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("number of features");
  }

  @Test
  void trainingData_idxDirectoryWithT10k_usesTheOfficialTestSet() throws Exception {
    Files.write(dir.resolve("train-images-idx3-ubyte"), idxImages(0x00000803, N));
    Files.write(dir.resolve("train-labels-idx1-ubyte"), idxLabels(N));
    Files.write(dir.resolve("t10k-images-idx3-ubyte"), idxImages(0x00000803, 3));
    Files.write(dir.resolve("t10k-labels-idx1-ubyte"), idxLabels(3));
    io.parasol.worker.train.TrainingData data = io.parasol.worker.train.TrainingData.load(
        dir.toString(), null, -1, false, false, 0.2, Scaling.parse("none"), 1);
    assertThat(data.train().numExamples()).isEqualTo(N);
    assertThat(data.test().numExamples()).isEqualTo(3);
    assertThat(data.test().targets()).containsExactly(0f, 1f, 2f);
  }

  @Test
  void trainingData_idxDirectoryWithoutT10k_splitsTheTrainingSet() throws Exception {
    Files.write(dir.resolve("train-images-idx3-ubyte"), idxImages(0x00000803, N));
    Files.write(dir.resolve("train-labels-idx1-ubyte"), idxLabels(N));
    io.parasol.worker.train.TrainingData data = io.parasol.worker.train.TrainingData.load(
        dir.toString(), DataFormat.IDX, -1, false, false, 0.4, Scaling.parse("none"), 1);
    assertThat(data.train().numExamples() + data.test().numExamples()).isEqualTo(N);
    assertThat(data.test().numExamples()).isEqualTo(2);
  }

  @Test
  void detect_recognisesIdxCsvAndLibsvm() throws Exception {
    Files.write(dir.resolve("train-images-idx3-ubyte"), idxImages(0x00000803, N));
    assertThat(DataFormat.detect(dir)).isEqualTo(DataFormat.IDX);
    Path csv = dir.resolve("a.csv");
    Files.writeString(csv, "1,2,0\n");
    assertThat(DataFormat.detect(csv)).isEqualTo(DataFormat.CSV);
    Path svm = dir.resolve("heart_scale");
    Files.writeString(svm, "+1 1:0.708333 2:1 3:1\n-1 1:0.583333 2:-1\n");
    assertThat(DataFormat.detect(svm)).isEqualTo(DataFormat.LIBSVM);
    Path plain = dir.resolve("data.txt");
    Files.writeString(plain, "0.5,1.5,1\n");
    assertThat(DataFormat.detect(plain)).isEqualTo(DataFormat.CSV);
  }

  @Test
  void detect_directoryWithoutIdx_namesTheFix(@TempDir Path empty) {
    assertThatThrownBy(() -> DataFormat.detect(empty))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--format");
  }
}
