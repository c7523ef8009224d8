package io.parasol.experiments.robustness;

/**
 * Latencies in log-spaced buckets (each 2% wider than the last, from 1 µs), so a long run keeps
 * a fixed, small footprint per worker; percentiles are exact to about 2%, the maximum exactly.
 * Not thread-safe: one per worker and operation, merged at the end.
 */
final class LatencyHistogram {
  private static final double GROWTH = 1.02;
  private static final int BUCKETS = 1200; // 1.02^1200 µs is far beyond any deadline

  private final long[] counts = new long[BUCKETS];
  private long count;
  private long maxNanos;
  private long sumNanos;

  private static int bucket(long nanos) {
    double micros = Math.max(1.0, nanos / 1_000.0);
    return (int) Math.min(BUCKETS - 1, Math.floor(Math.log(micros) / Math.log(GROWTH)));
  }

  /** Upper edge of a bucket, in nanoseconds. */
  private static double upperNanos(int bucket) {
    return Math.pow(GROWTH, bucket + 1) * 1_000.0;
  }

  void record(long nanos) {
    counts[bucket(nanos)]++;
    count++;
    sumNanos += nanos;
    maxNanos = Math.max(maxNanos, nanos);
  }

  void add(LatencyHistogram other) {
    for (int i = 0; i < BUCKETS; i++) {
      counts[i] += other.counts[i];
    }
    count += other.count;
    sumNanos += other.sumNanos;
    maxNanos = Math.max(maxNanos, other.maxNanos);
  }

  long count() {
    return count;
  }

  /** The latency below which a fraction {@code q} of the samples fall, in milliseconds. */
  double quantileMillis(double q) {
    if (count == 0) {
      return Double.NaN;
    }
    long rank = (long) Math.ceil(q * count);
    long seen = 0;
    for (int i = 0; i < BUCKETS; i++) {
      seen += counts[i];
      if (seen >= rank) {
        return Math.min(upperNanos(i), maxNanos) / 1e6;
      }
    }
    return maxNanos / 1e6;
  }

  double maxMillis() {
    return maxNanos / 1e6;
  }

  double meanMillis() {
    return count == 0 ? Double.NaN : sumNanos / 1e6 / count;
  }
}
