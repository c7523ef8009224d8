package io.parasol.server.core;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.parasol.common.ErrorFloor;
import io.parasol.common.MetricNames;
import io.parasol.proto.v1.Mode;
import io.parasol.server.metrics.ShardMetrics;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.IntToLongFunction;

/**
 * Staleness and Age of Information of the updates a shard applies: the quantities in the error
 * floor Σ_i (α_i/κ_i)·Σ_{j≠i} L_ij·avg_k Δ_ij(k) of Redder, Ramaswamy and Karl, "Rate of
 * Convergence Analysis of Constant Step-Size Distributed Stochastic Gradient Descent" (2022).
 *
 * <ul>
 *   <li>τ, per applied update of block i: ν_i(now) − ν_i(read).
 *   <li>updates per block ν_i, and n: the global iterations this shard applied (async/ssp: each
 *       push that updated at least one block; sync/local: each completed round). Hence
 *       κ_i = ν_i / n, the talk's liminf ν(n,i)/n: the fraction of iterations that update block
 *       i (1 when every push updates every block, 1/m under round-robin ownership over m
 *       workers). It is not a share over blocks. A shard sees only the iterations that touch
 *       it, so this is the job's κ_i when every iteration reaches this shard (one shard, every
 *       worker updating every block, sync, local); otherwise it is the fraction among the
 *       iterations that reached this shard, and the job's figure divides ν_i by the job's
 *       iteration count (the workers' applied pushes), as the run summary and the
 *       {@code parasol:block_kappa} recording rule do.
 *   <li>Δ_ij, per applied update of block i and every other block j: how many updates block j
 *       had received since the version of j the worker read. Exact where j lives on this shard;
 *       for a block on another shard, measured against the freshest version of j that this
 *       shard has seen in any push (pushes carry the versions their worker read of every
 *       block), so it is a lower bound.
 * </ul>
 *
 * <p>Exact counts are kept here for tests and the Status call; the same figures go to
 * Micrometer. Thread safety: every method may be called concurrently.
 */
public final class StalenessTracker {
  /** Exact τ counts are kept for 0..HISTOGRAM_SIZE-2; the last entry collects the rest. */
  public static final int HISTOGRAM_SIZE = 65;

  private final int numBlocks;
  private final boolean[] owned;
  private final AtomicLongArray tauCounts = new AtomicLongArray(HISTOGRAM_SIZE);
  private final AtomicLongArray updates;
  /** Row i (owned), column j: sum and count of Δ_ij. */
  private final AtomicLongArray aoiSum;
  private final AtomicLongArray aoiCount;
  /** Freshest version seen of each block owned elsewhere. */
  private final AtomicLongArray known;
  private final DistributionSummary[] staleness;
  private final DistributionSummary[] aoi;
  private final AtomicLong tauSum = new AtomicLong();
  private final AtomicLong tauCount = new AtomicLong();
  private final AtomicLong tauMax = new AtomicLong();
  private final AtomicLong iterations = new AtomicLong();
  private final double[] alpha;
  private final int[] ownedIds;
  private final boolean rounds;

  /**
   * @param blocks the job's blocks on this shard (ids, step sizes α_i)
   * @param registry where the meters go
   * @param base the tags every meter carries (shard and job)
   * @param jobMode the job's mode: sync/local iterate in rounds, async/ssp in pushes
   */
  StalenessTracker(BlockStore blocks, MeterRegistry registry, Tags base, Mode jobMode) {
    this(blocks.numBlocks(), blocks.ownedIds, registry, base, jobMode, stepSizes(blocks));
  }

  private static double[] stepSizes(BlockStore blocks) {
    double[] alpha = new double[blocks.numBlocks()];
    for (int id : blocks.ownedIds) {
      alpha[id] = blocks.byId[id].lr;
    }
    return alpha;
  }

