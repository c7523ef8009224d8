package io.parasol.experiments.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvTest {

  @TempDir Path dir;

  @Test
  void writeObjects_thenRead_roundTripsHeaderQuotedStringsAndNan() throws IOException {
    Path file = dir.resolve("out/table.csv");
    Csv.writeObjects(
        file,
        List.of("name", "value, with comma", "note"),
        List.of(
            new Object[] {"plain", 1.5, "say \"hi\", twice"},
            new Object[] {"line\nbreak", Double.NaN, null},
            new Object[] {"", 3, "crlf\r\nhere"}));

    List<String[]> rows = Csv.read(file);

    assertThat(rows).hasSize(4);
    assertThat(rows.get(0)).containsExactly("name", "value, with comma", "note");
    assertThat(rows.get(1)).containsExactly("plain", "1.5", "say \"hi\", twice");
    assertThat(rows.get(2)).containsExactly("line\nbreak", "", "");
    assertThat(rows.get(3)).containsExactly("", "3", "crlf\r\nhere");
    assertThat(Files.readString(file, StandardCharsets.UTF_8))
        .startsWith("name,\"value, with comma\",note\nplain,1.5,\"say \"\"hi\"\", twice\"\n");
  }

  @Test
  void write_doublesUnderGermanLocale_rootFormatting() throws IOException {
    Path file = dir.resolve("numbers.csv");
    Locale saved = Locale.getDefault();
    Locale.setDefault(Locale.GERMANY);
    try {
      Csv.write(
          file,
          List.of("step", "loss"),
          List.of(new double[] {0, 0.5}, new double[] {1, Double.NaN}, new double[] {2, 1e-7}));
    } finally {
      Locale.setDefault(saved);
    }

    assertThat(Files.readString(file, StandardCharsets.UTF_8))
        .isEqualTo("step,loss\n0,0.5\n1,\n2,1.0E-7\n");
    List<String[]> rows = Csv.read(file);
    assertThat(rows.get(2)).containsExactly("1", "");
    assertThat(Double.parseDouble(rows.get(3)[1])).isEqualTo(1e-7);
  }

  @Test
  void read_crlfAndNoFinalNewline_parsesAllRows() throws IOException {
    Path file = dir.resolve("crlf.csv");
    Files.writeString(file, "a,b\r\n1,\"x\r\ny\"\r\n,\r\n2,3", StandardCharsets.UTF_8);

    List<String[]> rows = Csv.read(file);

    assertThat(rows).hasSize(4);
    assertThat(rows.get(1)).containsExactly("1", "x\r\ny");
    assertThat(rows.get(2)).containsExactly("", "");
    assertThat(rows.get(3)).containsExactly("2", "3");
  }

  @Test
  void read_unterminatedQuote_throws() throws IOException {
    Path file = dir.resolve("bad.csv");
    Files.writeString(file, "a,\"b\n", StandardCharsets.UTF_8);

    assertThatThrownBy(() -> Csv.read(file)).isInstanceOf(IOException.class);
  }

  @Test
  void write_rowLengthMismatch_throws() {
    assertThatThrownBy(
            () -> Csv.write(dir.resolve("x.csv"), List.of("a", "b"), List.of(new double[] {1})))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
