package io.parasol.server.core;

import io.parasol.proto.v1.RestoreRecord;
import io.parasol.proto.v1.RestoredBlock;
import io.parasol.server.checkpoint.Checkpoints;
import io.parasol.server.checkpoint.Checkpoints.Snapshot;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A job's state as a checkpoint holds it, out and back in: block values, versions, optimizer
 * state (each under its block's lock) and the workers' clocks. Stateless.
 */
final class JobSnapshots {
  /** The core's logger: the restore line has always come from it. */
  private static final Logger log = LoggerFactory.getLogger(ShardCore.class);

  private JobSnapshots() {}

  /** A copy of the job's state; the caller holds the rule's exclusive section. */
  static Snapshot of(Job j) {
    long[] clocks = j.members.clocks();
    List<Checkpoints.BlockState> blocks = new ArrayList<>(j.blocks.ownedIds.length);
    for (int id : j.blocks.ownedIds) {
      Block b = j.blocks.byId[id];
      b.lock.lock();
      try {
        float[][] state = b.optimizer.state();
        float[][] copy = new float[state.length][];
        for (int k = 0; k < state.length; k++) {
          copy[k] = state[k].clone();
        }
        blocks.add(new Checkpoints.BlockState(id, b.version(), b.values.clone(),
            b.optimizer.steps(), copy));
      } finally {
        b.lock.unlock();
      }
    }
    return new Snapshot(j.spec, clocks, blocks);
  }

  /**
   * Writes a checkpoint's state into a freshly created job on shard {@code shardIndex};
   * INVALID_ARGUMENT when it does not fit the job's layout or optimizer.
   */
  static void restoreInto(int shardIndex, Job j, Snapshot snap) throws ShardException {
    if (snap.blocks().size() != j.blocks.ownedIds.length) {
      throw ShardException.invalid("checkpoint holds " + snap.blocks().size()
          + " blocks; shard " + shardIndex + " owns " + j.blocks.ownedIds.length);
    }
    for (Checkpoints.BlockState saved : snap.blocks()) {
      Block b = saved.id() >= 0 && saved.id() < j.blocks.numBlocks()
          ? j.blocks.byId[saved.id()] : null;
      if (b == null || saved.values().length != b.length) {
        throw ShardException.invalid("checkpoint block " + saved.id()
            + " does not match the job's layout on shard " + shardIndex);
      }
      float[][] state = b.optimizer.state();
      if (saved.optimizerState().length != state.length) {
        throw ShardException.invalid("checkpoint block " + saved.id()
            + " has optimizer state of another optimizer");
      }
      b.lock.lock();
      try {
        System.arraycopy(saved.values(), 0, b.values, 0, b.length);
        for (int k = 0; k < state.length; k++) {
          System.arraycopy(saved.optimizerState()[k], 0, state[k], 0, state[k].length);
        }
        b.optimizer.setSteps(saved.optimizerSteps());
        b.restoreVersion(saved.version());
      } finally {
        b.lock.unlock();
      }
    }
    j.members.restoreClocks(snap.clocks());
  }

  /**
   * Records that job {@code j} was just restored from the checkpoint read from {@code from} at
   * wall-clock time {@code unixMillis}: the restore record Status reports, the restore meters,
   * and one log line with the versions restored.
   */
  static void restored(int shardIndex, Job j, String from, long unixMillis) {
    RestoreRecord.Builder r = RestoreRecord.newBuilder().setUnixMillis(unixMillis)
        .setCheckpoint(from);
    long[] versions = new long[j.blocks.ownedIds.length];
    for (int k = 0; k < versions.length; k++) {
      versions[k] = j.blocks.byId[j.blocks.ownedIds[k]].version();
      r.addBlocks(RestoredBlock.newBuilder().setBlockId(j.blocks.ownedIds[k])
          .setVersion(versions[k]));
    }
    j.restored = r.build();
    j.metrics.restored(j.blocks.ownedIds, versions);
    log.info("shard {} restored job '{}' from a checkpoint: versions {}", shardIndex,
        j.spec.getJobName(), j.blocks.versions());
  }
}
