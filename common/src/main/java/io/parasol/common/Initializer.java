package io.parasol.common;

import com.google.protobuf.ByteString;
import io.parasol.proto.v1.BlockSpec;
import io.parasol.proto.v1.InitKind;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

/**
 * Initial block values, a pure function of (seed, block id, rule), or the explicit values a
 * block spec carries ({@link InitKind#INIT_VALUES}). Shards initialise their blocks with it; a
 * worker or a local reference loop computes the same vector without a server.
 */
public final class Initializer {
  private Initializer() {}

  /** Fills {@code dst[offset, offset+length)} with the spec'd block's initial values. */
  public static void fill(long seed, BlockSpec block, float[] dst, int offset) {
    if (block.getInit() == InitKind.INIT_VALUES) {
      float[] v = specValues(block);
      System.arraycopy(v, 0, dst, offset, v.length);
    } else {
      fill(seed, block.getId(), block.getInit(), block.getInitScale(), dst, offset,
          block.getLength());
    }
  }

  /**
   * Fills {@code dst[offset, offset+length)} with block {@code blockId}'s initial values under a
   * seeded rule ({@link InitKind#INIT_VALUES} needs the block's values: use the other
   * overloads).
   */
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
      if (b.values() != null) {
        System.arraycopy(b.values(), 0, x, b.offset(), b.length());
      } else {
        fill(seed, b.id(), b.init(), b.initScale(), x, b.offset(), b.length());
      }
    }
    return x;
  }

  /** Little-endian float32 bytes of {@code values}. */
  public static ByteString toBytes(float[] values) {
    ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    buf.asFloatBuffer().put(values);
    return ByteString.copyFrom(buf.array());
  }

  /**
   * The explicit initial values of an {@link InitKind#INIT_VALUES} block spec, else null.
   *
   * @throws IllegalArgumentException if they are not 4 * length bytes
   */
  public static float[] specValues(BlockSpec block) {
    if (block.getInit() != InitKind.INIT_VALUES) {
      return null;
    }
    ByteString bytes = block.getInitValues();
    if (bytes.size() != 4L * block.getLength()) {
      throw new IllegalArgumentException("block " + block.getId() + " has " + bytes.size()
          + " bytes of initial values, expected " + 4L * block.getLength());
    }
    float[] v = new float[block.getLength()];
    bytes.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
    return v;
  }

  private static SplittableRandom rng(long seed, int blockId) {
    // The block id salts the seed's streams (Seeds: two seeds' streams are unrelated).
    return new SplittableRandom(Seeds.base(seed) + blockId * 0xBF58476D1CE4E5B9L + 1);
  }

  private static double gaussian(SplittableRandom rng) {
    // Box-Muller; deterministic, unlike Random.nextGaussian's cached pair across calls.
    double u1 = rng.nextDouble();
    double u2 = rng.nextDouble();
    return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  }
}
