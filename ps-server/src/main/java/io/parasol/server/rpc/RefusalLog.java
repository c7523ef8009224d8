package io.parasol.server.rpc;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.grpc.Status;
import io.parasol.server.clock.Ticker;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Log lines for refused requests that no client can flood: at most one line per kind (method
 * and status code) per interval, with the count of the refusals of that kind it stands for.
 * The first refusal of a kind is logged at once with its description; the others of the same
 * interval are only counted, and reported by the next line of that kind or by {@link #flush}
 * once the interval is over. No stack traces: a refusal is the client's error.
 *
 * <p>Time comes from an injected {@link Ticker}. Thread-safe; the sink is called outside any
 * lock. Kinds are bounded by the service's methods times the status codes.
 */
public final class RefusalLog {
  /** Longest description a line quotes: descriptions may echo what the client sent. */
  static final int MAX_DESCRIPTION = 200;

  private final Ticker ticker;
  private final long intervalNanos;
  private final Consumer<String> sink;
  private final Map<String, Kind> kinds = new ConcurrentHashMap<>();

  /**
   * @param intervalNanos at most one line per kind this often
   * @param sink where lines go (the shard's logger)
   */
  public RefusalLog(Ticker ticker, long intervalNanos, Consumer<String> sink) {
    if (intervalNanos <= 0) {
      throw new IllegalArgumentException("interval must be positive, got " + intervalNanos);
    }
    this.ticker = ticker;
    this.intervalNanos = intervalNanos;
    this.sink = sink;
  }

  private static final class Kind {
    @GuardedBy("this")
    boolean logged;
    @GuardedBy("this")
    long lineAt;
    /** Refusals since the last line, not in it. */
    @GuardedBy("this")
    long unlogged;
  }

  /** Records one refusal of {@code method} with {@code status}; logs it if its kind may. */
  public void refused(String method, Status status) {
    String key = method + " " + status.getCode();
    Kind k = kinds.computeIfAbsent(key, x -> new Kind());
    String line = null;
    long now = ticker.nanoTime();
    synchronized (k) {
      if (!k.logged || now - k.lineAt >= intervalNanos) {
        line = key + " refused: " + describe(status)
            + (k.unlogged > 0 ? " (and " + k.unlogged + " more since the last line)" : "");
        k.logged = true;
        k.lineAt = now;
        k.unlogged = 0;
      } else {
        k.unlogged++;
      }
    }
    if (line != null) {
      sink.accept(line);
    }
  }

  /** Reports the refusals counted in intervals that are over (the shard's timer calls it). */
  public void flush() {
    long now = ticker.nanoTime();
    List<String> lines = new ArrayList<>();
    for (Map.Entry<String, Kind> e : kinds.entrySet()) {
      Kind k = e.getValue();
      synchronized (k) {
        if (k.unlogged > 0 && now - k.lineAt >= intervalNanos) {
          lines.add(e.getKey() + " refused " + k.unlogged + " more times in the last "
              + seconds(now - k.lineAt));
          k.lineAt = now;
          k.unlogged = 0;
        }
      }
    }
    lines.forEach(sink);
  }

  private static String seconds(long nanos) {
    return String.format(java.util.Locale.ROOT, "%.1f s", nanos / 1e9);
  }

  private static String describe(Status s) {
    String d = s.getDescription();
    if (d == null) {
      return "(no description)";
    }
    return d.length() <= MAX_DESCRIPTION ? d
        : d.substring(0, MAX_DESCRIPTION) + "... (" + d.length() + " chars)";
  }
}
