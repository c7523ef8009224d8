package io.parasol.common;

/**
 * Seeds of the random streams that derive from a job's {@code --seed}: per block (initial
 * values) and per worker (batch order, delays).
 *
 * <p>A stream is a {@link java.util.SplittableRandom} started at {@code base + salt}, where
 * {@code base = key(seed) × γ} (γ the generator's own increment, 0x9E3779B97F4A7C15). With
 * {@code key(seed) = seed}, as before, the streams of seeds s and s + 1 were the same stream
 * one draw apart: every block of seed 2 started with seed 1's second value, so runs over
 * "different" seeds shared their initial weights and batch orders, shifted by one, and an
 * average over seeds was little more than one run. {@code key} now mixes the seed (a
 * bijection, so distinct seeds keep distinct streams), which puts the streams of any two seeds
 * an unrelated distance apart; it maps seed 1, the default, to 1, so runs at the default seed
 * draw what they drew before.
 */
public final class Seeds {
  private Seeds() {}

  /** The generator's increment γ (the golden ratio, as {@link java.util.SplittableRandom}). */
  private static final long GAMMA = 0x9E3779B97F4A7C15L;

  /** Where the streams of {@code seed} start, before each stream's own salt is added. */
  public static long base(long seed) {
    return key(seed) * GAMMA;
  }

  /** A bijective mix of the seed with {@code key(1) == 1}. */
  static long key(long seed) {
    return mix64(seed) ^ mix64(1) ^ 1;
  }

  /** Stafford's variant 13 of the MurmurHash3 finaliser, a bijection of 64-bit values. */
  private static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
