package io.parasol.common;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * Maps blocks to shards so that every shard holds about the same number of floats.
 *
 * <p>Greedy longest-processing-time: blocks in decreasing length (ties by id) each go to the
 * least loaded shard (ties by lowest index). Deterministic: every process computes the same
 * assignment from the same lengths.
 */
public final class Partitioner {
  private Partitioner() {}

  /** Returns the owning shard of each block. */
  public static int[] assign(int[] lengths, int numShards) {
    if (numShards <= 0) {
      throw new IllegalArgumentException("shards must be positive, got " + numShards);
    }
    Integer[] order = IntStream.range(0, lengths.length).boxed().toArray(Integer[]::new);
    Arrays.sort(order, Comparator.<Integer>comparingInt(i -> -lengths[i]).thenComparingInt(i -> i));
    long[] load = new long[numShards];
    int[] count = new int[numShards];
    int[] owner = new int[lengths.length];
    for (int i : order) {
      int best = 0;
      for (int s = 1; s < numShards; s++) {
        if (load[s] < load[best] || (load[s] == load[best] && count[s] < count[best])) {
          best = s;
        }
      }
      owner[i] = best;
      load[best] += lengths[i];
      count[best]++;
    }
    return owner;
  }
}
