package io.parasol.experiments.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.TreeSet;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.CategorySeries.CategorySeriesRenderStyle;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.AxesChart;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.internal.series.MarkerSeries;
import org.knowm.xchart.style.AxesChartStyler;
import org.knowm.xchart.style.Styler.LegendLayout;
import org.knowm.xchart.style.Styler.LegendPosition;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * A line or grouped-bar chart written as PNG, drawn by XChart.
 *
 * <pre>{@code
 * Plot.line("Training loss", "step", "loss")
 *     .series("sync", steps, syncLoss)
 *     .series("async", steps, asyncLoss)
 *     .hline("optimum", 0.12)
 *     .logY(true)
 *     .writePng(Path.of("loss.png"), 800, 500);
 * }</pre>
 *
 * <p>Line series get markers when they have fewer than {@value #MARKER_LIMIT} points. Bar plots
 * take {@code x} as categories (labelled with the numbers, such as τ = 0..K): the bars of several
 * series stand side by side, and a {@link #curve} is drawn as a line over them. Points with a
 * non-finite coordinate (or, on a log axis, a non-positive {@code y}) are left out. Series take
 * their colours, in order, from the colour-blind-safe Okabe–Ito palette; reference lines are
 * dashed. The legend sits outside the plot area, right of it, so no entry covers data and no
 * entry is cut; a title wider than the image is set in a smaller font until it fits.
 * {@link #writePng(Path, int, int, List)} stacks several plots into one image.
 *
 * <p>Instances are mutable and not thread-safe; the arrays passed in are copied. Loading this
 * class sets {@code java.awt.headless=true} unless that property is already set.
 */
public final class Plot {
  static {
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
  }

  /** Line series with fewer points than this get markers. */
  static final int MARKER_LIMIT = 60;
  /** Smallest accepted image width. */
  static final int MIN_WIDTH = 100;
  /** Smallest accepted image height. */
  static final int MIN_HEIGHT = 80;

  /** Okabe–Ito colours in the order series use them (yellow last: low contrast). */
  static final Color[] PALETTE = {
    new Color(0x0072B2), // blue
    new Color(0xD55E00), // vermillion
    new Color(0x009E73), // bluish green
    new Color(0xE69F00), // orange
    new Color(0xCC79A7), // reddish purple
    new Color(0x56B4E9), // sky blue
    new Color(0x000000), // black
    new Color(0xF0E442), // yellow
  };

  private static final int TITLE_SIZE = 15;
  private static final int MIN_TITLE_SIZE = 9;

  private enum Kind {
    LINE,
    BARS
  }

  private enum Style {
    SERIES,
    CURVE,
    REFERENCE
  }

  private record Series(String name, double[] x, double[] y, Style style) {}

  private final Kind kind;
  private final String title;
  private final String xLabel;
  private final String yLabel;
  private final List<Series> series = new ArrayList<>();
  private boolean logY;

  private Plot(Kind kind, String title, String xLabel, String yLabel) {
    this.kind = kind;
    this.title = title == null ? "" : title;
    this.xLabel = xLabel == null ? "" : xLabel;
    this.yLabel = yLabel == null ? "" : yLabel;
  }

  /** A line plot; {@code null} labels are treated as empty. */
  public static Plot line(String title, String xLabel, String yLabel) {
    return new Plot(Kind.LINE, title, xLabel, yLabel);
  }

  /** A grouped bar plot; {@code null} labels are treated as empty. */
  public static Plot bars(String title, String xLabel, String yLabel) {
    return new Plot(Kind.BARS, title, xLabel, yLabel);
  }

  /**
   * Adds a named series (copies the arrays): a line on a line plot, bars on a bar plot.
   *
   * @throws IllegalArgumentException if {@code x} and {@code y} differ in length, or the name
   *     is already taken
   */
  public Plot series(String name, double[] x, double[] y) {
    return add(name, x, y, Style.SERIES);
  }

  /**
   * Adds a named series drawn as a line with markers on either kind of plot (on a bar plot, over
   * the bars: for example a law the bars should follow).
   *
   * @throws IllegalArgumentException as {@link #series}
   */
  public Plot curve(String name, double[] x, double[] y) {
    return add(name, x, y, Style.CURVE);
  }

  /** Whether the y axis is log10; non-positive values are then left out. */
  public Plot logY(boolean on) {
    this.logY = on;
    return this;
  }

  /**
   * Adds a dashed horizontal reference line at {@code y} labelled {@code name} (for example a
   * theoretical prediction) across the x range of the series. A non-finite {@code y}, or a
   * non-positive one on a log axis, is not drawn.
   */
  public Plot hline(String name, double y) {
    Objects.requireNonNull(name, "name");
    requireNewName(name);
    series.add(new Series(name, new double[0], new double[] {y}, Style.REFERENCE));
    return this;
  }

  /**
   * Renders the plot and writes it as a PNG file, creating parent directories as needed.
   *
   * @throws IllegalArgumentException if the size is below {@value #MIN_WIDTH} x {@value
   *     #MIN_HEIGHT}
   */
  public void writePng(Path file, int width, int height) throws IOException {
    Objects.requireNonNull(file, "file");
    write(file, BitmapEncoder.getBufferedImage(chart(width, height)));
  }

  /**
   * Writes {@code panels} stacked top to bottom into one PNG of {@code width} x {@code
   * panelHeight} times the number of panels.
   *
   * @throws IllegalArgumentException if there are no panels or a panel's size is too small
   */
  public static void writePng(Path file, int width, int panelHeight, List<Plot> panels)
      throws IOException {
    Objects.requireNonNull(file, "file");
    if (panels.isEmpty()) {
      throw new IllegalArgumentException("no panels");
    }
    BufferedImage image =
        new BufferedImage(width, panelHeight * panels.size(), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      for (int i = 0; i < panels.size(); i++) {
        g.drawImage(
            BitmapEncoder.getBufferedImage(panels.get(i).chart(width, panelHeight)),
            0, i * panelHeight, null);
      }
    } finally {
      g.dispose();
    }
    write(file, image);
  }

  /** The XChart chart of this plot at the given size. */
  Chart<? extends AxesChartStyler, ?> chart(int width, int height) {
    if (width < MIN_WIDTH || height < MIN_HEIGHT) {
      throw new IllegalArgumentException(
          "image must be at least " + MIN_WIDTH + "x" + MIN_HEIGHT + ": " + width + "x" + height);
    }
    Chart<? extends AxesChartStyler, ?> chart =
        kind == Kind.LINE ? lineChart(width, height) : barChart(width, height);
    if (chart.getSeriesCollection().isEmpty()) {
      // Nothing to draw: a log axis over no data has no range.
      chart.getStyler().setYAxisLogarithmic(false);
      chart.getStyler().setLegendVisible(false);
    }
    return chart;
  }

  private Plot add(String name, double[] x, double[] y, Style style) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(x, "x");
    Objects.requireNonNull(y, "y");
    if (x.length != y.length) {
      throw new IllegalArgumentException(
          "series '" + name + "': x has " + x.length + " values but y has " + y.length);
    }
    requireNewName(name);
    series.add(new Series(name, x.clone(), y.clone(), style));
    return this;
  }

  private void requireNewName(String name) {
    if (series.stream().anyMatch(s -> s.name().equals(name))) {
      throw new IllegalArgumentException("a series is already called '" + name + "'");
    }
  }

  private boolean valid(double x, double y) {
    return Double.isFinite(x) && Double.isFinite(y) && (!logY || y > 0);
  }

  private XYChart lineChart(int width, int height) {
    XYChart chart = new XYChart(width, height);
    style(chart, width);
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (Series s : series) {
      for (int i = 0; i < s.x().length; i++) {
        if (valid(s.x()[i], s.y()[i])) {
          lo = Math.min(lo, s.x()[i]);
          hi = Math.max(hi, s.x()[i]);
        }
      }
    }
    int color = 0;
    for (Series s : series) {
      XYSeries xy;
      if (s.style() == Style.REFERENCE) {
        double y = s.y()[0];
        if (lo > hi || !valid(lo, y)) {
          continue;
        }
        xy = chart.addSeries(s.name(), new double[] {lo, hi}, new double[] {y, y});
      } else {
        double[][] points = validPoints(s);
        if (points[0].length == 0) {
          continue;
        }
        xy = chart.addSeries(s.name(), points[0], points[1]);
      }
      decorate(xy, s, color++);
    }
    return chart;
  }

  private CategoryChart barChart(int width, int height) {
    CategoryChart chart = new CategoryChart(width, height);
    style(chart, width);
    // Several bar series stand side by side; a single one shares its slot with the curves, so
    // that their points sit on the bars' centres.
    chart.getStyler().setOverlapped(
        series.stream().filter(s -> s.style() == Style.SERIES).count() <= 1);
    TreeSet<Double> xs = new TreeSet<>();
    for (Series s : series) {
      for (int i = 0; i < s.x().length; i++) {
        if (valid(s.x()[i], s.y()[i])) {
          xs.add(s.x()[i]);
        }
      }
    }
    if (xs.isEmpty()) {
      return chart;
    }
    List<String> labels = new ArrayList<>();
    for (double x : xs) {
      labels.add(number(x));
    }
    List<Double> positions = new ArrayList<>(xs);
    int color = 0;
    for (Series s : series) {
      List<Double> ys = new ArrayList<>();
      for (double x : positions) {
        ys.add(s.style() == Style.REFERENCE ? s.y()[0] : at(s, x));
      }
      if (ys.stream().allMatch(Objects::isNull)) {
        continue;
      }
      CategorySeries cs = chart.addSeries(s.name(), labels, ys);
      if (s.style() != Style.SERIES) {
        cs.setChartCategorySeriesRenderStyle(CategorySeriesRenderStyle.Line);
      }
      decorate(cs, s, color++);
    }
    return chart;
  }

  /** The series' y at {@code x}, or {@code null} where it has no valid point there. */
  private Double at(Series s, double x) {
    for (int i = 0; i < s.x().length; i++) {
      if (s.x()[i] == x && valid(x, s.y()[i])) {
        return s.y()[i];
      }
    }
    return kind == Kind.BARS && s.style() == Style.SERIES && !logY ? 0.0 : null;
  }

  private double[][] validPoints(Series s) {
    int n = 0;
    for (int i = 0; i < s.x().length; i++) {
      n += valid(s.x()[i], s.y()[i]) ? 1 : 0;
    }
    double[][] out = new double[2][n];
    for (int i = 0, j = 0; i < s.x().length; i++) {
      if (valid(s.x()[i], s.y()[i])) {
        out[0][j] = s.x()[i];
        out[1][j++] = s.y()[i];
      }
    }
    return out;
  }

  private void decorate(MarkerSeries series, Series s, int index) {
    Color c = PALETTE[index % PALETTE.length];
    series.setLineColor(c);
    series.setFillColor(c);
    series.setMarkerColor(c);
    boolean markers = s.style() == Style.CURVE
        || (s.style() == Style.SERIES && kind == Kind.LINE && s.x().length < MARKER_LIMIT);
    series.setMarker(markers ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
    if (s.style() == Style.REFERENCE) {
      series.setLineStyle(new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
          new float[] {8f, 5f}, 0f));
    } else if (s.style() == Style.CURVE || kind == Kind.LINE) {
      series.setLineStyle(new BasicStroke(2f));
    }
  }

  private void style(AxesChart<? extends AxesChartStyler, ?> chart, int width) {
    chart.setTitle(title);
    chart.setXAxisTitle(xLabel);
    chart.setYAxisTitle(yLabel);
    AxesChartStyler st = chart.getStyler();
    st.setChartBackgroundColor(Color.WHITE);
    st.setPlotBackgroundColor(Color.WHITE);
    st.setPlotBorderColor(new Color(0x333333));
    st.setPlotGridLinesColor(new Color(0xE6E6E6));
    st.setChartTitleBoxVisible(false);
    st.setChartTitleFont(titleFont(title, width));
    st.setLegendPosition(LegendPosition.OutsideE);
    st.setLegendLayout(LegendLayout.Vertical);
    st.setLegendBorderColor(new Color(0xBBBBBB));
    st.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    st.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
    st.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    st.setMarkerSize(6);
    st.setYAxisLogarithmic(logY);
    if (logY) {
      // Ticks at 1..9 times each decade, not only at powers of ten (a narrow range has none).
      st.setYAxisLogarithmicDecadeOnly(false);
      st.setYAxisDecimalPattern(smallestPositiveY() >= 1e-3 ? "0.####" : "0.##E0");
    } else {
      st.setYAxisDecimalPattern(linearPattern());
    }
    st.setAntiAlias(true);
  }

  /** A tick label pattern with about 3 significant digits over the y range of the data. */
  private String linearPattern() {
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (Series s : series) {
      for (double y : s.y()) {
        if (Double.isFinite(y)) {
          lo = Math.min(lo, y);
          hi = Math.max(hi, y);
        }
      }
    }
    double span = Math.max(hi - lo, Math.max(Math.abs(lo), Math.abs(hi)) * 1e-3);
    if (!(span > 0) || !Double.isFinite(span)) {
      return "#,##0.###";
    }
    if (span < 1e-4 || Math.max(Math.abs(lo), Math.abs(hi)) >= 1e7) {
      return "0.###E0";
    }
    int decimals = Math.max(0, 2 - (int) Math.floor(Math.log10(span)));
    return decimals == 0 ? "#,##0" : "#,##0." + "#".repeat(decimals);
  }

  private double smallestPositiveY() {
    double min = Double.POSITIVE_INFINITY;
    for (Series s : series) {
      for (double y : s.y()) {
        if (y > 0 && y < min) {
          min = y;
        }
      }
    }
    return min;
  }

  /** The title font: {@value #TITLE_SIZE} pt, smaller where needed to fit {@code width}. */
  static Font titleFont(String text, int width) {
    BufferedImage scratch = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = scratch.createGraphics();
    try {
      for (int size = TITLE_SIZE; ; size--) {
        Font f = new Font(Font.SANS_SERIF, Font.BOLD, size);
        FontMetrics fm = g.getFontMetrics(f);
        if (size == MIN_TITLE_SIZE || fm.stringWidth(text) <= width - 20) {
          return f;
        }
      }
    } finally {
      g.dispose();
    }
  }

  private static String number(double x) {
    if (x == Math.rint(x) && Math.abs(x) < 1e15) {
      return Long.toString((long) x);
    }
    return String.format(Locale.ROOT, "%.4g", x);
  }

  private static void write(Path file, BufferedImage image) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    try (OutputStream out = Files.newOutputStream(file)) {
      // No disk cache: it registers temp files for deletion at exit, which fails while the JVM
      // shuts down (the partial report of an interrupted run is written then).
      javax.imageio.ImageIO.setUseCache(false);
      javax.imageio.ImageIO.write(image, "png", out);
    }
  }
}
