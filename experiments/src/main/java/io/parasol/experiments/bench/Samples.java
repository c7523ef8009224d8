package io.parasol.experiments.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * Timings of one operation over repetitions, in nanoseconds, in an HdrHistogram (3 significant
 * digits: quantiles within 0.1%); not thread-safe.
 */
final class Samples {
  private final Histogram histogram = new Histogram(3);
  private long total;

  void add(long nanos) {
    total += nanos;
    histogram.recordValue(Math.max(0, nanos));
  }

  /** Adds every sample of {@code other}. */
  void addAll(Samples other) {
    histogram.add(other.histogram);
    total += other.total;
  }

  /** Sum of the samples, nanoseconds. */
  long total() {
    return total;
  }

  int count() {
    return (int) histogram.getTotalCount();
  }

  /** The q-quantile, in nanoseconds (to 3 significant digits); NaN when empty. */
  double quantile(double q) {
    if (histogram.getTotalCount() == 0) {
      return Double.NaN;
    }
    return histogram.getValueAtPercentile(q * 100);
  }

  double median() {
    return quantile(0.5);
  }

  double p99() {
    return quantile(0.99);
  }

  /** GB/s (1e9 bytes per second) moving {@code bytes} in the median time. */
  double gbps(double bytes) {
    return bytes / median();
  }

  /** The figures of an operation that moves {@code bytes} per repetition. */
  Map<String, Object> summary(double bytes) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("gb_per_s", round(gbps(bytes), 3));
    m.put("ms_median", round(median() / 1e6, 3));
    m.put("ms_p99", round(p99() / 1e6, 3));
    m.put("repetitions", count());
    return m;
  }

  static double round(double v, int digits) {
    if (!Double.isFinite(v)) {
      return v;
    }
    double f = Math.pow(10, digits);
    return Math.round(v * f) / f;
  }
}