  private StalenessTracker(int numBlocks, int[] ownedIds, MeterRegistry registry, Tags base,
      Mode jobMode, double[] alpha) {
    String mode = ShardMetrics.modeTag(jobMode);
    this.rounds = ShardMetrics.hasRounds(jobMode);
    this.numBlocks = numBlocks;
    this.alpha = alpha;
    this.ownedIds = ownedIds.clone();
    this.owned = new boolean[numBlocks];
    this.updates = new AtomicLongArray(numBlocks);
    this.aoiSum = new AtomicLongArray(numBlocks * numBlocks);
    this.aoiCount = new AtomicLongArray(numBlocks * numBlocks);
    this.known = new AtomicLongArray(numBlocks);
    this.staleness = new DistributionSummary[numBlocks];
    this.aoi = new DistributionSummary[numBlocks * numBlocks];
    for (int i : ownedIds) {
      owned[i] = true;
      Tags tags = base.and("block", Integer.toString(i));
      staleness[i] = DistributionSummary.builder(MetricNames.SHARD_STALENESS)
          .description("Staleness tau = version now - version read, of each applied or"
              + " accepted update")
          .baseUnit("updates")
          .tags(tags.and("mode", mode))
          .serviceLevelObjectives(ShardMetrics.STALENESS_BUCKETS)
          .register(registry);
      final int block = i;
      Gauge.builder(MetricNames.SHARD_KAPPA, this, t -> t.kappa(block))
          .description("kappa_i = nu_i / n: the fraction of the global iterations this shard"
              + " applied that updated the block")
          .tags(tags)
          .register(registry);
      Gauge.builder(MetricNames.SHARD_ERROR_FLOOR_LOCAL, this, t -> t.localFloor(block))
          .description("alpha_i * sum_{j!=i} L_ij * mean Delta_ij with L_ij = 1: over the job's"
              + " kappa_i and summed over blocks, the error-floor term")
          .tags(tags)
          .register(registry);
      for (int j = 0; j < numBlocks; j++) {
        if (j == i) {
          continue;
        }
        aoi[i * numBlocks + j] = DistributionSummary.builder(MetricNames.SHARD_AOI)
            .description("Age of information Delta_ij: updates block j (source) received"
                + " since the version the worker read, per applied update of block i")
            .baseUnit("updates")
            .tags(tags.and("source", Integer.toString(j)))
            .register(registry);
      }
    }
    FunctionCounter.builder(MetricNames.SHARD_ITERATIONS, this, StalenessTracker::iterations)
        .description("Global iterations applied: async/ssp pushes that updated a block,"
            + " sync/local completed rounds")
        .tags(base.and("mode", mode))
        .register(registry);
    Gauge.builder(MetricNames.SHARD_ERROR_FLOOR, this, t -> t.errorFloor(null))
        .description("sum_i (alpha_i/kappa_i) * sum_{j!=i} L_ij * mean Delta_ij over this"
            + " shard's blocks, this shard's kappa_i, L_ij = 1")
        .tags(base)
        .register(registry);
  }

  /** Notes versions of other shards' blocks that a push reports ({@code -1}: not reported). */
  void observe(long[] readVersions) {
    for (int j = 0; j < numBlocks; j++) {
      long v = readVersions[j];
      if (!owned[j] && v >= 0) {
        known.accumulateAndGet(j, v, Math::max);
      }
    }
  }

  /**
   * Records one applied (or, in sync, accepted) update of block {@code i}.
   *
   * @param tau its staleness
   * @param readVersions the versions the worker read, by block id; -1 where not reported
   * @param currentVersion the current version of a block this shard owns
   */
  void record(int i, long tau, long[] readVersions, IntToLongFunction currentVersion) {
    tauCounts.incrementAndGet((int) Math.min(tau, HISTOGRAM_SIZE - 1));
    tauSum.addAndGet(tau);
    tauCount.incrementAndGet();
    tauMax.accumulateAndGet(tau, Math::max);
    staleness[i].record(tau);
    if (readVersions == null) {
      return;
    }
    for (int j = 0; j < numBlocks; j++) {
      long read = readVersions[j];
      if (j == i || read < 0) {
        continue;
      }
      long now = owned[j] ? currentVersion.applyAsLong(j) : known.get(j);
      long delta = Math.max(0, now - read);
      aoiSum.addAndGet(i * numBlocks + j, delta);
      aoiCount.incrementAndGet(i * numBlocks + j);
      aoi[i * numBlocks + j].record(delta);
    }
  }

