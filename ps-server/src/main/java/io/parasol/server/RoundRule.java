package io.parasol.server;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.grpc.Status;
import io.parasol.common.Participation;
import io.parasol.proto.v1.BlockResult;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.PushHeader;
import io.parasol.proto.v1.PushKind;
import io.parasol.proto.v1.PushOutcome;
import io.parasol.proto.v1.PushResponse;
import java.util.Arrays;
import java.util.BitSet;

/**
 * Rounds of K contributions per block: synchronous SGD and local-update SGD.
 *
 * <p>sync (bulk synchronous parallel SGD): step t of block i collects gradients computed at
 * version t; once K arrived, x_i ← x_i − η_i·(1/K)·Σ g_k is applied once (through the shard's
 * optimizer) and the version becomes t+1. K defaults to the number of workers; K &lt; m is the
 * "backup workers" scheme of Chen et al., "Revisiting Distributed Synchronous SGD" (2016): the
 * first K win and later gradients for the step are dropped (ABORTED) and counted.
 *
 * <p>local (local-update SGD, periodic averaging): round r of block i collects models; once K
 * arrived, x_i ← (1/K)·Σ x_k and the version becomes r+1. With partial participation f only the
 * workers {@link Participation} samples for round r may contribute, and K defaults to their
 * number.
 */
final class RoundRule implements UpdateRule {
  private final JobSpec spec;
  private final ShardCore core;
  private final ShardMetrics metrics;
  private final boolean averageModels;
  private final int quorum;
  private final boolean partial;
  private final Object lock = new Object();

  /** Per block (by global id): the running sum of the current round. */
  @GuardedBy("lock")
  private final float[][] sums;

  @GuardedBy("lock")
  private final BitSet[] contributors;

  @GuardedBy("lock")
  private final long[] roundStart;
  private final int firstOwned;
  private ShardCore.Job job;

  RoundRule(JobSpec spec, ShardCore.BlockState[] blocks, ShardMetrics metrics, ShardCore core) {
    this.spec = spec;
    this.core = core;
    this.averageModels = spec.getMode() == Mode.MODE_LOCAL;
    this.partial = averageModels
        && Participation.count(spec.getNumWorkers(), spec.getParticipation())
            < spec.getNumWorkers();
    int participants = averageModels
        ? Participation.count(spec.getNumWorkers(), spec.getParticipation())
        : spec.getNumWorkers();
    this.quorum = spec.getQuorum() == 0 ? participants : Math.min(spec.getQuorum(), participants);
    this.metrics = metrics;
    this.sums = new float[blocks.length][];
    this.contributors = new BitSet[blocks.length];
    this.roundStart = new long[blocks.length];
    int first = -1;
    for (ShardCore.BlockState b : blocks) {
      if (b != null) {
        sums[b.id] = new float[b.length];
        contributors[b.id] = new BitSet();
        if (first < 0) {
          first = b.id;
        }
      }
    }
    this.firstOwned = first;
  }

  @Override
  public void bind(ShardCore.Job job) {
    this.job = job;
  }

  int quorum() {
    return quorum;
  }

  @Override
  public void checkHeader(PushHeader h, ShardCore.BlockState[] blocks) throws ShardException {
    PushKind want = averageModels ? PushKind.PUSH_MODEL : PushKind.PUSH_GRADIENT;
    if (h.getKind() != want) {
      throw ShardException.invalid("mode " + ShardCore.modeTag(spec.getMode()) + " takes "
          + want + " pushes, got " + h.getKind());
    }
    synchronized (lock) {
      check(h, blocks);
    }
  }

  @GuardedBy("lock")
  private void check(PushHeader h, ShardCore.BlockState[] blocks) throws ShardException {
    String what = averageModels ? "round" : "step";
    if (partial && !Participation.includes(spec.getSeed(), h.getStep(), spec.getNumWorkers(),
        spec.getParticipation(), h.getWorker())) {
      throw ShardException.precondition("worker " + h.getWorker() + " is not sampled for round "
          + Long.toUnsignedString(h.getStep()));
    }
    for (ShardCore.BlockState b : blocks) {
      long v = b.version;
      if (h.getStep() < v) {
        throw new ShardException(Status.Code.ABORTED, what + " " + h.getStep() + " is over: block "
            + b.id + " is at version " + v + "; the late contribution is dropped");
      }
      if (h.getStep() > v) {
        // OUT_OF_RANGE, not FAILED_PRECONDITION: a worker meets it when this shard restarted
        // from a checkpoint behind the step it computed for, and answers by pulling again.
        throw new ShardException(Status.Code.OUT_OF_RANGE, what + " "
            + Long.toUnsignedString(h.getStep()) + " has not started: block " + b.id
            + " is at version " + v);
      }
      if (contributors[b.id].get(h.getWorker())) {
        throw new ShardException(Status.Code.ALREADY_EXISTS, "worker " + h.getWorker()
            + " already contributed to " + what + " " + v + " of block " + b.id);
      }
    }
  }

