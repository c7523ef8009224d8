package io.parasol.server.consistency;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.grpc.Status;
import io.parasol.common.JobSpecs;
import io.parasol.common.Participation;
import io.parasol.proto.v1.BlockResult;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.PushHeader;
import io.parasol.proto.v1.PushKind;
import io.parasol.proto.v1.PushOutcome;
import io.parasol.proto.v1.PushResponse;
import io.parasol.server.core.Block;
import io.parasol.server.core.ShardException;
import io.parasol.server.metrics.ShardMetrics;
import java.util.Arrays;
import java.util.BitSet;

/**
 * Rounds of K contributions per block, the common part of {@link Sync} and
 * {@link LocalUpdate}: round r of block i collects one contribution per worker; once K arrived
 * (never more than the workers that may still contribute) the round is finished by the
 * subclass's {@link #finishRound} and the version becomes r+1. Late contributions are dropped
 * (ABORTED), early ones refused (OUT_OF_RANGE), repeats refused (ALREADY_EXISTS).
 *
 * <p>Elastic workers: K is the configured quorum capped by the workers that may contribute:
 * those live now or that already contributed (with quorum 0, all of them), so m and K follow
 * the live set. A worker that joins (or rejoins) while a round already has contributions does
 * not count for that round (the round does not wait for it; its contribution is still taken
 * if it arrives before the round closes); it counts from the next round.
 *
 * <p>Thread safety: one lock guards the open rounds; block locks are taken inside it, and the
 * context is signalled only after it is released.
 */
abstract class Rounds implements ConsistencyRule {
  final JobSpec spec;
  private final RuleContext ctx;
  /** The configured K; 0: every worker that may contribute. */
  private final int quorum;
  /** Worker indices 0..maxWorkers-1 (max_workers; num_workers without joiners). */
  private final int maxWorkers;
  /** Partial participation (local mode only): only sampled workers contribute to a round. */
  private final boolean partial;
  /**
   * Partial participation over more indices than {@code num_workers} (elastic): a round may
   * sample only indices no worker holds, and such a round is skipped (see
   * {@link #skipEmptyRounds}).
   */
  private final boolean skipsEmptyRounds;
  private final Block[] blocks;
  private final Object lock = new Object();

  /** Per block (by global id): the running sum of the current round. */
  @GuardedBy("lock")
  private final float[][] sums;

  @GuardedBy("lock")
  private final BitSet[] contributors;

  /** Per block: workers that joined while its round was open; they count from the next. */
  @GuardedBy("lock")
  private final BitSet[] joinedLate;

  @GuardedBy("lock")
  private final long[] roundStart;
  private final int firstOwned;

  /** @param partial whether {@link Participation} samples each round's workers */
  Rounds(JobSpec spec, Block[] blocks, RuleContext ctx, boolean partial) {
    this.spec = spec;
    this.ctx = ctx;
    this.blocks = blocks;
    this.partial = partial;
    this.maxWorkers = JobSpecs.maxWorkers(spec);
    this.quorum = spec.getQuorum();
    this.skipsEmptyRounds = partial && maxWorkers > spec.getNumWorkers();
    this.sums = new float[blocks.length][];
    this.contributors = new BitSet[blocks.length];
    this.joinedLate = new BitSet[blocks.length];
    this.roundStart = new long[blocks.length];
    int first = -1;
    for (Block b : blocks) {
      if (b != null) {
        sums[b.id] = new float[b.length];
        contributors[b.id] = new BitSet();
        joinedLate[b.id] = new BitSet();
        if (first < 0) {
          first = b.id;
        }
      }
    }
    this.firstOwned = first;
  }

  /** The push kind this mode takes. */
  abstract PushKind kind();

  /** "step" or "round", for messages. */
  abstract String unit();

  /** Whether accepted contributions are recorded with staleness 0 (gradients). */
  abstract boolean recordsStaleness();

  /**
   * Applies the round's mean contribution {@code mean} to {@code b}; called under the block's
   * lock, before the version advances.
   */
  abstract void finishRound(Block b, float[] mean);

  @Override
  public void checkHeader(PushHeader h, Block[] blocks) throws ShardException {
    PushKind want = kind();
    if (h.getKind() != want) {
      throw ShardException.invalid("mode " + ShardMetrics.modeTag(spec.getMode()) + " takes "
          + want + " pushes, got " + h.getKind());
    }
    synchronized (lock) {
      check(h, blocks);
    }
  }

