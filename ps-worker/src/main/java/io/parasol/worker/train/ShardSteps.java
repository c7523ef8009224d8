package io.parasol.worker.train;

import io.parasol.common.BlockLayout;

/** Per-shard step arithmetic of {@link TrainingLoop}: steps from versions, and their blocks. */
final class ShardSteps {
  private ShardSteps() {}

  /**
   * The blocks (of {@code blocks}, null: all) whose shard's step is below {@code end}; the
   * same array when every shard is.
   */
  static int[] blocksOfShardsBelow(BlockLayout layout, long[] steps, long end, int[] blocks) {
    boolean anyDone = false;
    for (long st : steps) {
      anyDone |= st >= end;
    }
    if (!anyDone) {
      return blocks;
    }
    java.util.List<Integer> keep = new java.util.ArrayList<>();
    for (var b : layout.blocks()) {
      boolean wanted = blocks == null;
      if (!wanted) {
        for (int id : blocks) {
          wanted |= id == b.id();
        }
      }
      if (wanted && steps[b.shard()] >= 0 && steps[b.shard()] < end) {
        keep.add(b.id());
      }
    }
    return keep.stream().mapToInt(Integer::intValue).toArray();
  }

  /** Per shard, the smallest version of its blocks (-1 for a shard without blocks). */
  static long[] shardSteps(BlockLayout layout, long[] versions) {
    int shards = layout.numShards();
    long[] steps = new long[shards];
    java.util.Arrays.fill(steps, Long.MAX_VALUE);
    for (var b : layout.blocks()) {
      steps[b.shard()] = Math.min(steps[b.shard()], versions[b.id()]);
    }
    for (int s = 0; s < shards; s++) {
      if (steps[s] == Long.MAX_VALUE) {
        steps[s] = -1;
      }
    }
    return steps;
  }

  /** {@code step} for each of the layout's shards. */
  static long[] uniform(BlockLayout layout, long step) {
    long[] steps = new long[layout.numShards()];
    java.util.Arrays.fill(steps, step);
    return steps;
  }

  /** The smallest entry that is >= 0. */
  static long minPositive(long[] v) {
    long m = Long.MAX_VALUE;
    for (long x : v) {
      if (x >= 0) {
        m = Math.min(m, x);
      }
    }
    return m;
  }

  static long min(long[] v) {
    long m = Long.MAX_VALUE;
    for (long x : v) {
      m = Math.min(m, x);
    }
    return m;
  }

  static long max(long[] v) {
    long m = Long.MIN_VALUE;
    for (long x : v) {
      m = Math.max(m, x);
    }
    return m;
  }
}
