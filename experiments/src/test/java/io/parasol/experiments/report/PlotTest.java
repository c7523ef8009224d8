package io.parasol.experiments.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlotTest {

  @TempDir Path dir;

  @BeforeAll
  static void headless() {
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
  }

  private static double[] range(int n) {
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = i;
    }
    return x;
  }

  private static double[] decay(int n, double rate, double floor) {
    double[] y = new double[n];
    for (int i = 0; i < n; i++) {
      y[i] = floor + Math.exp(-rate * i);
    }
    return y;
  }

  private static BufferedImage readBack(Path file) throws IOException {
    BufferedImage image = ImageIO.read(file.toFile());
    assertThat(image).as("decodable PNG").isNotNull();
    return image;
  }

  private static int count(BufferedImage image, Color color) {
    int rgb = color.getRGB() & 0xFFFFFF;
    int n = 0;
    for (int y = 0; y < image.getHeight(); y++) {
      for (int x = 0; x < image.getWidth(); x++) {
        if ((image.getRGB(x, y) & 0xFFFFFF) == rgb) {
          n++;
        }
      }
    }
    return n;
  }

  private static boolean allWhite(BufferedImage image) {
    return count(image, Color.WHITE) == image.getWidth() * image.getHeight();
  }

  @Test
  void writePng_lineWithTwoSeriesAndHline_validPngWithSeriesColours() throws IOException {
    Path file = dir.resolve("loss.png");
    Plot.line("Training loss", "step", "loss")
        .series("sync", range(200), decay(200, 0.03, 0.1))
        .series("async", range(40), decay(40, 0.05, 0.15))
        .hline("optimum", 0.1)
        .writePng(file, 640, 400);

    BufferedImage image = readBack(file);
    assertThat(image.getWidth()).isEqualTo(640);
    assertThat(image.getHeight()).isEqualTo(400);
    assertThat(allWhite(image)).isFalse();
    assertThat(count(image, Plot.seriesColor(0))).isGreaterThan(50);
    assertThat(count(image, Plot.seriesColor(1))).isGreaterThan(50);
    assertThat(count(image, Plot.refLineColor(0))).isGreaterThan(0);
  }

  @Test
  void writePng_barsWithTwoSeries_validPngWithSeriesColours() throws IOException {
    Path file = dir.resolve("sub/bars.png");
    Plot.bars("Throughput", "workers", "updates/s")
        .series("sync", new double[] {1, 2, 4, 8}, new double[] {100, 180, 300, 420})
        .series("async", new double[] {1, 2, 4, 8}, new double[] {110, 210, 390, 700})
        .hline("ideal", 800)
        .writePng(file, 500, 350);

    BufferedImage image = readBack(file);
    assertThat(image.getWidth()).isEqualTo(500);
    assertThat(image.getHeight()).isEqualTo(350);
    assertThat(allWhite(image)).isFalse();
    assertThat(count(image, Plot.seriesColor(0))).isGreaterThan(500);
    assertThat(count(image, Plot.seriesColor(1))).isGreaterThan(500);
  }

  @Test
  void writePng_logYWithZerosAndNegatives_skipsThemWithoutThrowing() throws IOException {
    Path file = dir.resolve("log.png");
    Plot plot =
        Plot.line("log", "x", "y")
            .logY(true)
            .series("a", new double[] {0, 1, 2, 3, 4}, new double[] {1, 0, -3, 1e-4, 20})
            .hline("zero", 0)
            .hline("small", 1e-3);

    assertThatCode(() -> plot.writePng(file, 300, 200)).doesNotThrowAnyException();
    assertThat(count(readBack(file), Plot.seriesColor(0))).isGreaterThan(0);
  }

  @Test
  void writePng_logYBarsAllNonPositive_rendersWithoutThrowing() throws IOException {
    Path file = dir.resolve("logbars.png");
    Plot plot =
        Plot.bars("log bars", "k", "v").logY(true).series("a", range(3), new double[] {0, -1, 0});

    assertThatCode(() -> plot.writePng(file, 300, 200)).doesNotThrowAnyException();
    assertThat(allWhite(readBack(file))).isFalse();
  }

  @Test
  void writePng_nanAndInfinitePoints_skipsThemWithoutThrowing() throws IOException {
    Path file = dir.resolve("nan.png");
    double[] y = {1, Double.NaN, 3, Double.POSITIVE_INFINITY, 2, 4, Double.NEGATIVE_INFINITY};
    double[] x = {0, 1, 2, 3, Double.NaN, 5, 6};
    Plot plot =
        Plot.line("gaps", "x", "y")
            .series("a", x, y)
            .series("all NaN", new double[] {Double.NaN}, new double[] {Double.NaN})
            .hline("nan", Double.NaN);

    assertThatCode(() -> plot.writePng(file, 300, 200)).doesNotThrowAnyException();
    assertThat(count(readBack(file), Plot.seriesColor(0))).isGreaterThan(0);
    assertThatCode(() -> Plot.bars("b", "x", "y").series("a", x, y).writePng(file, 300, 200))
        .doesNotThrowAnyException();
  }

  @Test
  void writePng_noSeries_rendersAxes() throws IOException {
    Path file = dir.resolve("empty.png");
    Plot.line("", null, null).writePng(file, 200, 120);

    BufferedImage image = readBack(file);
    assertThat(image.getWidth()).isEqualTo(200);
    assertThat(allWhite(image)).isFalse();
  }

  @Test
  void writePng_sameInput_identicalBytes() throws IOException {
    Path a = dir.resolve("a.png");
    Path b = dir.resolve("b.png");
    for (Path file : new Path[] {a, b}) {
      Plot.line("t", "x", "y")
          .series("s", range(30), decay(30, 0.1, 0))
          .hline("h", 0.5)
          .writePng(file, 320, 240);
    }

    assertThat(Files.readAllBytes(a)).isEqualTo(Files.readAllBytes(b));
  }

  @Test
  void writePng_manySeries_cyclesPaletteWithoutThrowing() throws IOException {
    Plot plot = Plot.line("many", "x", "y");
    for (int k = 0; k < 12; k++) {
      plot.series("series " + k, range(10), decay(10, 0.1 * (k + 1), 0));
    }

    assertThatCode(() -> plot.writePng(dir.resolve("many.png"), 400, 300))
        .doesNotThrowAnyException();
  }

  @Test
  void series_mismatchedLengths_throws() {
    assertThatThrownBy(() -> Plot.line("t", "x", "y").series("s", new double[2], new double[3]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'s'");
  }

  @Test
  void series_arrayChangedAfterAdding_plotUnchanged() throws IOException {
    double[] y = decay(20, 0.2, 0);
    Plot plot = Plot.line("t", "x", "y").series("s", range(20), y);
    BufferedImage before = plot.render(200, 150);
    y[3] = 100;

    assertThat(count(plot.render(200, 150), Plot.seriesColor(0)))
        .isEqualTo(count(before, Plot.seriesColor(0)));
  }

  @Test
  void writePng_tooSmall_throws() {
    assertThatThrownBy(() -> Plot.line("t", "x", "y").writePng(dir.resolve("x.png"), 10, 10))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
