package io.parasol.client;

import io.parasol.proto.v1.BlockStatus;
import io.parasol.proto.v1.StatusResponse;
import java.util.List;
import java.util.TreeSet;

/**
 * The job as every shard reports it.
 *
 * @param shards one status per shard, in shard order
 */
public record JobStatus(List<StatusResponse> shards) {
  public JobStatus {
    shards = List.copyOf(shards);
  }

  /** Every block's current version, by block id. */
  public Versions versions() {
    int n = 0;
    for (StatusResponse s : shards) {
      for (BlockStatus b : s.getBlocksList()) {
        n = Math.max(n, b.getId() + 1);
      }
    }
    long[] v = new long[n];
    for (StatusResponse s : shards) {
      for (BlockStatus b : s.getBlocksList()) {
        v[b.getId()] = b.getVersion();
      }
    }
    return Versions.wrap(v);
  }

  /** The workers some shard considers live, ascending. */
  public List<Integer> liveWorkers() {
    TreeSet<Integer> live = new TreeSet<>();
    for (StatusResponse s : shards) {
      live.addAll(s.getLiveWorkersList());
    }
    return List.copyOf(live);
  }

  /** Pushes applied, summed over the shards. */
  public long pushesApplied() {
    return shards.stream().mapToLong(StatusResponse::getPushesApplied).sum();
  }

  /** Pushes refused (bad input), summed over the shards. */
  public long pushesRejected() {
    return shards.stream().mapToLong(StatusResponse::getPushesRejected).sum();
  }
}
