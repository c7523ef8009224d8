package io.parasol.server.core;

import io.grpc.Status;
import io.parasol.proto.v1.JobSpec;
import io.parasol.server.consistency.ConsistencyRule;
import io.parasol.server.metrics.ShardMetrics;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * An initialised job as one shard sees it: the spec, the blocks, the consistency rule, the
 * members, exactly-once bookkeeping, staleness tracking, its own meters and waiting pulls, and
 * the per-worker stream slots. Built whole by {@link Jobs} and published once; its parts guard
 * themselves. A shard holds any number of jobs; nothing here is shared with another job.
 */
final class Job {
  /** Most pushes plus pulls one worker may have in flight on a shard. */
  static final int MAX_STREAMS_PER_WORKER = 16;

  /** The job's name on the shard (the spec's job_name; empty is {@link Jobs#DEFAULT}). */
  final String name;
  final JobSpec spec;
  final String fingerprint;
  /** Heap the job holds on the shard (blocks, optimizer state, round sums). */
  final long bytes;
  final ShardMetrics metrics;
  final PullWaiters waiters;
  /** The shard clock's time of the job's latest call (idle expiry). */
  private volatile long lastCall;
  /** Set when the job ended; later calls naming it find no job. */
  volatile boolean ended;
  final BlockStore blocks;
  final Membership members;
  final Dedupe dedupe;
  final StalenessTracker tracker;
  /** Set once, right after construction, before the job is published. */
  ConsistencyRule rule;
  /** Set when the shard restored the job from a checkpoint at start; null when declared. */
  volatile io.parasol.proto.v1.RestoreRecord restored;
  /** Pushes and pulls in flight per worker. */
  private final AtomicIntegerArray streams;

  Job(String name, JobSpec spec, String fingerprint, long bytes, BlockStore blocks,
      Membership members, StalenessTracker tracker, ShardMetrics metrics, PullWaiters waiters,
      long now) {
    this.name = name;
    this.bytes = bytes;
    this.metrics = metrics;
    this.waiters = waiters;
    this.lastCall = now;
    this.spec = spec;
    this.fingerprint = fingerprint;
    this.blocks = blocks;
    this.members = members;
    this.tracker = tracker;
    this.dedupe = new Dedupe(members.capacity());
    this.streams = new AtomicIntegerArray(members.capacity());
  }

  /** Notes a call at shard time {@code now}. */
  void called(long now) {
    lastCall = now;
  }

  /** Nanoseconds since the job's latest call. */
  long idleNanos(long now) {
    return now - lastCall;
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
