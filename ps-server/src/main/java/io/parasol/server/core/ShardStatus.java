package io.parasol.server.core;

import io.parasol.proto.v1.BlockStatus;
import io.parasol.proto.v1.JobSummary;
import io.parasol.proto.v1.StatusResponse;
import io.parasol.server.metrics.ShardMetrics;
import io.parasol.server.metrics.ShardMetrics.Outcome;
import java.util.List;

/**
 * The Status answer: the shard's counts (read from {@link ShardMetrics}, the one place they
 * live), and once a job is there its identity, staleness histogram, live workers and block
 * versions. Stateless; safe from any thread.
 */
final class ShardStatus {
  private ShardStatus() {}

  /** The status of job {@code j} (null: none), listing {@code all} the shard's jobs. */
  static StatusResponse of(int shardIndex, ShardMetrics metrics, Job j, List<Job> all) {
    StatusResponse.Builder b = StatusResponse.newBuilder()
        .setShard(shardIndex)
        // Accepted contributions to an open round count as applied pushes, as they always did.
        .setPushesApplied(metrics.pushes(Outcome.APPLIED) + metrics.pushes(Outcome.ACCEPTED))
        .setPushesDroppedStale(metrics.pushes(Outcome.DROPPED_STALE))
        .setPushesDroppedLate(metrics.pushes(Outcome.DROPPED_LATE))
        .setPushesRejected(metrics.pushes(Outcome.REJECTED))
        .setPulls(metrics.pulls())
        .setPushesDuplicate(metrics.pushes(Outcome.DUPLICATE))
        .setUpdatesApplied(metrics.updatesApplied());
    if (j != null) {
      b.setStalenessSum(j.tracker.stalenessSum())
          .setStalenessCount(j.tracker.stalenessSamples())
          .setStalenessMax(j.tracker.stalenessMax())
          .setInitialised(true)
          .setFingerprint(j.fingerprint)
          .setJobName(j.spec.getJobName())
          .setMode(j.spec.getMode())
          .setNumWorkers(j.spec.getNumWorkers())
          .setMaxWorkers(j.members.capacity())
          .setIterations(j.tracker.iterations())
          .setErrorFloor(j.tracker.errorFloor(null));
      for (long c : j.tracker.stalenessHistogram()) {
        b.addStalenessCounts(c);
      }
      b.addAllLiveWorkers(j.members.liveWorkers());
      if (j.restored != null) {
        b.setRestore(j.restored);
      }
      for (int id : j.blocks.ownedIds) {
        Block s = j.blocks.byId[id];
        b.addBlocks(BlockStatus.newBuilder().setId(id).setLength(s.length)
            .setVersion(s.version()).setUpdates(j.tracker.updates(id))
            .setKappa(j.tracker.kappa(id)));
      }
    }
    for (Job each : all) {
      b.addJobs(JobSummary.newBuilder().setJobName(each.name)
          .setFingerprint(each.fingerprint).setMode(each.spec.getMode())
          .setModel(each.spec.getModel()).setBytesHeld(each.bytes)
          .addAllLiveWorkers(each.members.liveWorkers())
          .setUpdatesApplied(each.metrics.updatesApplied()));
    }
    return b.build();
  }
}
