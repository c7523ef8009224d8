package io.parasol.common;

import static org.assertj.core.api.Assertions.assertThat;

import io.parasol.proto.v1.InitKind;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SeedsTest {

  @Test
  void defaultSeed_keepsItsStreams() {
    assertThat(Seeds.key(1)).isEqualTo(1);
    assertThat(Seeds.base(1)).isEqualTo(0x9E3779B97F4A7C15L);
  }

  @Test
  void distinctSeeds_haveDistinctKeys() {
    Set<Long> keys = new HashSet<>();
    for (long s = -1000; s <= 1000; s++) {
      keys.add(Seeds.key(s));
    }
    assertThat(keys).hasSize(2001);
  }

  /**
   * Seeds s and s + 1 used to start each block's stream one draw apart: seed s + 1's values
   * were seed s's, shifted by one. No initial value of one seed may now turn up among the
   * other's.
   */
  @Test
  void neighbouringSeeds_drawUnrelatedInitialValues() {
    int n = 1000;
    for (long seed = 0; seed < 20; seed++) {
      for (int block = 0; block < 3; block++) {
        float[] a = new float[n];
        float[] b = new float[n];
        Initializer.fill(seed, block, InitKind.INIT_UNIFORM, 1f, a, 0, n);
        Initializer.fill(seed + 1, block, InitKind.INIT_UNIFORM, 1f, b, 0, n);
        Set<Float> seen = new HashSet<>();
        for (float v : a) {
          seen.add(v);
        }
        int shared = 0;
        for (float v : b) {
          shared += seen.contains(v) ? 1 : 0;
        }
        assertThat(shared).as("values of seed %d block %d also drawn by seed %d", seed + 1,
            block, seed).isLessThanOrEqualTo(1);
      }
    }
  }
}
