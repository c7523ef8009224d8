package io.parasol.common;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Which workers take part in a round of local-update SGD with partial participation (the
 * federated-learning variant: McMahan et al., "Communication-Efficient Learning of Deep Networks
 * from Decentralized Data", AISTATS 2017). A pure function of (seed, round), so shards and
 * workers agree on the sample without talking.
 */
public final class Participation {
  private Participation() {}

  /** Number of workers per round: max(1, round(f·m)); every worker when f is 0 or 1. */
  public static int count(int numWorkers, float fraction) {
    if (fraction <= 0 || fraction >= 1) {
      return numWorkers;
    }
    return Math.max(1, Math.round(fraction * numWorkers));
  }

  /** The sorted worker indices sampled for {@code round}. */
  public static int[] sample(long seed, long round, int numWorkers, float fraction) {
    int k = count(numWorkers, fraction);
    int[] all = new int[numWorkers];
    for (int i = 0; i < numWorkers; i++) {
      all[i] = i;
    }
    if (k == numWorkers) {
      return all;
    }
    SplittableRandom rng = new SplittableRandom(seed ^ (0xD1B54A32D192ED03L * (round + 1)));
    for (int i = 0; i < k; i++) {
      int j = i + rng.nextInt(numWorkers - i);
      int t = all[i];
      all[i] = all[j];
      all[j] = t;
    }
    int[] out = Arrays.copyOf(all, k);
    Arrays.sort(out);
    return out;
  }

  /** Whether {@code worker} is sampled for {@code round}. */
  public static boolean includes(long seed, long round, int numWorkers, float fraction,
      int worker) {
    return Arrays.binarySearch(sample(seed, round, numWorkers, fraction), worker) >= 0;
  }
}
