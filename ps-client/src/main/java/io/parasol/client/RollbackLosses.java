package io.parasol.client;

import io.parasol.proto.v1.RestoredBlock;
import io.parasol.proto.v1.StatusRequest;
import io.parasol.proto.v1.StatusResponse;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Works out what a {@link ShardRollback} lost: asks the shard's Status (one call, no retries)
 * for the versions it restored ({@code StatusResponse.restore}; every block at 0 when the
 * shard holds the job without a restore record, or not at all: it restarted without it) and
 * sets {@link ShardRollback#updatesLost}. A shard that cannot answer, or answers from yet
 * another incarnation than the rollback's, leaves the loss {@link ShardRollback#UNKNOWN}.
 */
final class RollbackLosses {
  private static final Logger log = LoggerFactory.getLogger(PsClient.class);

  private final ShardCalls calls;
  private final Duration timeout;

  RollbackLosses(ShardCalls calls, Duration timeout) {
    this.calls = calls;
    this.timeout = timeout;
  }

  /** {@code r} with its loss resolved, or {@code r} as it is when the shard cannot say. */
  ShardRollback resolve(ShardRollback r) {
    if (r.lossKnown()) {
      return r;
    }
    StatusRequest req = StatusRequest.newBuilder().setFingerprint(calls.fingerprint())
        .setJobName(calls.jobName()).build();
    StatusResponse st;
    try {
      st = ShardCalls.<StatusResponse>unary(obs -> calls.stub(r.shard(), timeout)
          .status(req, obs)).get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return r;
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      log.debug("shard {}: no Status to work out the updates lost: {}", r.shard(),
          e.toString());
      return r;
    }
    if (r.incarnation() != 0 && st.getIncarnation() != 0
        && st.getIncarnation() != r.incarnation()) {
      return r; // restarted again since: its restore is not this rollback's
    }
    return r.resolved(restored(st));
  }

  /** The versions the Status says its shard restored, by block id; empty without a restore. */
  static Map<Integer, Long> restored(StatusResponse st) {
    Map<Integer, Long> out = new TreeMap<>();
    if (st.getInitialised() && st.hasRestore()) {
      for (RestoredBlock b : st.getRestore().getBlocksList()) {
        out.put(b.getBlockId(), b.getVersion());
      }
    }
    return out;
  }
}
