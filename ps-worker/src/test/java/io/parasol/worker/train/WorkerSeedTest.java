package io.parasol.worker.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.parasol.worker.data.Batches;
import io.parasol.worker.data.Dataset;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class WorkerSeedTest {

  private static long[] draws(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    long[] v = new long[64];
    for (int i = 0; i < v.length; i++) {
      v[i] = r.nextLong();
    }
    return v;
  }

  /** Job seeds s and s + 1 used to give each worker the same stream, one draw apart. */
  @Test
  void neighbouringJobSeeds_giveWorkersUnrelatedStreams() {
    for (long seed = 0; seed < 20; seed++) {
      for (int worker = 0; worker < 4; worker++) {
        Set<Long> a = new HashSet<>();
        for (long v : draws(TrainingLoop.workerSeed(seed, worker))) {
          a.add(v);
        }
        for (long v : draws(TrainingLoop.workerSeed(seed + 1, worker))) {
          assertThat(a).as("seed %d worker %d", seed + 1, worker).doesNotContain(v);
        }
        for (long v : draws(TrainingLoop.workerSeed(seed, worker + 1))) {
          assertThat(a).as("seed %d worker %d", seed, worker + 1).doesNotContain(v);
        }
      }
    }
  }

  @Test
  void batchOrders_ofNeighbouringSeeds_differ() {
    int n = 200;
    float[] x = new float[n];
    float[] y = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = i;
    }
    Dataset data = new Dataset(n, 1, x, y, 0);
    float[] a = new float[n];
    float[] b = new float[n];
    new Batches(data, n, TrainingLoop.workerSeed(1, 0)).nextInto(a, new float[n]);
    new Batches(data, n, TrainingLoop.workerSeed(2, 0)).nextInto(b, new float[n]);
    int same = 0;
    for (int i = 0; i < n; i++) {
      same += a[i] == b[i] ? 1 : 0;
    }
    assertThat(same).isLessThan(10);
  }
}