  /** Counts one applied update of block i (its version went up by one). */
  void applied(int i) {
    updates.incrementAndGet(i);
  }

  /** Number of recorded updates with staleness exactly {@code tau} (the last bucket: ≥). */
  public long stalenessCount(int tau) {
    return tauCounts.get(Math.min(tau, HISTOGRAM_SIZE - 1));
  }

  /** Σ τ over every recorded update. */
  public long stalenessSum() {
    return tauSum.get();
  }

  /** Number of recorded updates. */
  public long stalenessSamples() {
    return tauCount.get();
  }

  /** Largest τ recorded. */
  public long stalenessMax() {
    return tauMax.get();
  }

  /** The exact histogram, index τ. */
  public long[] stalenessHistogram() {
    long[] out = new long[HISTOGRAM_SIZE];
    for (int k = 0; k < out.length; k++) {
      out[k] = tauCounts.get(k);
    }
    return out;
  }

  /** ν_i: updates applied to block i. */
  public long updates(int i) {
    return updates.get(i);
  }

  /**
   * Notes a push's outcome: in async/ssp a push that updated at least one block
   * ({@code applied}) is one global iteration.
   */
  void pushed(boolean applied) {
    if (applied && !rounds) {
      iterations.incrementAndGet();
    }
  }

  /** In sync/local, a completed round (however it completed) is one global iteration. */
  void roundCompleted() {
    if (rounds) {
      iterations.incrementAndGet();
    }
  }

  /** n: the global iterations this shard applied. */
  public long iterations() {
    return iterations.get();
  }

  /**
   * κ_i = ν_i / n with n = {@link #iterations()}: the fraction of the iterations this shard
   * applied that updated block i (NaN before any iteration).
   */
  public double kappa(int i) {
    long n = iterations.get();
    return n == 0 ? Double.NaN : (double) updates.get(i) / n;
  }

  /** α_i: the step size of block i (0 for another shard's block). */
  public double alpha(int i) {
    return alpha[i];
  }

  /** α_i · Σ_{j≠i} mean Δ_ij (L_ij = 1) for an owned block i; 0 before any sample. */
  public double localFloor(int i) {
    double s = 0;
    for (int j = 0; j < numBlocks; j++) {
      double d = meanAoi(i, j);
      if (j != i && !Double.isNaN(d)) {
        s += d;
      }
    }
    return alpha[i] * s;
  }

  /**
   * Σ_i (α_i/κ_i) · Σ_{j≠i} L_ij · mean Δ_ij over this shard's blocks, with this shard's κ_i.
   *
   * @param lipschitz L_ij by block ids; null for 1 everywhere
   */
  public double errorFloor(double[][] lipschitz) {
    double[] kappa = new double[numBlocks];
    java.util.Arrays.fill(kappa, Double.NaN);
    for (int i : ownedIds) {
      kappa[i] = kappa(i);
    }
    return ErrorFloor.term(alpha, kappa, lipschitz, meanAoiMatrix());
  }

  /** Mean Δ_ij by block ids (NaN where no sample: rows of other shards' blocks, j = i). */
  public double[][] meanAoiMatrix() {
    double[][] m = new double[numBlocks][numBlocks];
    for (int i = 0; i < numBlocks; i++) {
      for (int j = 0; j < numBlocks; j++) {
        m[i][j] = meanAoi(i, j);
      }
    }
    return m;
  }

  /** Mean Δ_ij over the updates of block i (NaN when none recorded). */
  public double meanAoi(int i, int j) {
    long n = aoiCount.get(i * numBlocks + j);
    return n == 0 ? Double.NaN : (double) aoiSum.get(i * numBlocks + j) / n;
  }

  /** Number of Δ_ij samples. */
  public long aoiCount(int i, int j) {
    return aoiCount.get(i * numBlocks + j);
  }
}
