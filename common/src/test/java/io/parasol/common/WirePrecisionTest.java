package io.parasol.common;

import static org.assertj.core.api.Assertions.assertThat;

import io.parasol.proto.v1.ValueEncoding;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The 16-bit wire encodings ({@code --wire bf16|fp16}): every value comes back as the nearest
 * representable one, so the error is at most half a unit in the last place: a relative error
 * of 2^-8 for bfloat16 (8 significant bits) and 2^-11 for binary16 (11 bits) in its normal
 * range, and an absolute 2^-25 below it.
 */
class WirePrecisionTest {
  private static final int N = 200_000;

  private static float[] values(long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    float[] v = new float[N];
    for (int i = 0; i < N; i++) {
      // Magnitudes from 1e-6 to 1e4, both signs: the range of weights and gradients.
      double mag = Math.pow(10, -6 + 10 * rng.nextDouble());
      v[i] = (float) (rng.nextBoolean() ? mag : -mag);
    }
    return v;
  }

  @Test
  void bf16_relativeErrorIsAtMostHalfAnUlp_andEveryValueIsTheNearest() {
    float[] v = values(11);
    float[] back = roundTrip(v, ValueEncoding.VALUE_ENCODING_BF16);
    double worst = 0;
    for (int i = 0; i < N; i++) {
      double err = Math.abs((double) back[i] - v[i]);
      worst = Math.max(worst, err / Math.abs(v[i]));
      short h = FloatCodec.floatToBf16(v[i]);
      for (int d = -1; d <= 1; d += 2) {
        float neighbour = FloatCodec.bf16ToFloat((short) (h + d));
        assertThat(Math.abs((double) neighbour - v[i])).as("value %s", v[i])
            .isGreaterThanOrEqualTo(err);
      }
    }
    assertThat(worst).isLessThanOrEqualTo(Math.scalb(1.0, -8));
    assertThat(worst).isGreaterThan(Math.scalb(1.0, -9)); // the bound is tight, not loose
  }

  @Test
  void fp16_errorIsAtMostHalfAnUlp_andEveryValueIsTheNearest() {
    float[] v = values(12);
    float[] back = roundTrip(v, ValueEncoding.VALUE_ENCODING_FP16);
    double worstRelative = 0;
    for (int i = 0; i < N; i++) {
      float x = Math.max(-65504f, Math.min(65504f, v[i]));
      double err = Math.abs((double) back[i] - x);
      if (Math.abs(x) >= 0x1p-14f) {
        worstRelative = Math.max(worstRelative, err / Math.abs(x));
      } else {
        assertThat(err).as("subnormal %s", x).isLessThanOrEqualTo(Math.scalb(1.0, -25));
      }
      short h = FloatCodec.floatToHalf(x);
      for (int d = -1; d <= 1; d += 2) {
        int bits = (h & 0xffff) + d;
        if ((bits & 0x7fff) >= 0x7c00 || (bits & 0xffff) == 0x8000 || bits < 0) {
          continue; // past the finite range, or across zero
        }
        float neighbour = FloatCodec.halfToFloat((short) bits);
        assertThat(Math.abs((double) neighbour - x)).as("value %s", x)
            .isGreaterThanOrEqualTo(err);
      }
    }
    assertThat(worstRelative).isLessThanOrEqualTo(Math.scalb(1.0, -11));
    assertThat(worstRelative).isGreaterThan(Math.scalb(1.0, -12));
  }

  @Test
  void specialValues_survive() {
    float[] v = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1e30f,
        -1e30f, 70000f};
    float[] bf = roundTrip(v, ValueEncoding.VALUE_ENCODING_BF16);
    assertThat(Float.floatToRawIntBits(bf[1])).isEqualTo(Float.floatToRawIntBits(-0f));
    assertThat(bf[2]).isNaN();
    assertThat(bf[3]).isEqualTo(Float.POSITIVE_INFINITY);
    assertThat(bf[4]).isEqualTo(Float.NEGATIVE_INFINITY);
    assertThat(bf[5]).isCloseTo(1e30f, org.assertj.core.data.Percentage.withPercentage(0.4));
    float[] h = roundTrip(v, ValueEncoding.VALUE_ENCODING_FP16);
    assertThat(h[2]).isNaN();
    assertThat(h[3]).isEqualTo(Float.POSITIVE_INFINITY);
    assertThat(h[4]).isEqualTo(Float.NEGATIVE_INFINITY);
    assertThat(h[5]).isEqualTo(65504f); // finite values saturate, never become infinite
    assertThat(h[6]).isEqualTo(-65504f);
    assertThat(h[7]).isEqualTo(65504f);
  }

  @Test
  void encodingHalvesTheBytes() {
    float[] v = values(13);
    assertThat(FloatCodec.encode(v, 0, N, ValueEncoding.VALUE_ENCODING_BF16).size())
        .isEqualTo(2 * N);
    assertThat(FloatCodec.encode(v, 0, N, ValueEncoding.VALUE_ENCODING_FP16).size())
        .isEqualTo(2 * N);
    assertThat(FloatCodec.encode(v, 0, N, ValueEncoding.VALUE_ENCODING_FP32).size())
        .isEqualTo(4 * N);
  }

  private static float[] roundTrip(float[] v, ValueEncoding e) {
    float[] back = new float[v.length];
    FloatCodec.decode(FloatCodec.encode(v, 0, v.length, e), e, back, 0);
    return back;
  }
}
