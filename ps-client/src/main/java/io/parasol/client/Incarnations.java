package io.parasol.client;

import io.grpc.Status;
import io.parasol.common.BlockLayout;
import io.parasol.common.Refusals;
import io.parasol.proto.v1.BlockResult;
import io.parasol.proto.v1.PushResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The incarnation the client last saw of each shard, and the rollbacks it noticed: a response
 * with another incarnation than the known one, or a refusal that says the shard rolled back
 * ({@link Refusals#SHARD_ROLLED_BACK}, {@link Refusals#JOB_UNKNOWN}). Each change of a shard's
 * incarnation is one {@link ShardRollback} event, however many calls notice it.
 *
 * <p>It also keeps, per block, the highest version seen from the shard's current incarnation
 * (complete pulls, push acknowledgements): an event carries those of its shard's blocks as
 * {@link ShardRollback#seenBefore} (what the client knew the shard had before it rolled back),
 * and they start again from 0 for the new incarnation.
 *
 * <p>Thread safety: every method may be called concurrently.
 */
final class Incarnations {
  private static final Logger log = LoggerFactory.getLogger(PsClient.class);

  private final AtomicLongArray known;
  /** Per shard: the incarnation of the last complete pull (what pushes are computed from). */
  private final AtomicLongArray read;
  private final ConcurrentLinkedQueue<ShardRollback> events = new ConcurrentLinkedQueue<>();
  private final AtomicLong total = new AtomicLong();
  /** Per shard: its block ids. */
  private final int[][] blocksOf;
  /** Per block id: the highest version seen from its shard's incarnation; under its lock. */
  private final long[] seen;
  /** Per shard: guards {@link #seen} of the shard's blocks. */
  private final Object[] locks;

  Incarnations(BlockLayout layout) {
    int shards = layout.numShards();
    known = new AtomicLongArray(shards);
    read = new AtomicLongArray(shards);
    blocksOf = new int[shards][];
    locks = new Object[shards];
    for (int s = 0; s < shards; s++) {
      blocksOf[s] = layout.blocksOf(s).stream().mapToInt(BlockLayout.Block::id).toArray();
      locks[s] = new Object();
    }
    seen = new long[layout.numBlocks()];
  }

  /** The incarnation last seen of {@code shard}; 0 when none yet. */
  long known(int shard) {
    return known.get(shard);
  }

  /**
   * The incarnation of the last complete pull from {@code shard}: a push computed from what it
   * read carries it, so that the shard refuses it if it restarted since. 0: none yet.
   */
  long read(int shard) {
    return read.get(shard);
  }

  /**
   * A complete pull from {@code shard} read its blocks at {@code versions} (by block id; only
   * the shard's blocks are read) from {@code incarnation}.
   */
  void pulled(int shard, long incarnation, long[] versions) {
    read.set(shard, incarnation);
    observe(shard, incarnation);
    synchronized (locks[shard]) {
      if (current(shard, incarnation)) {
        for (int id : blocksOf[shard]) {
          seen[id] = Math.max(seen[id], versions[id]);
        }
      }
    }
  }

  /** {@code shard} acknowledged a push: its incarnation, and each block's version after it. */
  void acked(int shard, PushResponse r) {
    observe(shard, r.getIncarnation());
    synchronized (locks[shard]) {
      if (current(shard, r.getIncarnation())) {
        for (BlockResult b : r.getBlocksList()) {
          if (b.getBlockId() < seen.length) {
            seen[b.getBlockId()] = Math.max(seen[b.getBlockId()], b.getVersion());
          }
        }
      }
    }
  }

  /** Whether versions of {@code incarnation} count for {@code shard} (not a late old answer). */
  private boolean current(int shard, long incarnation) {
    return incarnation == 0 || incarnation == known.get(shard);
  }

  /** The highest versions seen of the shard's blocks, by block id (for tests). */
  Map<Integer, Long> seen(int shard) {
    synchronized (locks[shard]) {
      Map<Integer, Long> out = new TreeMap<>();
      for (int id : blocksOf[shard]) {
        out.put(id, seen[id]);
      }
      return out;
    }
  }

  /** A response of {@code shard} carried {@code incarnation} (0: the shard did not say). */
  void observe(int shard, long incarnation) {
    if (incarnation == 0) {
      return;
    }
    long prev = known.getAndSet(shard, incarnation);
    if (prev != 0 && prev != incarnation) {
      record(shard, prev, incarnation, ShardRollback.Kind.RESTARTED,
          "a response came from a new incarnation");
    }
  }

  /**
   * {@code err} from a call on {@code shard}: a {@link ShardRolledBackException} when the shard
   * says it rolled back (an event when that is news), else {@code err} unchanged.
   */
  Throwable classify(int shard, Throwable err) {
    String reason = Refusals.reason(err);
    boolean lost = Refusals.JOB_UNKNOWN.equals(reason);
    if (!lost && !Refusals.SHARD_ROLLED_BACK.equals(reason)) {
      return err;
    }
    long now = Refusals.metadataLong(err, "incarnation", 0);
    long prev = now == 0 ? known.get(shard) : known.getAndSet(shard, now);
    Status st = Status.fromThrowable(err);
    ShardRollback.Kind kind = lost ? ShardRollback.Kind.JOB_LOST
        : ShardRollback.Kind.PUSH_REFUSED;
    String description = st.getDescription() == null ? st.getCode().toString()
        : st.getDescription();
    ShardRollback r = prev == 0 || now == 0 || prev != now
        ? record(shard, prev, now, kind, description)
        : new ShardRollback(shard, prev, now, kind, description);
    return new ShardRolledBackException(st, r);
  }

  /**
   * One rollback event: takes the versions seen of the shard's blocks (and starts them again
   * from 0, for the new incarnation).
   */
  private ShardRollback record(int shard, long prev, long now, ShardRollback.Kind kind,
      String description) {
    Map<Integer, Long> before = new TreeMap<>();
    synchronized (locks[shard]) {
      for (int id : blocksOf[shard]) {
        before.put(id, seen[id]);
        seen[id] = 0;
      }
    }
    ShardRollback r = new ShardRollback(shard, prev, now, kind, description, before, Map.of(),
        ShardRollback.UNKNOWN);
    total.incrementAndGet();
    events.add(r);
    log.debug("{}", r.line());
    return r;
  }

  /** Rollbacks noticed since the last drain, oldest first. */
  List<ShardRollback> drain() {
    List<ShardRollback> out = new ArrayList<>();
    ShardRollback r;
    while ((r = events.poll()) != null) {
      out.add(r);
    }
    return out;
  }

  /** Rollbacks noticed in all. */
  long total() {
    return total.get();
  }
}
