package io.parasol.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.parasol.common.BlockLayout;
import io.parasol.common.Refusals;
import io.parasol.proto.v1.BlockResult;
import io.parasol.proto.v1.InitKind;
import io.parasol.proto.v1.PushResponse;
import io.parasol.proto.v1.RestoreRecord;
import io.parasol.proto.v1.RestoredBlock;
import io.parasol.proto.v1.StatusResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The updates a shard rollback lost as one client sees it: the arithmetic
 * ({@link ShardRollback#updatesLost}, {@link ShardRollback#jobUpdatesLost}) and what
 * {@link Incarnations} remembers of each block's versions. No processes, no network.
 */
class RollbackLossTest {
  /** 4 blocks of 2 floats over 2 shards. */
  private static final BlockLayout LAYOUT = BlockLayout.of(
      List.of(new BlockLayout.Tensor("w", 8, InitKind.INIT_ZEROS, 0f)), 2, 2);

  private static ShardRollback event(int shard, long incarnation, long lost) {
    return new ShardRollback(shard, 1, incarnation, ShardRollback.Kind.RESTARTED, "test",
        Map.of(), Map.of(), lost);
  }

  @Test
  void updatesLost_isTheMostAnyBlockLost_neverNegative() {
    assertThat(ShardRollback.updatesLost(Map.of(0, 12L, 2, 30L), Map.of(0, 10L, 2, 25L)))
        .isEqualTo(5);
    // A block the restarted shard is ahead of (other workers pushed since) lost nothing.
    assertThat(ShardRollback.updatesLost(Map.of(0, 12L, 2, 30L), Map.of(0, 14L, 2, 31L)))
        .isZero();
    // Restored without the job: every block back at 0.
    assertThat(ShardRollback.updatesLost(Map.of(0, 12L, 2, 30L), Map.of())).isEqualTo(30);
    assertThat(ShardRollback.updatesLost(Map.of(), Map.of(0, 3L))).isZero();
  }

  @Test
  void resolved_setsTheLossAndTheLineSaysIt() {
    ShardRollback r = new ShardRollback(0, 0xa, 0xb, ShardRollback.Kind.PUSH_REFUSED,
        "refused", Map.of(0, 42L, 2, 40L), Map.of(), ShardRollback.UNKNOWN);
    assertThat(r.lossKnown()).isFalse();
    assertThat(r.line()).endsWith("refused; updates lost unknown");
    ShardRollback done = r.resolved(Map.of(0, 40L, 2, 39L));
    assertThat(done.updatesLost()).isEqualTo(2);
    assertThat(done.restored()).containsExactly(Map.entry(0, 40L), Map.entry(2, 39L));
    assertThat(done.line()).isEqualTo("shard 0 rolled back (PUSH_REFUSED, incarnation a -> b):"
        + " refused; updates lost 2 (at least; block 0 seen at version 42, restored 40)");
  }

  @Test
  void jobUpdatesLost_takesTheMostAnyWorkerSawPerRestart_andSumsTheRestarts() {
    List<ShardRollback> w0 = List.of(event(0, 7, 3), event(1, 9, 5));
    List<ShardRollback> w1 = List.of(event(0, 7, 4), event(1, 9, ShardRollback.UNKNOWN),
        event(0, 8, 2));
    // Restart 0/7: max(3, 4); restart 1/9: max(5, unknown); restart 0/8: 2.
    assertThat(ShardRollback.jobUpdatesLost(List.of(w0, w1))).isEqualTo(4 + 5 + 2);
    assertThat(ShardRollback.jobUpdatesLost(List.of())).isZero();
  }

  @Test
  void incarnations_rememberTheHighestVersionsSeen_untilARollbackTakesThem() {
    Incarnations inc = new Incarnations(LAYOUT);
    int[] mine = LAYOUT.blocksOf(0).stream().mapToInt(BlockLayout.Block::id).toArray();
    long[] pulled = new long[LAYOUT.numBlocks()];
    pulled[mine[0]] = 5;
    pulled[mine[1]] = 6;
    inc.pulled(0, 100, pulled);
    inc.acked(0, ack(100, mine[0], 9));
    pulled[mine[0]] = 7; // an older read than the ack: the highest stays
    inc.pulled(0, 100, pulled);
    assertThat(inc.seen(0)).containsExactly(Map.entry(mine[0], 9L), Map.entry(mine[1], 6L));
    assertThat(inc.drain()).isEmpty();

    // The restarted shard answers a pull at its restored versions.
    long[] after = new long[LAYOUT.numBlocks()];
    after[mine[0]] = 4;
    after[mine[1]] = 4;
    inc.pulled(0, 200, after);
    List<ShardRollback> events = inc.drain();
    assertThat(events).singleElement().satisfies(r -> {
      assertThat(r.kind()).isEqualTo(ShardRollback.Kind.RESTARTED);
      assertThat(r.seenBefore()).containsExactly(Map.entry(mine[0], 9L), Map.entry(mine[1], 6L));
      assertThat(r.resolved(Map.of(mine[0], 4L, mine[1], 4L)).updatesLost()).isEqualTo(5);
    });
    assertThat(inc.seen(0)).as("the new incarnation's versions").containsExactly(
        Map.entry(mine[0], 4L), Map.entry(mine[1], 4L));
    // The other shard's blocks were never touched.
    assertThat(inc.seen(1).values()).containsOnly(0L);
  }

  @Test
  void refusedPush_recordsTheVersionsSeen_once() {
    Incarnations inc = new Incarnations(LAYOUT);
    int block = LAYOUT.blocksOf(1).get(0).id();
    inc.acked(1, ack(100, block, 12));
    Throwable refusal = Refusals.status(Status.Code.FAILED_PRECONDITION, "rolled back",
        Refusals.SHARD_ROLLED_BACK, Map.of("incarnation", "200"));
    Throwable t = inc.classify(1, refusal);
    assertThat(t).isInstanceOf(ShardRolledBackException.class);
    assertThat(((ShardRolledBackException) t).rollback().seenBefore()).containsEntry(block, 12L);
    // The same refusal again is no news: no second event, nothing seen taken.
    inc.classify(1, refusal);
    assertThat(inc.drain()).singleElement().satisfies(r -> {
      assertThat(r.kind()).isEqualTo(ShardRollback.Kind.PUSH_REFUSED);
      assertThat(r.seenBefore()).containsEntry(block, 12L);
    });
    assertThat(inc.total()).isEqualTo(1);
  }

  @Test
  void lateAnswerOfTheOldIncarnation_doesNotCountForTheNewOne() {
    Incarnations inc = new Incarnations(LAYOUT);
    int block = LAYOUT.blocksOf(0).get(0).id();
    inc.acked(0, ack(100, block, 3));
    inc.observe(0, 200);
    assertThat(inc.seen(0)).containsEntry(block, 0L);
    inc.acked(0, ack(200, block, 1));
    assertThat(inc.seen(0)).containsEntry(block, 1L);
  }

  @Test
  void restoredVersions_fromTheStatusRestoreRecord_orNoneWithoutOne() {
    StatusResponse restored = StatusResponse.newBuilder().setInitialised(true)
        .setRestore(RestoreRecord.newBuilder()
            .addBlocks(RestoredBlock.newBuilder().setBlockId(1).setVersion(40))
            .addBlocks(RestoredBlock.newBuilder().setBlockId(3).setVersion(38)))
        .build();
    assertThat(RollbackLosses.restored(restored)).containsExactly(Map.entry(1, 40L),
        Map.entry(3, 38L));
    assertThat(RollbackLosses.restored(StatusResponse.newBuilder().setInitialised(true)
        .build())).isEmpty();
    assertThat(RollbackLosses.restored(StatusResponse.getDefaultInstance())).isEmpty();
  }

  private static PushResponse ack(long incarnation, int block, long version) {
    return PushResponse.newBuilder().setIncarnation(incarnation)
        .addBlocks(BlockResult.newBuilder().setBlockId(block).setVersion(version)).build();
  }
}
