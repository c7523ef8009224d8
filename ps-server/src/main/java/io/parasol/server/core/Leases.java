package io.parasol.server.core;

import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A job's membership events on one shard: a worker rejoins, finishes, expires or loses its
 * connection. Each is logged (on {@link ShardCore}'s logger) and counted, and the job's rule and
 * waiting pulls are told. Stateless; the job's parts guard themselves.
 */
final class Leases {
  private static final Logger log = LoggerFactory.getLogger(ShardCore.class);

  private Leases() {}

  /**
   * Renews a worker's lease; a worker that had expired rejoins. A worker that left (finished)
   * rejoins only by pushing or heartbeating ({@code active}), not by reading the model.
   */
  static void touch(int shardIndex, Job j, int worker, boolean active) {
    Membership.Change change = j.members.touch(worker, active);
    if (change != Membership.Change.NONE) {
      log.info("shard {}: job '{}' worker {} {} ({} live)", shardIndex, j.name, worker,
          change == Membership.Change.JOINED ? "joined" : "rejoined", j.members.liveWorkers());
      if (change == Membership.Change.JOINED) {
        j.metrics.joined();
      } else {
        j.metrics.membership(true);
      }
      j.rule.workerJoined(worker);
      j.rule.membershipChanged();
      j.waiters.signal();
    }
  }

  /**
   * The worker finished: it leaves the live set at once, instead of holding rounds and ssp
   * bounds for a lease and then expiring.
   */
  static void leave(int shardIndex, Job j, int worker) {
    if (j.members.leave(worker)) {
      log.info("shard {}: job '{}' worker {} finished and left; live workers now {}",
          shardIndex, j.name, worker, j.members.liveWorkers());
      j.metrics.left();
      j.rule.membershipChanged();
      j.waiters.signal();
    }
  }

  /** Workers that left the live set without saying so (lease expired, connection closed). */
  static void dropped(int shardIndex, Job j, List<Integer> workers, String why) {
    if (workers.isEmpty()) {
      return;
    }
    for (int w : workers) {
      log.warn("shard {}: job '{}' worker {} {}; live workers now {}", shardIndex, j.name, w,
          why, j.members.liveWorkers());
      j.metrics.membership(false);
    }
    j.rule.membershipChanged();
    j.waiters.signal();
  }
}
