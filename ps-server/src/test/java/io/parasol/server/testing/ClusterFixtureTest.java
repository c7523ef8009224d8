package io.parasol.server.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.parasol.server.core.Lifecycle;
import org.junit.jupiter.api.Test;

class ClusterFixtureTest {
  @Test
  void startsServingShardsOnLoopbackAndStopsThem() throws Exception {
    ClusterFixture c = ClusterFixture.start(2);
    try (c) {
      assertThat(c.addresses()).hasSize(2).allMatch(a -> a.startsWith("127.0.0.1:"));
      assertThat(c.server(1).lifecycle()).isEqualTo(Lifecycle.SERVING);
      assertThat(c.core(1).shardIndex()).isEqualTo(1);
    }
    assertThat(c.server(0).lifecycle()).isEqualTo(Lifecycle.STOPPED);
  }
}
