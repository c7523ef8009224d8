package io.parasol.experiments.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.CategorySeries.CategorySeriesRenderStyle;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler.LegendPosition;

class PlotTest {

  @TempDir Path dir;

  private static double[] range(int n) {
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = i;
    }
    return x;
  }

  private static BufferedImage readBack(Path file) throws IOException {
    assertThat(file).exists();
    BufferedImage image = ImageIO.read(file.toFile());
    assertThat(image).as("a PNG").isNotNull();
    return image;
  }

  private static long count(BufferedImage image, Color c) {
    long n = 0;
    for (int y = 0; y < image.getHeight(); y++) {
      for (int x = 0; x < image.getWidth(); x++) {
        if ((image.getRGB(x, y) & 0xFFFFFF) == (c.getRGB() & 0xFFFFFF)) {
          n++;
        }
      }
    }
    return n;
  }

  @Test
  void line_writesPngOfTheSizeWithItsSeriesInPaletteColours() throws IOException {
    Path file = dir.resolve("sub/loss.png");
    double[] x = range(100);
    double[] a = new double[100];
    double[] b = new double[100];
    for (int i = 0; i < 100; i++) {
      a[i] = 1.0 / (i + 1);
      b[i] = 0.5 + 0.5 / (i + 1);
    }
    Plot plot = Plot.line("Training loss", "step", "loss")
        .series("sync", x, a)
        .series("async", x, b)
        .hline("optimum", 0.12);

    plot.writePng(file, 640, 400);

    BufferedImage image = readBack(file);
    assertThat(image.getWidth()).isEqualTo(640);
    assertThat(image.getHeight()).isEqualTo(400);
    assertThat(count(image, Plot.PALETTE[0])).as("sync's blue").isGreaterThan(50);
    assertThat(count(image, Plot.PALETTE[1])).as("async's vermillion").isGreaterThan(50);
    XYChart chart = (XYChart) plot.chart(640, 400);
    assertThat(chart.getSeriesCollection()).extracting(XYSeries::getName)
        .containsExactly("sync", "async", "optimum");
    assertThat(chart.getTitle()).isEqualTo("Training loss");
    assertThat(chart.getXAxisTitle()).isEqualTo("step");
    assertThat(chart.getStyler().getLegendPosition()).isEqualTo(LegendPosition.OutsideE);
    XYSeries ref = chart.getSeries("optimum");
    assertThat(ref.getXData()).containsExactly(0, 99);
    assertThat(ref.getYData()).containsExactly(0.12, 0.12);
  }

  @Test
  void logY_leavesOutNonPositiveAndNonFinitePoints() {
    XYChart chart = (XYChart) Plot.line("log", "x", "y").logY(true)
        .series("s", range(5), new double[] {1, 0, -2, Double.NaN, 100})
        .hline("never", -1)
        .chart(300, 200);

    assertThat(chart.getStyler().isYAxisLogarithmic()).isTrue();
    assertThat(chart.getSeries("s").getXData()).containsExactly(0, 4);
    assertThat(chart.getSeries("s").getYData()).containsExactly(1, 100);
    assertThat(chart.getSeries("never")).isNull();
  }

  @Test
  void bars_categoriesAreTheXValuesAndCurvesAreLines() throws IOException {
    Plot plot = Plot.bars("Staleness", "tau", "updates")
        .series("measured", range(4), new double[] {40, 30, 20, 10})
        .curve("geometric law, m = 2", range(4), new double[] {50, 25, 12.5, 6.25});

    CategoryChart chart = (CategoryChart) plot.chart(500, 300);

    CategorySeries measured = chart.getSeries("measured");
    assertThat(List.<Object>copyOf(measured.getXData())).containsExactly("0", "1", "2", "3");
    assertThat(measured.getYData()).containsExactly(40.0, 30.0, 20.0, 10.0);
    assertThat(measured.getChartCategorySeriesRenderStyle()).isEmpty(); // the chart's: bars
    assertThat(chart.getSeries("geometric law, m = 2").getChartCategorySeriesRenderStyle())
        .hasValue(CategorySeriesRenderStyle.Line);
    assertThat(chart.getStyler().isOverlapped()).as("curve points on the bars' centres").isTrue();
    Path file = dir.resolve("bars.png");
    plot.writePng(file, 500, 300);
    assertThat(count(readBack(file), Plot.PALETTE[0])).as("blue bars").isGreaterThan(1000);
  }

  @Test
  void bars_seriesOverDifferentCategories_fillMissingBarsWithZero() {
    CategoryChart chart = (CategoryChart) Plot.bars("b", "m", "ms")
        .series("a", new double[] {1, 2}, new double[] {3, 4})
        .series("b", new double[] {2, 8}, new double[] {5, 6})
        .chart(300, 200);

    assertThat(List.<Object>copyOf(chart.getSeries("a").getXData())).containsExactly("1", "2", "8");
    assertThat(chart.getSeries("a").getYData()).containsExactly(3.0, 4.0, 0.0);
    assertThat(chart.getSeries("b").getYData()).containsExactly(0.0, 5.0, 6.0);
    assertThat(chart.getStyler().isOverlapped()).as("bars side by side").isFalse();
  }

  @Test
  void panels_stackIntoOneImage() throws IOException {
    Path file = dir.resolve("two.png");
    Plot top = Plot.line("loss", "s", "loss").series("train", range(3), new double[] {3, 2, 1});
    Plot bottom = Plot.line("accuracy", "s", "acc")
        .series("test", range(3), new double[] {0.5, 0.7, 0.9});

    Plot.writePng(file, 600, 300, List.of(top, bottom));

    BufferedImage image = readBack(file);
    assertThat(image.getWidth()).isEqualTo(600);
    assertThat(image.getHeight()).isEqualTo(600);
    long topBlue = 0;
    long bottomBlue = 0;
    int blue = Plot.PALETTE[0].getRGB() & 0xFFFFFF;
    for (int y = 0; y < 600; y++) {
      for (int x = 0; x < 600; x++) {
        if ((image.getRGB(x, y) & 0xFFFFFF) == blue) {
          if (y < 300) {
            topBlue++;
          } else {
            bottomBlue++;
          }
        }
      }
    }
    assertThat(topBlue).as("train loss line in the top panel").isGreaterThan(20);
    assertThat(bottomBlue).as("accuracy line in the bottom panel").isGreaterThan(20);
  }

  @Test
  void emptyPlot_stillWritesAnImage() throws IOException {
    Path file = dir.resolve("empty.png");
    Plot.line("", null, null).writePng(file, 200, 120);
    Plot.bars("nothing valid", "x", "y").logY(true)
        .series("a", range(2), new double[] {0, -1}).writePng(dir.resolve("b.png"), 200, 120);

    assertThat(readBack(file).getWidth()).isEqualTo(200);
    assertThat(readBack(dir.resolve("b.png")).getHeight()).isEqualTo(120);
  }

  @Test
  void tickLabels_haveAFewSignificantDigits() {
    XYChart narrow = (XYChart) Plot.line("t", "b", "loss")
        .series("s", new double[] {4, 64}, new double[] {0.178509403170399, 0.107873921931536})
        .chart(400, 300);
    XYChart log = (XYChart) Plot.line("t", "x", "y").logY(true)
        .series("s", range(2), new double[] {1e-5, 1}).chart(400, 300);

    assertThat(narrow.getStyler().getYAxisDecimalPattern()).isEqualTo("#,##0.####");
    assertThat(log.getStyler().getYAxisDecimalPattern()).isEqualTo("0.##E0");
    assertThat(log.getStyler().isYAxisLogarithmicDecadeOnly()).isFalse();
  }

  @Test
  void titleFont_shrinksUntilTheTitleFits() {
    String title = "A rather long title that could never fit into a narrow image at 15 points";
    assertThat(Plot.titleFont(title, 2000).getSize()).isEqualTo(15);
    assertThat(Plot.titleFont(title, 400).getSize()).isLessThan(15);
  }

  @Test
  void badInput_isRefused() {
    assertThatThrownBy(() -> Plot.line("t", "x", "y").series("s", new double[2], new double[3]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'s'");
    assertThatThrownBy(() -> Plot.line("t", "x", "y").series("s", range(2), range(2))
        .hline("s", 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Plot.line("t", "x", "y").writePng(dir.resolve("x.png"), 10, 10))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Plot.writePng(dir.resolve("y.png"), 300, 200, List.of()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(Files.exists(dir.resolve("x.png"))).isFalse();
  }
}
