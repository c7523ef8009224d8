package io.parasol.common;

import io.parasol.proto.v1.InitKind;
import java.util.SplittableRandom;

/**
 * Initial block values, a pure function of (seed, block id, rule). Shards initialise their
 * blocks with it; a worker or a local reference loop computes the same vector without a server.
 */
public final class Initializer {
  private Initializer() {}

  /** Fills {@code dst[offset, offset+length)} with block {@code blockId}'s initial values. */
  public static void fill(long seed, int blockId, InitKind kind, float scale, float[] dst,
      int offset, int length) {
    switch (kind) {
      case INIT_ZEROS -> java.util.Arrays.fill(dst, offset, offset + length, 0f);
      case INIT_UNIFORM -> {
        SplittableRandom rng = rng(seed, blockId);
        for (int i = 0; i < length; i++) {
          dst[offset + i] = (float) ((rng.nextDouble() * 2 - 1) * scale);
        }
      }
      case INIT_NORMAL -> {
        SplittableRandom rng = rng(seed, blockId);
        for (int i = 0; i < length; i++) {
          dst[offset + i] = (float) (gaussian(rng) * scale);
        }
      }
      default -> throw new IllegalArgumentException("unknown init kind " + kind);
    }
  }

  /** The whole flat initial vector of a layout. */
  public static float[] initialVector(BlockLayout layout, long seed) {
    float[] x = new float[layout.dimension()];
    for (BlockLayout.Block b : layout.blocks()) {
      fill(seed, b.id(), b.init(), b.initScale(), x, b.offset(), b.length());
    }
    return x;
  }

  private static SplittableRandom rng(long seed, int blockId) {
    // Mix the block id in so blocks get independent streams.
    return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + blockId * 0xBF58476D1CE4E5B9L + 1);
  }

  private static double gaussian(SplittableRandom rng) {
    // Box-Muller; deterministic, unlike Random.nextGaussian's cached pair across calls.
    double u1 = rng.nextDouble();
    double u2 = rng.nextDouble();
    return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  }
}
