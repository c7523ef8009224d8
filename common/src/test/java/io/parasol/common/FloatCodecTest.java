package io.parasol.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class FloatCodecTest {
  @Test
  void encode_isLittleEndianFloat32() {
    ByteString b = FloatCodec.encode(new float[] {1.0f});
    // 1.0f = 0x3F800000, little-endian bytes 00 00 80 3F.
    assertThat(b.toByteArray()).containsExactly(0x00, 0x00, 0x80, 0x3F);
  }

  @Test
  void roundTrip_preservesEveryBitPattern() {
    SplittableRandom rng = new SplittableRandom(3);
    float[] v = new float[10_000];
    for (int i = 0; i < v.length; i++) {
      v[i] = Float.intBitsToFloat(rng.nextInt());
    }
    float[] back = FloatCodec.decode(FloatCodec.encode(v));
    for (int i = 0; i < v.length; i++) {
      assertThat(Float.floatToRawIntBits(back[i])).isEqualTo(Float.floatToRawIntBits(v[i]));
    }
  }

  @Test
  void roundTrip_ofASliceIntoAnOffset() {
    float[] src = {1, 2, 3, 4, 5};
    float[] dst = new float[6];
    FloatCodec.decode(FloatCodec.encode(src, 1, 3), dst, 2);
    assertThat(dst).containsExactly(0, 0, 2, 3, 4, 0);
  }

  @Test
  void decode_rejectsPartialFloats() {
    assertThatThrownBy(() -> FloatCodec.decode(ByteString.copyFrom(new byte[3])))
        .hasMessageContaining("not a whole number of float32 values");
  }

  @Test
  void allFinite_spotsNanAndInfinity() {
    assertThat(FloatCodec.allFinite(new float[] {1, 2}, 0, 2)).isTrue();
    assertThat(FloatCodec.allFinite(new float[] {1, Float.NaN}, 0, 2)).isFalse();
    assertThat(FloatCodec.allFinite(new float[] {Float.NEGATIVE_INFINITY, 1}, 1, 1)).isTrue();
  }
}
