package io.parasol.experiments.report;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * "Nice" axis ticks: multiples of 1, 2 or 5 times a power of ten on linear axes, powers of ten
 * (or 1/2/5 per decade for short ranges) on log axes, and their labels.
 */
final class Ticks {
  /** Fewest ticks a linear axis aims for. */
  static final int MIN_TICKS = 5;
  /** Most ticks a linear axis aims for. */
  static final int MAX_TICKS = 8;

  private static final int[] MANTISSAS = {1, 2, 5};
  private static final double EPS = 1e-9;

  private Ticks() {}

  /**
   * Ticks for a linear axis covering {@code [lo, hi]}: consecutive multiples of a step {@code m *
   * 10^k} with {@code m} in {1, 2, 5}, the first at or below {@code lo} and the last at or above
   * {@code hi}. Picks the step that gives between {@link #MIN_TICKS} and {@link #MAX_TICKS} ticks;
   * where no step does, the one that comes closest (ties: the shorter axis, then the larger step).
   * A degenerate range ({@code lo == hi}) is widened around its value.
   *
   * @throws IllegalArgumentException if an end is not finite
   */
  static double[] linear(double lo, double hi) {
    if (!Double.isFinite(lo) || !Double.isFinite(hi)) {
      throw new IllegalArgumentException("range must be finite: [" + lo + ", " + hi + "]");
    }
    if (lo > hi) {
      double t = lo;
      lo = hi;
      hi = t;
    }
    double scale = Math.max(Math.abs(lo), Math.abs(hi));
    if (hi - lo <= scale * 1e-12) {
      double pad = scale == 0 ? 1 : scale * 0.1;
      lo -= pad;
      hi += pad;
    }
    double span = hi - lo;
    if (!Double.isFinite(span)) {
      return new double[] {lo, hi};
    }
    int e0 = (int) Math.floor(Math.log10(span)) - 2;
    long bestFirst = 0;
    long bestLast = 0;
    int bestM = 0;
    int bestE = 0;
    int bestScore = Integer.MAX_VALUE;
    double bestExtent = Double.POSITIVE_INFINITY;
    for (int e = e0; e <= e0 + 3; e++) {
      double p = pow10(e);
      for (int m : MANTISSAS) {
        double step = m * p;
        long first = (long) Math.floor(lo / step + EPS);
        long last = (long) Math.ceil(hi / step - EPS);
        long n = last - first + 1;
        int score = (int) (n < MIN_TICKS ? MIN_TICKS - n : n > MAX_TICKS ? n - MAX_TICKS : 0);
        double extent = (last - first) * step;
        // Steps grow through the loop, so ties on score and extent keep the later, larger step.
        if (score < bestScore || (score == bestScore && extent <= bestExtent * (1 + EPS))) {
          bestScore = score;
          bestExtent = extent;
          bestFirst = first;
          bestLast = last;
          bestM = m;
          bestE = e;
        }
      }
    }
    double[] ticks = new double[(int) (bestLast - bestFirst + 1)];
    for (int i = 0; i < ticks.length; i++) {
      ticks[i] = decimal((bestFirst + i) * bestM, bestE);
    }
    return ticks;
  }

  /**
   * Ticks for a log axis covering {@code [lo, hi]} (both positive): 1, 2 and 5 times each power of
   * ten when the range spans at most two decades, otherwise every k-th power of ten, with k chosen
   * so there are at most {@link #MAX_TICKS} ticks. The first tick is at or below {@code lo}, the
   * last at or above {@code hi}.
   *
   * @throws IllegalArgumentException if an end is not finite and positive
   */
  static double[] log(double lo, double hi) {
    if (!(lo > 0) || !(hi > 0) || !Double.isFinite(lo) || !Double.isFinite(hi)) {
      throw new IllegalArgumentException("log range must be positive: [" + lo + ", " + hi + "]");
    }
    if (lo > hi) {
      double t = lo;
      lo = hi;
      hi = t;
    }
    int lo10 = (int) Math.floor(Math.log10(lo) + EPS);
    int hi10 = (int) Math.ceil(Math.log10(hi) - EPS);
    if (hi10 <= lo10) {
      hi10 = lo10 + 1;
    }
    int decades = hi10 - lo10;
    List<Double> out = new ArrayList<>();
    if (decades <= 2) {
      for (int e = lo10; e < hi10; e++) {
        for (int m : MANTISSAS) {
          out.add(decimal(m, e));
        }
      }
      out.add(decimal(1, hi10));
    } else {
      int k = (decades + MAX_TICKS - 2) / (MAX_TICKS - 1);
      int steps = (decades + k - 1) / k;
      for (int i = 0; i <= steps; i++) {
        out.add(decimal(1, lo10 + i * k));
      }
    }
    double[] ticks = new double[out.size()];
    for (int i = 0; i < ticks.length; i++) {
      ticks[i] = out.get(i);
    }
    return ticks;
  }

  /**
   * Labels for linear-axis ticks, all with the same number of decimals (enough for the smallest
   * gap between ticks); scientific notation ({@code 2.5e-5}) for very large or small magnitudes.
   */
  static String[] labels(double[] ticks) {
    double step = Double.POSITIVE_INFINITY;
    double maxAbs = 0;
    for (int i = 0; i < ticks.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(ticks[i]));
      if (i > 0 && ticks[i] - ticks[i - 1] > 0) {
        step = Math.min(step, ticks[i] - ticks[i - 1]);
      }
    }
    if (!Double.isFinite(step)) {
      step = maxAbs > 0 ? maxAbs : 1;
    }
    int stepExp = (int) Math.floor(Math.log10(step) + EPS);
    boolean scientific = maxAbs >= 1e6 || step < 1e-3;
    String[] out = new String[ticks.length];
    for (int i = 0; i < ticks.length; i++) {
      double v = Math.abs(ticks[i]) < step * 1e-6 ? 0.0 : ticks[i];
      if (scientific && v == 0) {
        out[i] = "0";
      } else if (scientific) {
        out[i] = scientific(v, stepExp);
      } else {
        int decimals = Math.max(0, -stepExp);
        out[i] = String.format(Locale.ROOT, "%." + decimals + "f", v);
      }
    }
    return out;
  }

  /** Label for a log-axis tick: plain decimals from 0.001 to 99999, otherwise {@code 1e-5}. */
  static String logLabel(double v) {
    if (v >= 1e-3 && v < 1e5) {
      return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }
    return scientific(v, (int) Math.floor(Math.log10(v) + EPS));
  }

  private static String scientific(double v, int precisionExp) {
    int exp = (int) Math.floor(Math.log10(Math.abs(v)) + EPS);
    int decimals = Math.min(6, Math.max(0, exp - precisionExp));
    double mantissa = v / pow10(exp);
    String m = String.format(Locale.ROOT, "%." + decimals + "f", mantissa);
    if (m.indexOf('.') >= 0) {
      m = m.replaceAll("0+$", "").replaceAll("\\.$", "");
    }
    return m + "e" + exp;
  }

  /** {@code unscaled * 10^exp}, correctly rounded. */
  private static double decimal(long unscaled, int exp) {
    return new BigDecimal(BigInteger.valueOf(unscaled), -exp).doubleValue();
  }

  private static double pow10(int exp) {
    return decimal(1, exp);
  }
}
