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
  private final boolean quasiRandom;

  private DelayModel(Kind kind, long nanos, String text) {
    this(kind, nanos, text, false);
  }

  private DelayModel(Kind kind, long nanos, String text, boolean quasiRandom) {
    this.kind = kind;
    this.nanos = nanos;
    this.text = text;
    this.quasiRandom = quasiRandom;
  }

  /**
   * This model drawing its uniforms from a Kronecker (Weyl) sequence per worker instead of a
   * pseudo-random generator: the marginal law is the same, but the empirical distribution of a
   * few hundred draws is far closer to it, so experiments reach their predicted means with
   * fewer steps. Workers use rationally independent increments, so their joint draws are
   * equidistributed as independent ones would be.
   */
  public DelayModel quasiRandom() {
    return new DelayModel(kind, nanos, text, true);
  }

  /** Uniform draws in [0, 1) for one worker. */
  public interface Uniforms {
    double next();
  }

  /** The uniform source of worker {@code worker}, seeded by {@code rng}. */
  public Uniforms uniforms(int worker, SplittableRandom rng) {
    if (!quasiRandom) {
      return rng::nextDouble;
    }
    double step = Math.sqrt(PRIMES[worker % PRIMES.length]) % 1.0;
    double[] u = {rng.nextDouble()};
    return () -> {
      u[0] = (u[0] + step) % 1.0;
      return u[0];
    };
  }

  private static final int[] PRIMES = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47,
      53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131};

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
        : new DelayModel(kind, Math.round(nanos * factor), text + "x" + factor, quasiRandom);
  }

  /** One delay in nanoseconds. */
  public long sample(SplittableRandom rng) {
    return sample((Uniforms) rng::nextDouble);
  }

  /** One delay in nanoseconds, from the given uniforms. */
  public long sample(Uniforms u) {
    return switch (kind) {
      case NONE -> 0;
      case CONST -> nanos;
      case EXP -> Math.round(-Math.log(1 - u.next()) * nanos);
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
