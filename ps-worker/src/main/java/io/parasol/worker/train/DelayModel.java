package io.parasol.worker.train;

import java.time.Duration;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Injected compute delay per step, for straggler drills and for experiments where the delay
 * must dominate real compute: none, const:D, or exp:MEAN (exponential with the given mean, as
 * in the lecture's runtime analysis of synchronous and asynchronous SGD).
 */
public final class DelayModel {
  /** Sleeps; tests pass a recorder instead. */
  @FunctionalInterface
  public interface Sleeper {
    void sleepNanos(long nanos) throws InterruptedException;
  }

  public static final Sleeper REAL = nanos -> {
    if (nanos > 0) {
      Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
    }
  };

  private enum Kind { NONE, CONST, EXP }

  private final Kind kind;
  private final long nanos;
  private final String text;

  private DelayModel(Kind kind, long nanos, String text) {
    this.kind = kind;
    this.nanos = nanos;
    this.text = text;
  }

  public static final DelayModel NONE = new DelayModel(Kind.NONE, 0, "none");

  /** Parses "none", "const:5ms", "exp:10ms" (durations as 500us, 5ms, 1.5s). */
  public static DelayModel parse(String s) {
    String t = s.trim().toLowerCase(Locale.ROOT);
    if (t.equals("none") || t.isEmpty()) {
      return NONE;
    }
    int colon = t.indexOf(':');
    if (colon > 0) {
      String k = t.substring(0, colon);
      long n = parseNanos(t.substring(colon + 1), s);
      if (k.equals("const")) {
        return new DelayModel(Kind.CONST, n, t);
      }
      if (k.equals("exp")) {
        return new DelayModel(Kind.EXP, n, t);
      }
    }
    throw new IllegalArgumentException("delay '" + s + "' is not none, const:DURATION or"
        + " exp:MEAN (durations like 500us, 5ms, 1.5s)");
  }

  static long parseNanos(String d, String whole) {
    try {
      if (d.endsWith("us")) {
        return Math.round(Double.parseDouble(d.substring(0, d.length() - 2)) * 1e3);
      }
      if (d.endsWith("ms")) {
        return Math.round(Double.parseDouble(d.substring(0, d.length() - 2)) * 1e6);
      }
      if (d.endsWith("s")) {
        return Math.round(Double.parseDouble(d.substring(0, d.length() - 1)) * 1e9);
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException("delay '" + whole + "': '" + d + "' is not a duration"
        + " like 500us, 5ms or 1.5s");
  }

  /** This model with its delays multiplied by {@code factor} (a slow worker). */
  public DelayModel scaled(double factor) {
    return kind == Kind.NONE ? this
        : new DelayModel(kind, Math.round(nanos * factor), text + "x" + factor);
  }

  /** One delay in nanoseconds. */
  public long sample(SplittableRandom rng) {
    return switch (kind) {
      case NONE -> 0;
      case CONST -> nanos;
      case EXP -> Math.round(-Math.log(1 - rng.nextDouble()) * nanos);
    };
  }

  /** Mean delay in nanoseconds. */
  public long meanNanos() {
    return nanos;
  }

  public Duration mean() {
    return Duration.ofNanos(nanos);
  }

  public boolean isNone() {
    return kind == Kind.NONE;
  }

  @Override
  public String toString() {
    return text;
  }
}
