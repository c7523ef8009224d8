package io.parasol.server.core;

import io.grpc.Status;
import io.parasol.proto.v1.JobSpec;
import io.parasol.server.consistency.ConsistencyRule;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * An initialised job as one shard sees it: the spec, the blocks, the consistency rule, the
 * members, exactly-once bookkeeping, staleness tracking and the per-worker stream slots. Built
 * whole by {@link ShardCore} and published once; its parts guard themselves.
 */
final class Job {
  /** Most pushes plus pulls one worker may have in flight on a shard. */
  static final int MAX_STREAMS_PER_WORKER = 16;

  final JobSpec spec;
  final String fingerprint;
  final BlockStore blocks;
  final Membership members;
  final Dedupe dedupe;
  final StalenessTracker tracker;
  /** Set once, right after construction, before the job is published. */
  ConsistencyRule rule;
  /** Pushes and pulls in flight per worker. */
  private final AtomicIntegerArray streams;

  Job(JobSpec spec, String fingerprint, BlockStore blocks, Membership members,
      StalenessTracker tracker) {
    this.spec = spec;
    this.fingerprint = fingerprint;
    this.blocks = blocks;
    this.members = members;
    this.tracker = tracker;
    this.dedupe = new Dedupe(members.capacity());
    this.streams = new AtomicIntegerArray(members.capacity());
  }

  /** Takes one of the worker's stream slots; RESOURCE_EXHAUSTED when it has none left. */
  void acquireStream(int worker) throws ShardException {
    if (streams.incrementAndGet(worker) > MAX_STREAMS_PER_WORKER) {
      streams.decrementAndGet(worker);
      throw new ShardException(Status.Code.RESOURCE_EXHAUSTED, "worker " + worker + " already"
          + " has " + MAX_STREAMS_PER_WORKER + " pushes and pulls in flight on this shard");
    }
  }

  void releaseStream(int worker) {
    streams.decrementAndGet(worker);
  }

  /** The versions a push says its worker read, by block id; -1 where it says nothing. */
  long[] readVersions(io.parasol.proto.v1.PushHeader h) {
    long[] read = new long[blocks.numBlocks()];
    java.util.Arrays.fill(read, -1);
    for (io.parasol.proto.v1.BlockRead r : h.getSeenList()) {
      read[r.getBlockId()] = r.getVersion();
    }
    for (io.parasol.proto.v1.BlockRead r : h.getBlocksList()) {
      read[r.getBlockId()] = r.getVersion();
    }
    return read;
  }
}
