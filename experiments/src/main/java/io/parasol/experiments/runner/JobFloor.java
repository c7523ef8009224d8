package io.parasol.experiments.runner;

import io.parasol.common.BlockLayout;
import io.parasol.common.ErrorFloor;
import io.parasol.proto.v1.Mode;
import io.parasol.server.LocalCluster;
import io.parasol.worker.train.TrainingLoop;
import java.util.List;

/**
 * The job-wide quantities of the error floor Σ_i (α_i/κ_i)·Σ_{j≠i} L_ij·avg Δ_ij, gathered from
 * the embedded shards' trackers and the workers' results after a run.
 *
 * <p>n, the job's global iterations: in async/ssp every push that a shard applied is one
 * iteration (the workers count them; a push that reaches several shards is still one), in
 * sync/local every round is one (the shards count them; every round touches every shard, so
 * the largest shard count is the job's). κ_i = ν_i / n, with ν_i the updates block i's shard
 * applied. L_ij is the largest of the workers' estimates where they estimated
 * ({@code --estimate-lipschitz}), else 1. avg Δ_ij is the mean over the updates of block i.
 *
 * @param iterations n
 * @param kappa κ_i by block id (NaN when n = 0)
 * @param errorFloor the term, 0 before any Δ sample
 * @param lipschitz L_ij by block ids, or null when not estimated (L_ij = 1)
 */
public record JobFloor(long iterations, double[] kappa, double errorFloor,
    double[][] lipschitz) {

  /** Gathers the figures of a finished run of job {@code jobName}. */
  public static JobFloor of(LocalCluster cluster, BlockLayout layout, Mode mode,
      List<TrainingLoop.Result> results, String jobName) {
    int d = layout.numBlocks();
    long[] updates = new long[d];
    double[] alpha = new double[d];
    double[][] aoi = new double[d][d];
    for (double[] row : aoi) {
      java.util.Arrays.fill(row, Double.NaN);
    }
    long shardMax = 0;
    for (var server : cluster.servers()) {
      var t = server.core().tracker(jobName);
      if (t == null) {
        continue;
      }
      shardMax = Math.max(shardMax, t.iterations());
      for (var b : layout.blocksOf(server.core().shardIndex())) {
        int i = b.id();
        updates[i] = t.updates(i);
        alpha[i] = t.alpha(i);
        for (int j = 0; j < d; j++) {
          aoi[i][j] = t.meanAoi(i, j);
        }
      }
    }
    boolean rounds = mode == Mode.MODE_SYNC || mode == Mode.MODE_LOCAL;
    long n = rounds ? shardMax
        : results.stream().mapToLong(TrainingLoop.Result::iterations).sum();
    double[] kappa = new double[d];
    for (int i = 0; i < d; i++) {
      kappa[i] = n == 0 ? Double.NaN : (double) updates[i] / n;
    }
    double[][] lip = lipschitz(results, d);
    return new JobFloor(n, kappa, ErrorFloor.term(alpha, kappa, lip, aoi), lip);
  }

  /** The largest estimate of each L_ij over the workers; null when none estimated. */
  static double[][] lipschitz(List<TrainingLoop.Result> results, int d) {
    double[][] out = null;
    for (TrainingLoop.Result r : results) {
      if (r.lipschitz() == null) {
        continue;
      }
      if (out == null) {
        out = new double[d][d];
        for (double[] row : out) {
          java.util.Arrays.fill(row, Double.NaN);
        }
      }
      for (int i = 0; i < d; i++) {
        for (int j = 0; j < d; j++) {
          double v = r.lipschitz()[i][j];
          if (!Double.isNaN(v) && (Double.isNaN(out[i][j]) || v > out[i][j])) {
            out[i][j] = v;
          }
        }
      }
    }
    if (out != null) {
      // A pair no worker probed yet counts with the default 1.
      for (double[] row : out) {
        for (int j = 0; j < row.length; j++) {
          if (Double.isNaN(row[j])) {
            row[j] = 1.0;
          }
        }
      }
    }
    return out;
  }

  /** κ_i as a list, for the summary map. */
  public List<Double> kappaList() {
    return java.util.Arrays.stream(kappa).boxed().toList();
  }
}