  @GuardedBy("lock")
  private void check(PushHeader h, Block[] blocks) throws ShardException {
    String what = unit();
    if (partial && !Participation.includes(spec.getSeed(), h.getStep(), maxWorkers,
        spec.getParticipation(), h.getWorker())) {
      throw ShardException.precondition("worker " + h.getWorker() + " is not sampled for round "
          + Long.toUnsignedString(h.getStep()));
    }
    for (Block b : blocks) {
      long v = b.version();
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
  public PushResponse apply(PushHeader h, Block[] blocks, float[][] values,
      long[] read) throws ShardException {
    PushResponse.Builder resp = PushResponse.newBuilder();
    boolean completed = false;
    synchronized (lock) {
      // Re-check: the round may have moved on since the header arrived.
      check(h, blocks);
      for (int i = 0; i < blocks.length; i++) {
        Block b = blocks[i];
        float[] sum = sums[b.id];
        float[] g = values[i];
        for (int k = 0; k < sum.length; k++) {
          sum[k] += g[k];
        }
        if (contributors[b.id].isEmpty()) {
          roundStart[b.id] = ctx.ticker().nanoTime();
        }
        contributors[b.id].set(h.getWorker());
        if (recordsStaleness()) {
          ctx.recordStaleness(b.id, 0, read);
        }
        BitSet done = contributors[b.id];
        if (done.cardinality() >= effectiveQuorum(b, h.getStep())) {
          finish(b, sum);
          skipEmptyRounds(b);
          completed = true;
        }
        resp.addBlocks(BlockResult.newBuilder().setBlockId(b.id).setStaleness(0)
            .setVersion(b.version()));
      }
    }
    ctx.pushOutcome(completed ? ShardMetrics.Outcome.APPLIED : ShardMetrics.Outcome.ACCEPTED);
    return resp.setOutcome(completed ? PushOutcome.PUSH_APPLIED : PushOutcome.PUSH_ACCEPTED)
        .build();
  }

  /**
   * K for a round of {@code b}: the configured quorum (0: all), but never more than the workers
   * that may still contribute or already did (the round's sampled participants, in local mode
   * with partial participation). A worker that contributed and then left or expired still
   * counts for this round: otherwise its departure would close the round on its own
   * contribution and drop the gradients of the live workers that are about to arrive. A worker
   * that joined during the round counts only if it contributed.
   */
  @GuardedBy("lock")
  private int effectiveQuorum(Block b, long round) {
    BitSet contributed = contributors[b.id];
    BitSet late = joinedLate[b.id];
    int eligible = 0;
    for (int w = 0; w < maxWorkers; w++) {
      if ((contributed.get(w) || (ctx.isLive(w) && !late.get(w))) && (!partial
          || Participation.includes(spec.getSeed(), round, maxWorkers, spec.getParticipation(),
          w))) {
        eligible++;
      }
    }
    return Math.max(1, quorum == 0 ? eligible : Math.min(quorum, eligible));
  }

  @Override
  public void workerJoined(int worker) {
    synchronized (lock) {
      for (Block b : blocks) {
        if (b != null && !contributors[b.id].isEmpty()) {
          joinedLate[b.id].set(worker);
        }
      }
    }
  }

  @Override
  public <T> T exclusive(java.util.function.Supplier<T> action) {
    synchronized (lock) {
      return action.get();
    }
  }

  @Override
  public boolean awaits(Block b, int worker) {
    synchronized (lock) {
      if (contributors[b.id].get(worker)) {
        return true;
      }
      // Not sampled for this round (local with partial participation): nothing to give.
      return partial && !Participation.includes(spec.getSeed(), b.version(), maxWorkers,
          spec.getParticipation(), worker);
    }
  }

  @Override
  public void membershipChanged() {
    boolean any = false;
    synchronized (lock) {
      for (Block b : blocks) {
        if (b == null) {
          continue;
        }
        if (!contributors[b.id].isEmpty()
            && contributors[b.id].cardinality() >= effectiveQuorum(b, b.version())) {
          finish(b, sums[b.id]);
          any = true;
        }
        any |= skipEmptyRounds(b);
      }
    }
    if (any) {
      ctx.signal();
    }
  }

  @Override
  public String describeRound(Block b) {
    synchronized (lock) {
      return unit() + " " + b.version() + " has contributions from"
          + " workers " + contributors[b.id] + " and completes at "
          + effectiveQuorum(b, b.version())
          + (joinedLate[b.id].isEmpty() ? "" : " (workers " + joinedLate[b.id]
          + " joined during it and count from the next)");
    }
  }

  /** Most rounds skipped in one go (a sample of live workers is then all but certain). */
  private static final int MAX_SKIPPED_ROUNDS = 10_000;

  /**
   * Elastic jobs with partial participation sample each round from all {@code max_workers}
   * indices; a round whose sample holds no live worker would never close, and the live workers
   * left out of it would wait for the next one. Such a round, once open with no contribution
   * while some worker is live, is skipped: the version moves on, the values stay, and no update
   * is recorded. Whether a worker not connected yet makes a round empty depends on when it
   * connects, so only elastic jobs skip: a job without spare indices keeps waiting for its
   * sampled workers (their leases end the wait if they are gone).
   *
   * @return whether a round was skipped (waiting pulls are then signalled)
   */
  @GuardedBy("lock")
  private boolean skipEmptyRounds(Block b) {
    if (!skipsEmptyRounds || !contributors[b.id].isEmpty()) {
      return false;
    }
    boolean anyLive = false;
    for (int w = 0; w < maxWorkers && !anyLive; w++) {
      anyLive = ctx.isLive(w);
    }
    boolean skipped = false;
    for (int i = 0; anyLive && i < MAX_SKIPPED_ROUNDS && !sampledLive(b.version()); i++) {
      b.lock.lock();
      try {
        b.advance();
      } finally {
        b.lock.unlock();
      }
      joinedLate[b.id].clear();
      skipped = true;
    }
    return skipped;
  }

  /** Whether round {@code round}'s sample holds a live worker. */
  @GuardedBy("lock")
  private boolean sampledLive(long round) {
    for (int w = 0; w < maxWorkers; w++) {
      if (ctx.isLive(w) && Participation.includes(spec.getSeed(), round, maxWorkers,
          spec.getParticipation(), w)) {
        return true;
      }
    }
    return false;
  }

  @GuardedBy("lock")
  private void finish(Block b, float[] sum) {
    float inv = 1f / contributors[b.id].cardinality();
    for (int k = 0; k < sum.length; k++) {
      sum[k] *= inv;
    }
    b.lock.lock();
    try {
      finishRound(b, sum);
      b.advance();
    } finally {
      b.lock.unlock();
    }
    ctx.recordUpdate(b.id);
    if (b.id == firstOwned) {
      ctx.roundCompleted(ctx.ticker().nanoTime() - roundStart[b.id],
          contributors[b.id].cardinality());
    }
    Arrays.fill(sum, 0f);
    contributors[b.id].clear();
    joinedLate[b.id].clear();
  }
}