  @Override
  public PushResponse apply(PushHeader h, ShardCore.BlockState[] blocks, float[][] values,
      long[] read) throws ShardException {
    PushResponse.Builder resp = PushResponse.newBuilder();
    boolean completed = false;
    synchronized (lock) {
      // Re-check: the round may have moved on since the header arrived.
      check(h, blocks);
      for (int i = 0; i < blocks.length; i++) {
        ShardCore.BlockState b = blocks[i];
        float[] sum = sums[b.id];
        float[] g = values[i];
        for (int k = 0; k < sum.length; k++) {
          sum[k] += g[k];
        }
        if (contributors[b.id].isEmpty()) {
          roundStart[b.id] = System.nanoTime();
        }
        contributors[b.id].set(h.getWorker());
        if (!averageModels) {
          core.recordStaleness(job, b.id, 0, read);
        }
        BitSet done = contributors[b.id];
        if (done.cardinality() >= effectiveQuorum(h.getStep(), done)) {
          finish(b, sum);
          completed = true;
        }
        resp.addBlocks(BlockResult.newBuilder().setBlockId(b.id).setStaleness(0)
            .setVersion(b.version));
      }
    }
    core.pushesApplied.incrementAndGet();
    core.metrics().push(completed ? ShardMetrics.Outcome.APPLIED : ShardMetrics.Outcome.ACCEPTED);
    return resp.setOutcome(completed ? PushOutcome.PUSH_APPLIED : PushOutcome.PUSH_ACCEPTED)
        .build();
  }

  /**
   * K for a round: the configured quorum, but never more than the workers that may still
   * contribute or already did (the round's sampled participants, in local mode with partial
   * participation). A worker that contributed and then left or expired still counts for this
   * round: otherwise its departure would close the round on its own contribution and drop the
   * gradients of the live workers that are about to arrive.
   */
  @GuardedBy("lock")
  private int effectiveQuorum(long round, BitSet contributed) {
    int eligible = 0;
    for (int w = 0; w < spec.getNumWorkers(); w++) {
      if ((contributed.get(w) || core.isLive(job, w)) && (!partial || Participation.includes(
          spec.getSeed(), round, spec.getNumWorkers(), spec.getParticipation(), w))) {
        eligible++;
      }
    }
    return Math.max(1, Math.min(quorum, eligible));
  }

  @Override
  public <T> T exclusive(java.util.function.Supplier<T> action) {
    synchronized (lock) {
      return action.get();
    }
  }

  @Override
  public boolean awaits(ShardCore.BlockState b, int worker) {
    synchronized (lock) {
      if (contributors[b.id].get(worker)) {
        return true;
      }
      // Not sampled for this round (local with partial participation): nothing to give.
      return partial && !Participation.includes(spec.getSeed(), b.version, spec.getNumWorkers(),
          spec.getParticipation(), worker);
    }
  }

  @Override
  public void membershipChanged() {
    boolean any = false;
    synchronized (lock) {
      for (ShardCore.BlockState b : job.blocks) {
        if (b == null || contributors[b.id].isEmpty()) {
          continue;
        }
        if (contributors[b.id].cardinality() >= effectiveQuorum(b.version, contributors[b.id])) {
          finish(b, sums[b.id]);
          any = true;
        }
      }
    }
    if (any) {
      core.signal();
    }
  }

  @Override
  public String describeRound(ShardCore.BlockState b) {
    synchronized (lock) {
      return (averageModels ? "round " : "step ") + b.version + " has contributions from"
          + " workers " + contributors[b.id] + " and completes at "
          + effectiveQuorum(b.version, contributors[b.id]);
    }
  }

  @GuardedBy("lock")
  private void finish(ShardCore.BlockState b, float[] sum) {
    float inv = 1f / contributors[b.id].cardinality();
    for (int k = 0; k < sum.length; k++) {
      sum[k] *= inv;
    }
    b.lock.lock();
    try {
      if (averageModels) {
        System.arraycopy(sum, 0, b.values, 0, sum.length);
      } else {
        b.optimizer.step(b.values, sum, b.lr);
      }
      b.version++;
    } finally {
      b.lock.unlock();
    }
    core.recordUpdate(job, b.id);
    if (b.id == firstOwned) {
      metrics.round(System.nanoTime() - roundStart[b.id], contributors[b.id].cardinality());
    }
    Arrays.fill(sum, 0f);
    contributors[b.id].clear();
  }
}
