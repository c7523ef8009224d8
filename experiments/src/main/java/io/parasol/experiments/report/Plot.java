package io.parasol.experiments.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.Stroke;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import javax.imageio.ImageIO;

/**
 * A small line or bar chart rendered headlessly with {@code java.awt} and written as PNG.
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
 * <p>Line plots draw each series as a polyline, with markers when it has fewer than {@value
 * #MARKER_LIMIT} points; a non-finite point (or, on a log axis, a non-positive {@code y}) is
 * skipped and breaks the line. Bar plots treat {@code x} as category positions (such as 0..K) and
 * draw the bars of several series side by side at each position. Axes get 5 to 8 "nice" ticks
 * (1, 2 or 5 times a power of ten), the legend sits in the top-right corner and series take their
 * colours, in order, from the colour-blind-safe Okabe–Ito palette. The same plot always renders
 * to the same pixels.
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

  /** Okabe–Ito colours in the order series use them (yellow and black last: low contrast). */
  private static final Color[] PALETTE = {
    new Color(0x0072B2), // blue
    new Color(0xD55E00), // vermillion
    new Color(0x009E73), // bluish green
    new Color(0xE69F00), // orange
    new Color(0xCC79A7), // reddish purple
    new Color(0x56B4E9), // sky blue
    new Color(0xF0E442), // yellow
    new Color(0x000000), // black
  };
  /** Colours of reference lines, in order: black first, then Okabe–Ito. */
  private static final Color[] REF_COLORS = {
    new Color(0x000000),
    new Color(0xCC79A7),
    new Color(0x56B4E9),
    new Color(0xE69F00),
    new Color(0x009E73),
    new Color(0xD55E00),
    new Color(0x0072B2),
  };
  private static final Color AXIS = new Color(0x333333);
  private static final Color GRID = new Color(0xE6E6E6);
  private static final Color NOTE = new Color(0x888888);
  /** Pixels with a colour channel below this count as drawn on when placing the legend. */
  private static final int INK_LEVEL = 200;
  private static final int MAX_NAME = 40;
  private static final int MAX_CATEGORY_TICKS = 20;

  private enum Kind {
    LINE,
    BARS
  }

  private record Series(String name, double[] x, double[] y) {}

  private record RefLine(String name, double y) {}

  /** An axis: extent (log10 values on a log axis), ticks, their labels, bar slot width. */
  private record Axis(double lo, double hi, double[] ticks, String[] labels, double slot) {}

  /** Data-to-pixel mapping of the plot area; y bounds are log10 values on a log axis. */
  private record Frame(
      double px, double py, double pw, double ph, double x0, double x1, double y0, double y1,
      boolean log) {
    double sx(double x) {
      return px + (x - x0) / (x1 - x0) * pw;
    }

    double sy(double y) {
      double t = log ? Math.log10(y) : y;
      return py + ph - (t - y0) / (y1 - y0) * ph;
    }
  }

  private final Kind kind;
  private final String title;
  private final String xLabel;
  private final String yLabel;
  private final List<Series> series = new ArrayList<>();
  private final List<RefLine> refLines = new ArrayList<>();
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
   * Adds a named series (copies the arrays). For bar plots {@code x} holds category positions.
   *
   * @throws IllegalArgumentException if {@code x} and {@code y} differ in length
   */
  public Plot series(String name, double[] x, double[] y) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(x, "x");
    Objects.requireNonNull(y, "y");
    if (x.length != y.length) {
      throw new IllegalArgumentException(
          "series '" + name + "': x has " + x.length + " values but y has " + y.length);
    }
    series.add(new Series(name, x.clone(), y.clone()));
    return this;
  }

  /** Whether the y axis is log10; non-positive values are then skipped. */
  public Plot logY(boolean on) {
    this.logY = on;
    return this;
  }

  /**
   * Adds a dashed horizontal reference line at {@code y} labelled {@code name} (for example a
   * theoretical prediction). A non-finite {@code y}, or a non-positive one on a log axis, is not
   * drawn.
   */
  public Plot hline(String name, double y) {
    refLines.add(new RefLine(Objects.requireNonNull(name, "name"), y));
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
    BufferedImage image = render(width, height);
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    try (OutputStream out = Files.newOutputStream(file)) {
      if (!ImageIO.write(image, "png", out)) {
        throw new IOException("no PNG writer available");
      }
    }
  }

  /** Colour of the {@code index}-th series. */
  static Color seriesColor(int index) {
    return PALETTE[index % PALETTE.length];
  }

  /** Colour of the {@code index}-th reference line. */
  static Color refLineColor(int index) {
    return REF_COLORS[index % REF_COLORS.length];
  }

  /** Renders the plot into a new RGB image. */
  BufferedImage render(int width, int height) {
    if (width < MIN_WIDTH || height < MIN_HEIGHT) {
      throw new IllegalArgumentException(
          "image must be at least " + MIN_WIDTH + "x" + MIN_HEIGHT + ": " + width + "x" + height);
    }
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      draw(g, image);
    } finally {
      g.dispose();
    }
    return image;
  }

  private boolean valid(double x, double y) {
    return Double.isFinite(x) && Double.isFinite(y) && (!logY || y > 0);
  }

  private boolean validRef(double y) {
    return Double.isFinite(y) && (!logY || y > 0);
  }

  private void draw(Graphics2D g, BufferedImage image) {
    int width = image.getWidth();
    int height = image.getHeight();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(
        RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
    g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
    g.setRenderingHint(
        RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_OFF);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, width, height);

    int fontSize = (int) Math.max(10, Math.min(22, Math.round(Math.min(width, height) / 40.0)));
    Font font = new Font(Font.SANS_SERIF, Font.PLAIN, fontSize);
    Font titleFont = new Font(Font.SANS_SERIF, Font.BOLD, Math.round(fontSize * 1.3f));
    Font noteFont = new Font(Font.SANS_SERIF, Font.ITALIC, Math.round(fontSize * 1.2f));
    FontMetrics fm = g.getFontMetrics(font);
    FontMetrics tfm = g.getFontMetrics(titleFont);
    float lineWidth = Math.max(1.5f, fontSize / 6.5f);
    int pad = fontSize;
    int tickLen = Math.max(4, fontSize / 3);

    Axis xa = xAxis();
    Axis ya = yAxis();

    // Layout.
    int maxYLabel = 0;
    for (String s : ya.labels()) {
      maxYLabel = Math.max(maxYLabel, fm.stringWidth(s));
    }
    int lastXLabel =
        xa.labels().length == 0 ? 0 : fm.stringWidth(xa.labels()[xa.labels().length - 1]);
    int top = pad + (title.isEmpty() ? fm.getAscent() / 2 : tfm.getHeight() + pad / 2);
    int left =
        pad + (yLabel.isEmpty() ? 0 : fm.getHeight() + pad / 2) + maxYLabel + tickLen + 4;
    int bottom =
        pad + (xLabel.isEmpty() ? 0 : fm.getHeight() + pad / 2) + fm.getHeight() + tickLen + 2;
    int right = pad + Math.max(0, lastXLabel / 2);
    int pw = Math.max(1, width - left - right);
    int ph = Math.max(1, height - top - bottom);
    Frame f = new Frame(left, top, pw, ph, xa.lo(), xa.hi(), ya.lo(), ya.hi(), logY);
    Rectangle2D area = new Rectangle2D.Double(left, top, pw, ph);

    // Grid.
    g.setStroke(new BasicStroke(1f));
    g.setColor(GRID);
    for (double t : ya.ticks()) {
      double y = f.sy(t);
      g.draw(new Line2D.Double(left, y, left + pw, y));
    }
    if (kind == Kind.LINE) {
      for (double t : xa.ticks()) {
        double x = f.sx(t);
        g.draw(new Line2D.Double(x, top, x, top + ph));
      }
    }

    // Data.
    Shape oldClip = g.getClip();
    g.setClip(area);
    boolean drewData =
        kind == Kind.LINE ? drawLines(g, f, lineWidth, fontSize) : drawBars(g, f, xa.slot());
    drawRefLines(g, f, fm, lineWidth);
    g.setClip(oldClip);

    drawAxes(g, f, fm, xa, ya, tickLen);
    drawTitles(g, f, fm, tfm, pad, height);

    if (!drewData) {
      g.setFont(noteFont);
      g.setColor(NOTE);
      FontMetrics nfm = g.getFontMetrics(noteFont);
      String note = "no data";
      g.drawString(
          note, left + (pw - nfm.stringWidth(note)) / 2, top + (ph + nfm.getAscent()) / 2);
    }

    drawLegend(g, image, f, fm, lineWidth, pad);
  }

  /** The x axis: nice ticks for line plots, category positions for bar plots. */
  private Axis xAxis() {
    TreeSet<Double> xs = new TreeSet<>();
    for (Series s : series) {
      for (int i = 0; i < s.x().length; i++) {
        if (valid(s.x()[i], s.y()[i])) {
          xs.add(s.x()[i] == 0 ? 0.0 : s.x()[i]); // one category for 0.0 and -0.0
        }
      }
    }
    if (xs.isEmpty() || kind == Kind.LINE) {
      double[] ticks = xs.isEmpty() ? Ticks.linear(0, 1) : Ticks.linear(xs.first(), xs.last());
      return new Axis(ticks[0], ticks[ticks.length - 1], ticks, Ticks.labels(ticks), 1);
    }
    double gap = Double.POSITIVE_INFINITY;
    double prev = Double.NaN;
    for (double c : xs) {
      if (c - prev > 0) {
        gap = Math.min(gap, c - prev);
      }
      prev = c;
    }
    double slot = Double.isFinite(gap) ? gap : 1;
    double lo = xs.first() - slot / 2;
    double hi = xs.last() + slot / 2;
    double[] ticks =
        xs.size() <= MAX_CATEGORY_TICKS
            ? xs.stream().mapToDouble(Double::doubleValue).toArray()
            : Arrays.stream(Ticks.linear(xs.first(), xs.last()))
                .filter(t -> t >= lo && t <= hi)
                .toArray();
    return new Axis(lo, hi, ticks, Ticks.labels(ticks), slot);
  }

  /** The y axis, covering the series, the reference lines and, for linear bar plots, zero. */
  private Axis yAxis() {
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (Series s : series) {
      for (int i = 0; i < s.x().length; i++) {
        if (valid(s.x()[i], s.y()[i])) {
          min = Math.min(min, s.y()[i]);
          max = Math.max(max, s.y()[i]);
        }
      }
    }
    for (RefLine r : refLines) {
      if (validRef(r.y())) {
        min = Math.min(min, r.y());
        max = Math.max(max, r.y());
      }
    }
    if (min > max) {
      min = logY ? 1 : 0;
      max = logY ? 10 : 1;
    }
    if (kind == Kind.BARS && !logY) {
      min = Math.min(min, 0);
      max = Math.max(max, 0);
    }
    if (logY) {
      double[] ticks = Ticks.log(min, max);
      String[] labels = Arrays.stream(ticks).mapToObj(Ticks::logLabel).toArray(String[]::new);
      return new Axis(
          Math.log10(ticks[0]), Math.log10(ticks[ticks.length - 1]), ticks, labels, 1);
    }
    double[] ticks = Ticks.linear(min, max);
    return new Axis(ticks[0], ticks[ticks.length - 1], ticks, Ticks.labels(ticks), 1);
  }

  /** Frame around the plot area, tick marks and tick labels (skipping labels that would touch). */
  private static void drawAxes(
      Graphics2D g, Frame f, FontMetrics fm, Axis xa, Axis ya, int tickLen) {
    double left = f.px();
    double bottom = f.py() + f.ph();
    g.setColor(AXIS);
    g.setStroke(new BasicStroke(1f));
    g.draw(new Rectangle2D.Double(left + 0.5, f.py() + 0.5, f.pw() - 1, f.ph() - 1));
    g.setFont(fm.getFont());
    int gap = fm.getFont().getSize() / 2;
    int lastRight = Integer.MIN_VALUE;
    for (int i = 0; i < xa.ticks().length; i++) {
      double x = f.sx(xa.ticks()[i]);
      g.draw(new Line2D.Double(x, bottom, x, bottom + tickLen));
      int w = fm.stringWidth(xa.labels()[i]);
      int lx = (int) Math.round(x - w / 2.0);
      if (lx > lastRight + gap) {
        g.drawString(xa.labels()[i], lx, (int) bottom + tickLen + 2 + fm.getAscent());
        lastRight = lx + w;
      }
    }
    int lastTop = Integer.MAX_VALUE;
    for (int i = 0; i < ya.ticks().length; i++) {
      double y = f.sy(ya.ticks()[i]);
      g.draw(new Line2D.Double(left - tickLen, y, left, y));
      int w = fm.stringWidth(ya.labels()[i]);
      int baseline = (int) Math.round(y + (fm.getAscent() - fm.getDescent()) / 2.0);
      if (baseline < lastTop - 2) {
        g.drawString(ya.labels()[i], (int) left - tickLen - 4 - w, baseline);
        lastTop = baseline - fm.getAscent();
      }
    }
  }

  /** Axis labels (the y label rotated) and the title. */
  private void drawTitles(
      Graphics2D g, Frame f, FontMetrics fm, FontMetrics tfm, int pad, int height) {
    int left = (int) f.px();
    int pw = (int) f.pw();
    g.setFont(fm.getFont());
    g.setColor(AXIS);
    if (!xLabel.isEmpty()) {
      int w = fm.stringWidth(xLabel);
      g.drawString(xLabel, left + (pw - w) / 2, height - pad - fm.getDescent());
    }
    if (!yLabel.isEmpty()) {
      int w = fm.stringWidth(yLabel);
      AffineTransform saved = g.getTransform();
      g.translate(pad + fm.getAscent(), f.py() + f.ph() / 2.0);
      g.rotate(-Math.PI / 2);
      g.drawString(yLabel, -w / 2, 0);
      g.setTransform(saved);
    }
    if (!title.isEmpty()) {
      g.setFont(tfm.getFont());
      g.setColor(Color.BLACK);
      int w = tfm.stringWidth(title);
      g.drawString(title, Math.max(pad, left + (pw - w) / 2), pad + tfm.getAscent());
    }
  }

  private boolean drawLines(Graphics2D g, Frame f, float lineWidth, int fontSize) {
    boolean drew = false;
    Stroke stroke = new BasicStroke(lineWidth, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
    double markerSize = Math.max(5, fontSize * 0.55);
    for (int k = 0; k < series.size(); k++) {
      Series s = series.get(k);
      boolean markers = s.x().length < MARKER_LIMIT;
      Path2D.Double path = new Path2D.Double();
      List<double[]> points = new ArrayList<>();
      int run = 0;
      for (int i = 0; i < s.x().length; i++) {
        if (!valid(s.x()[i], s.y()[i])) {
          if (run == 1 && !markers) {
            points.add(lastPoint(path));
          }
          run = 0;
          continue;
        }
        double x = f.sx(s.x()[i]);
        double y = f.sy(s.y()[i]);
        if (run == 0) {
          path.moveTo(x, y);
        } else {
          path.lineTo(x, y);
        }
        run++;
        drew = true;
        if (markers) {
          points.add(new double[] {x, y});
        }
      }
      if (run == 1 && !markers) {
        points.add(lastPoint(path));
      }
      g.setColor(seriesColor(k));
      g.setStroke(stroke);
      g.draw(path);
      for (double[] p : points) {
        g.fill(marker(k, p[0], p[1], markerSize));
      }
    }
    return drew;
  }

  private static double[] lastPoint(Path2D path) {
    return new double[] {path.getCurrentPoint().getX(), path.getCurrentPoint().getY()};
  }

  private boolean drawBars(Graphics2D g, Frame f, double slot) {
    boolean drew = false;
    int n = Math.max(1, series.size());
    double group = 0.8 * slot;
    double bar = group / n;
    double baseY = logY ? f.py() + f.ph() : f.sy(Math.max(f.y0(), Math.min(f.y1(), 0)));
    for (int k = 0; k < series.size(); k++) {
      Series s = series.get(k);
      g.setColor(seriesColor(k));
      for (int i = 0; i < s.x().length; i++) {
        if (!valid(s.x()[i], s.y()[i])) {
          continue;
        }
        double xl = f.sx(s.x()[i] - group / 2 + k * bar);
        double xr = f.sx(s.x()[i] - group / 2 + (k + 1) * bar);
        double y = f.sy(s.y()[i]);
        double gapPx = Math.min(1, (xr - xl) / 4);
        g.fill(
            new Rectangle2D.Double(
                xl + gapPx / 2, Math.min(y, baseY), xr - xl - gapPx, Math.abs(baseY - y)));
        drew = true;
      }
    }
    if (!logY) {
      g.setColor(AXIS);
      g.setStroke(new BasicStroke(1f));
      g.draw(new Line2D.Double(f.px(), baseY, f.px() + f.pw(), baseY));
    }
    return drew;
  }

  private void drawRefLines(Graphics2D g, Frame f, FontMetrics fm, float lineWidth) {
    for (int j = 0; j < refLines.size(); j++) {
      RefLine r = refLines.get(j);
      if (!validRef(r.y())) {
        continue;
      }
      double y = f.sy(r.y());
      g.setColor(refLineColor(j));
      g.setStroke(dashed(lineWidth));
      g.draw(new Line2D.Double(f.px(), y, f.px() + f.pw(), y));
      g.setFont(fm.getFont());
      String label = shorten(r.name());
      // Above the line, or below it when the line is near the top of the plot area.
      double baseline =
          y - 4 - fm.getHeight() < f.py() ? y + 4 + fm.getAscent() : y - 4 - fm.getDescent();
      g.drawString(label, (float) (f.px() + 6), (float) baseline);
    }
  }

  /**
   * Draws the legend in the top-right corner of the plot area, or in the first of the other
   * corners (top-left, bottom-right, bottom-left) that covers fewer already drawn pixels.
   */
  private void drawLegend(
      Graphics2D g, BufferedImage image, Frame f, FontMetrics fm, float lineWidth, int pad) {
    List<String> names = new ArrayList<>();
    List<Integer> kinds = new ArrayList<>(); // series index, or -1 - refLine index
    for (int k = 0; k < series.size(); k++) {
      names.add(shorten(series.get(k).name()));
      kinds.add(k);
    }
    for (int j = 0; j < refLines.size(); j++) {
      if (validRef(refLines.get(j).y())) {
        names.add(shorten(refLines.get(j).name()));
        kinds.add(-1 - j);
      }
    }
    if (names.isEmpty()) {
      return;
    }
    int sample = 2 * fm.getHeight();
    int rowH = fm.getHeight() + 2;
    int textW = 0;
    for (String s : names) {
      textW = Math.max(textW, fm.stringWidth(s));
    }
    int inner = pad / 2;
    int boxW = inner + sample + inner + textW + inner;
    int boxH = inner + rowH * names.size() + inner - 2;
    double[][] corners = {
      {f.px() + f.pw() - boxW - inner, f.py() + inner},
      {f.px() + inner, f.py() + inner},
      {f.px() + f.pw() - boxW - inner, f.py() + f.ph() - boxH - inner},
      {f.px() + inner, f.py() + f.ph() - boxH - inner},
    };
    double bx = corners[0][0];
    double by = corners[0][1];
    long best = Long.MAX_VALUE;
    for (double[] c : corners) {
      long ink = ink(image, c[0], c[1], boxW, boxH);
      if (ink < best) {
        best = ink;
        bx = c[0];
        by = c[1];
      }
    }
    Rectangle2D box = new Rectangle2D.Double(bx, by, boxW, boxH);
    g.setColor(new Color(255, 255, 255, 225));
    g.fill(box);
    g.setColor(new Color(0xBBBBBB));
    g.setStroke(new BasicStroke(1f));
    g.draw(box);
    g.setFont(fm.getFont());
    double markerSize = Math.max(5, fm.getFont().getSize() * 0.55);
    for (int r = 0; r < names.size(); r++) {
      double cy = by + inner + r * rowH + fm.getHeight() / 2.0;
      double sx0 = bx + inner;
      double sx1 = sx0 + sample;
      int key = kinds.get(r);
      if (key < 0) {
        g.setColor(refLineColor(-1 - key));
        g.setStroke(dashed(lineWidth));
        g.draw(new Line2D.Double(sx0, cy, sx1, cy));
      } else {
        g.setColor(seriesColor(key));
        if (kind == Kind.BARS) {
          double s = fm.getAscent() * 0.8;
          g.fill(new Rectangle2D.Double((sx0 + sx1 - s) / 2, cy - s / 2, s, s));
        } else {
          g.setStroke(new BasicStroke(lineWidth, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
          g.draw(new Line2D.Double(sx0, cy, sx1, cy));
          if (series.get(key).x().length < MARKER_LIMIT) {
            g.fill(marker(key, (sx0 + sx1) / 2, cy, markerSize));
          }
        }
      }
      g.setColor(Color.BLACK);
      g.drawString(
          names.get(r),
          (float) (sx1 + inner),
          (float) (cy + (fm.getAscent() - fm.getDescent()) / 2.0));
    }
  }

  /** Number of pixels in the given box clearly darker than the background and grid lines. */
  private static long ink(BufferedImage image, double x, double y, int w, int h) {
    int x0 = Math.max(0, (int) Math.floor(x));
    int y0 = Math.max(0, (int) Math.floor(y));
    int x1 = Math.min(image.getWidth(), (int) Math.ceil(x + w) + 1);
    int y1 = Math.min(image.getHeight(), (int) Math.ceil(y + h) + 1);
    long n = 0;
    for (int py = y0; py < y1; py++) {
      for (int px = x0; px < x1; px++) {
        int rgb = image.getRGB(px, py);
        int darkest = Math.min(rgb & 0xFF, Math.min((rgb >> 8) & 0xFF, (rgb >> 16) & 0xFF));
        if (darkest < INK_LEVEL) {
          n++;
        }
      }
    }
    return n;
  }

  private static Stroke dashed(float lineWidth) {
    float dash = 4 * lineWidth;
    float[] pattern = {dash, dash / 1.5f};
    return new BasicStroke(
        lineWidth, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, pattern, 0f);
  }

  /** Marker shape for series {@code k}: circle, square, triangle up, diamond, triangle down. */
  private static Shape marker(int k, double x, double y, double size) {
    double r = size / 2;
    double a = 1.05 * r;
    double b = 0.75 * r;
    double c = 1.15 * r;
    return switch (k % 5) {
      case 1 -> new Rectangle2D.Double(x - r * 0.85, y - r * 0.85, 1.7 * r, 1.7 * r);
      case 2 -> polygon(x, y, new double[] {0, -c, a, b, -a, b});
      case 3 -> polygon(x, y, new double[] {0, -1.2 * r, 1.2 * r, 0, 0, 1.2 * r, -1.2 * r, 0});
      case 4 -> polygon(x, y, new double[] {0, c, a, -b, -a, -b});
      default -> new Ellipse2D.Double(x - r, y - r, size, size);
    };
  }

  private static Shape polygon(double cx, double cy, double[] offsets) {
    Path2D.Double p = new Path2D.Double();
    p.moveTo(cx + offsets[0], cy + offsets[1]);
    for (int i = 2; i < offsets.length; i += 2) {
      p.lineTo(cx + offsets[i], cy + offsets[i + 1]);
    }
    p.closePath();
    return p;
  }

  private static String shorten(String s) {
    return s.length() <= MAX_NAME ? s : s.substring(0, MAX_NAME - 1) + "\u2026";
  }
}
