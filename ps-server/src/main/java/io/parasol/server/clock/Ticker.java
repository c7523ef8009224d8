package io.parasol.server.clock;

/**
 * The server's one source of time: a monotonic nanosecond reading, as Guava's {@code Ticker}.
 * Everything on the server that measures time (leases, pull waits, round durations, checkpoint
 * timings) takes a Ticker, so tests drive it with a fake one. Implementations must be
 * thread-safe; readings only mean something as differences.
 */
@FunctionalInterface
public interface Ticker {
  /** Nanoseconds from an arbitrary, fixed origin. */
  long nanoTime();

  /** The system's monotonic clock ({@link SystemTicker}). */
  static Ticker system() {
    return SystemTicker.INSTANCE;
  }
}
