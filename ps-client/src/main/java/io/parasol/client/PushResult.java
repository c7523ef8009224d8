package io.parasol.client;

import io.parasol.proto.v1.BlockResult;
import io.parasol.proto.v1.PushOutcome;
import io.parasol.proto.v1.PushResponse;
import java.util.List;

/**
 * What the shards did with one push: one response per shard that received blocks of it.
 *
 * @param responses the shards' answers, in shard order (shards that got no block left out)
 */
public record PushResult(List<PushResponse> responses) {
  public PushResult {
    responses = List.copyOf(responses);
  }

  /** Whether every shard applied it (async, ssp) or took it into its step (sync). */
  public boolean accepted() {
    return responses.stream().allMatch(r -> r.getOutcome() == PushOutcome.PUSH_APPLIED
        || r.getOutcome() == PushOutcome.PUSH_ACCEPTED);
  }

  /** The number of shards that dropped it as too stale (async/ssp with max staleness). */
  public int droppedStale() {
    return (int) responses.stream()
        .filter(r -> r.getOutcome() == PushOutcome.PUSH_DROPPED_STALE).count();
  }

  /** The largest staleness τ = ν(now) − ν(read) over the blocks pushed. */
  public long maxStaleness() {
    return responses.stream().flatMap(r -> r.getBlocksList().stream())
        .mapToLong(BlockResult::getStaleness).max().orElse(0);
  }
}
