package io.parasol.client;

import io.grpc.Status;
import io.parasol.common.Refusals;
import java.util.ArrayList;
import java.util.List;
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
 * <p>Thread safety: every method may be called concurrently.
 */
final class Incarnations {
  private static final Logger log = LoggerFactory.getLogger(PsClient.class);

  private final AtomicLongArray known;
  /** Per shard: the incarnation of the last complete pull (what pushes are computed from). */
  private final AtomicLongArray read;
  private final ConcurrentLinkedQueue<ShardRollback> events = new ConcurrentLinkedQueue<>();
  private final AtomicLong total = new AtomicLong();

  Incarnations(int shards) {
    known = new AtomicLongArray(shards);
    read = new AtomicLongArray(shards);
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

  /** A complete pull from {@code shard} read blocks of {@code incarnation}. */
  void pulled(int shard, long incarnation) {
    read.set(shard, incarnation);
    observe(shard, incarnation);
  }

  /** A response of {@code shard} carried {@code incarnation} (0: the shard did not say). */
  void observe(int shard, long incarnation) {
    if (incarnation == 0) {
      return;
    }
    long prev = known.getAndSet(shard, incarnation);
    if (prev != 0 && prev != incarnation) {
      record(new ShardRollback(shard, prev, incarnation, ShardRollback.Kind.RESTARTED,
          "a response came from a new incarnation"));
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
    ShardRollback r = new ShardRollback(shard, prev, now,
        lost ? ShardRollback.Kind.JOB_LOST : ShardRollback.Kind.PUSH_REFUSED,
        st.getDescription() == null ? st.getCode().toString() : st.getDescription());
    if (prev == 0 || now == 0 || prev != now) {
      record(r);
    }
    return new ShardRolledBackException(st, r);
  }

  private void record(ShardRollback r) {
    total.incrementAndGet();
    events.add(r);
    log.debug("{}", r.line());
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
