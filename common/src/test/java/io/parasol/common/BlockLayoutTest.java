package io.parasol.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.parasol.proto.v1.InitKind;
import java.util.List;
import org.junit.jupiter.api.Test;

class BlockLayoutTest {
  private static BlockLayout.Tensor t(String name, int size) {
    return new BlockLayout.Tensor(name, size, InitKind.INIT_ZEROS, 0f);
  }

  @Test
  void of_splitsLargeTensorsAndKeepsLayersAligned() {
    BlockLayout l = BlockLayout.of(List.of(t("W", 640), t("b", 10)), 2, 0);
    // target = ceil(650 / 8) = 82 floats: W in 8 pieces of 80, b alone.
    assertThat(l.numBlocks()).isEqualTo(9);
    assertThat(l.dimension()).isEqualTo(650);
    int offset = 0;
    for (BlockLayout.Block b : l.blocks()) {
      assertThat(b.offset()).isEqualTo(offset);
      offset += b.length();
    }
    assertThat(l.block(0).name()).isEqualTo("W[0:80]");
    assertThat(l.block(8).name()).isEqualTo("b");
    assertThat(l.block(8).length()).isEqualTo(10);
  }

  @Test
  void of_balancesShards() {
    BlockLayout l = BlockLayout.of(List.of(t("W1", 1000), t("b1", 10), t("W2", 300)), 3, 0);
    long[] load = new long[3];
    for (BlockLayout.Block b : l.blocks()) {
      load[b.shard()] += b.length();
    }
    long max = Math.max(load[0], Math.max(load[1], load[2]));
    long min = Math.min(load[0], Math.min(load[1], load[2]));
    assertThat(max - min).isLessThanOrEqualTo(l.blocks().stream()
        .mapToInt(BlockLayout.Block::length).max().orElseThrow());
  }

  @Test
  void of_isDeterministic() {
    List<BlockLayout.Tensor> ts = List.of(t("W", 12345), t("b", 7), t("V", 999));
    assertThat(BlockLayout.of(ts, 4, 0).blocks()).isEqualTo(BlockLayout.of(ts, 4, 0).blocks());
  }

  @Test
  void fromSpecs_roundTrips() {
    BlockLayout l = BlockLayout.of(List.of(t("W", 100), t("b", 5)), 2, 16);
    BlockLayout back = BlockLayout.fromSpecs(l.toSpecs(null), 2);
    assertThat(back.blocks()).isEqualTo(l.blocks());
    assertThat(l.blocks()).allMatch(b -> b.length() <= 16);
  }

  @Test
  void of_rejectsBadArguments() {
    assertThatThrownBy(() -> BlockLayout.of(List.of(), 1, 0))
        .hasMessageContaining("at least one tensor");
    assertThatThrownBy(() -> BlockLayout.of(List.of(t("W", 3)), 0, 0))
        .hasMessageContaining("shards must be positive");
  }

  @Test
  void partitioner_assignsLargestFirstToLeastLoaded() {
    assertThat(Partitioner.assign(new int[] {5, 10, 3, 3}, 2)).containsExactly(1, 0, 1, 1);
  }
}
