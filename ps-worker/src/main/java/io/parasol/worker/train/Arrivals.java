package io.parasol.worker.train;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * When fresh copies of the blocks a worker does not own reach it, for coordinate-wise
 * asynchronous SGD (DASGD): the message-arrival processes behind the Age of Information Δ_ij of
 * Redder, Ramaswamy and Karl (2022). Each step, for each block it reads but does not update, a
 * worker either receives a fresh copy (and reads its current version) or goes on with the copy
 * it has.
 *
 * <ul>
 *   <li>{@code always}: every step (the default).
 *   <li>{@code bernoulli:p}: independently with probability p each step; with one update of the
 *       block per step, E[Δ] = 1/p.
 *   <li>{@code markov:a,b}: a two-state on/off channel per block pair, on → off with
 *       probability a and off → on with probability b each step; a copy arrives while on.
 *       Stationary P(on) = b/(a+b) and E[Δ] = 1 + a/((a+b)·b): burstier than Bernoulli with
 *       the same P(on).
 * </ul>
 */
public final class Arrivals {
  private enum Kind { ALWAYS, BERNOULLI, MARKOV }

  private final Kind kind;
  private final double p;
  private final double a;
  private final double b;
  private final String text;

  private Arrivals(Kind kind, double p, double a, double b, String text) {
    this.kind = kind;
    this.p = p;
    this.a = a;
    this.b = b;
    this.text = text;
  }

  public static final Arrivals ALWAYS = new Arrivals(Kind.ALWAYS, 1, 0, 1, "always");

  public static Arrivals bernoulli(double p) {
    check(p, "bernoulli:p");
    return new Arrivals(Kind.BERNOULLI, p, 0, 0, "bernoulli:" + p);
  }

  public static Arrivals markov(double a, double b) {
    check(a, "markov:a,b (a)");
    check(b, "markov:a,b (b)");
    return new Arrivals(Kind.MARKOV, 0, a, b, "markov:" + a + "," + b);
  }

  private static void check(double v, String what) {
    if (!(v > 0 && v <= 1)) {
      throw new IllegalArgumentException(what + " must be in (0, 1], got " + v);
    }
  }

  /** Parses "always", "bernoulli:P" or "markov:A,B". */
  public static Arrivals parse(String s) {
    String t = s.trim().toLowerCase(Locale.ROOT);
    try {
      if (t.equals("always")) {
        return ALWAYS;
      }
      if (t.startsWith("bernoulli:")) {
        return bernoulli(Double.parseDouble(t.substring("bernoulli:".length())));
      }
      if (t.startsWith("markov:")) {
        String[] ab = t.substring("markov:".length()).split(",");
        if (ab.length == 2) {
          return markov(Double.parseDouble(ab[0]), Double.parseDouble(ab[1]));
        }
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException("--arrivals '" + s + "' is not always, bernoulli:P or"
        + " markov:A,B");
  }

  public boolean isAlways() {
    return kind == Kind.ALWAYS;
  }

  /** The predicted mean Age of Information with one update of the source block per step. */
  public double predictedMeanAoi() {
    return switch (kind) {
      case ALWAYS -> 1;
      case BERNOULLI -> 1 / p;
      case MARKOV -> 1 + a / ((a + b) * b);
    };
  }

  /** The per-block channel state of one worker. */
  public final class Channel {
    private final boolean[] on;
    private final SplittableRandom rng;

    Channel(int blocks, SplittableRandom rng) {
      this.on = new boolean[blocks];
      this.rng = rng;
      for (int j = 0; j < blocks; j++) {
        on[j] = kind != Kind.MARKOV || rng.nextDouble() < b / (a + b);
      }
    }

    /** Whether a fresh copy of block j arrives this step. */
    public boolean arrives(int j) {
      return switch (kind) {
        case ALWAYS -> true;
        case BERNOULLI -> rng.nextDouble() < p;
        case MARKOV -> {
          on[j] = on[j] ? rng.nextDouble() >= a : rng.nextDouble() < b;
          yield on[j];
        }
      };
    }
  }

  public Channel channel(int blocks, long seed) {
    return new Channel(blocks, new SplittableRandom(seed));
  }

  @Override
  public String toString() {
    return text;
  }
}
