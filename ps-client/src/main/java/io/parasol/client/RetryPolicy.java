package io.parasol.client;

import io.grpc.Status;
import java.time.Duration;
import java.util.SplittableRandom;

/**
 * Exponential backoff with jitter for calls that failed with a transient status (UNAVAILABLE,
 * DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, and UNKNOWN, which gRPC reports for a write on a
 * connection reset by a dying peer; shards never answer UNKNOWN themselves, and retried pushes
 * are applied once): attempt n waits a uniform random time in
 * [0.5, 1.0] × min(maxBackoff, initialBackoff × multiplier^(n−1)).
 *
 * @param maxAttempts attempts in all, the first included (1: no retries)
 */
public record RetryPolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff,
    double multiplier) {

  /**
   * Twelve attempts, 100 ms doubling to 5 s: the pauses add up to 16 to 31 s, so a worker rides
   * out a shard restart of at least 16 s.
   */
  public static final RetryPolicy DEFAULT =
      new RetryPolicy(12, Duration.ofMillis(100), Duration.ofSeconds(5), 2.0);

  public static final RetryPolicy NONE =
      new RetryPolicy(1, Duration.ZERO, Duration.ZERO, 1.0);

  public RetryPolicy {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be >= 1, got " + maxAttempts);
    }
  }

  /** Whether a call that failed with {@code code} may be tried again. */
  public static boolean retryable(Status.Code code) {
    return code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED
        || code == Status.Code.RESOURCE_EXHAUSTED || code == Status.Code.UNKNOWN;
  }

  /** The pause before attempt {@code attempt} (2 for the first retry), in nanoseconds. */
  public long backoffNanos(int attempt, SplittableRandom rng) {
    double base = initialBackoff.toNanos() * Math.pow(multiplier, Math.max(0, attempt - 2));
    double capped = Math.min(base, maxBackoff.toNanos());
    return (long) (capped * (0.5 + 0.5 * rng.nextDouble()));
  }
}
