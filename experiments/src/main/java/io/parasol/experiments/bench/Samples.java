package io.parasol.experiments.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** Timings of one operation over repetitions, in nanoseconds; not thread-safe. */
final class Samples {
  private long[] ns = new long[16];
  private int n;
  private long total;

  void add(long nanos) {
    total += nanos;
    if (n == ns.length) {
      ns = Arrays.copyOf(ns, n * 2);
    }
    ns[n++] = nanos;
  }

  /** Sum of the samples, nanoseconds. */
  long total() {
    return total;
  }

  int count() {
    return n;
  }

  /** The q-quantile (nearest rank), in nanoseconds; NaN when empty. */
  double quantile(double q) {
    if (n == 0) {
      return Double.NaN;
    }
    long[] s = Arrays.copyOf(ns, n);
    Arrays.sort(s);
    int rank = (int) Math.ceil(q * n);
    return s[Math.min(n - 1, Math.max(0, rank - 1))];
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
    m.put("repetitions", n);
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
