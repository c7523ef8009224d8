package io.parasol.server.core;

import io.grpc.Status;
import io.parasol.common.Initializer;
import io.parasol.proto.v1.BlockSpec;
import io.parasol.proto.v1.JobSpec;
import io.parasol.server.optim.BlockOptimizer;
import java.util.ArrayList;
import java.util.List;

/**
 * The blocks of a job that one shard owns, built from the job spec (values initialised from the
 * job's seed), and the lookups requests make of them. Immutable after construction; each
 * {@link Block} guards its own state.
 */
final class BlockStore {
  /** Indexed by global block id; null where another shard owns the block. */
  final Block[] byId;
  /** The ids this shard owns, ascending. */
  final int[] ownedIds;
  private final int shardIndex;

  private BlockStore(Block[] byId, int[] ownedIds, int shardIndex) {
    this.byId = byId;
    this.ownedIds = ownedIds;
    this.shardIndex = shardIndex;
  }

  static BlockStore create(JobSpec spec, int shardIndex) {
    Block[] blocks = new Block[spec.getBlocksCount()];
    List<Integer> owned = new ArrayList<>();
    for (BlockSpec b : spec.getBlocksList()) {
      if (b.getShard() != shardIndex) {
        continue;
      }
      float[] values = new float[b.getLength()];
      Initializer.fill(spec.getSeed(), b, values, 0);
      float lr = b.getLearningRate() > 0 ? b.getLearningRate() : spec.getLearningRate();
      blocks[b.getId()] = new Block(b.getId(), values, lr,
          BlockOptimizer.create(spec.getOptimizer(), b.getLength()));
      owned.add(b.getId());
    }
    return new BlockStore(blocks, owned.stream().mapToInt(Integer::intValue).toArray(),
        shardIndex);
  }

  /** The job's number of blocks (all shards). */
  int numBlocks() {
    return byId.length;
  }

  /** The current version of a block this shard owns. */
  long version(int id) {
    return byId[id].version();
  }

  /** The blocks a pull or push names, validated: owned here, no duplicates; empty: all. */
  Block[] resolve(List<Integer> ids) throws ShardException {
    if (ids.isEmpty()) {
      Block[] all = new Block[ownedIds.length];
      for (int i = 0; i < all.length; i++) {
        all[i] = byId[ownedIds[i]];
      }
      return all;
    }
    if (ids.size() > ownedIds.length) {
      throw ShardException.invalid("request names " + ids.size() + " blocks; shard " + shardIndex
          + " owns " + ownedIds.length);
    }
    Block[] out = new Block[ids.size()];
    boolean[] seen = new boolean[byId.length];
    for (int i = 0; i < out.length; i++) {
      int id = ids.get(i);
      if (id < 0 || id >= byId.length) {
        throw new ShardException(Status.Code.NOT_FOUND,
            "unknown block " + Integer.toUnsignedString(id) + ": the job has " + byId.length
                + " blocks");
      }
      if (byId[id] == null) {
        throw new ShardException(Status.Code.NOT_FOUND,
            "block " + id + " is not on shard " + shardIndex);
      }
      if (seen[id]) {
        throw ShardException.invalid("block " + id + " is named twice");
      }
      seen[id] = true;
      out[i] = byId[id];
    }
    return out;
  }

  /** A block owned here, or IllegalArgumentException (tests and inspection). */
  Block owned(int id) {
    if (id < 0 || id >= byId.length || byId[id] == null) {
      throw new IllegalArgumentException("block " + id + " is not on shard " + shardIndex);
    }
    return byId[id];
  }

  long ownedFloats() {
    long n = 0;
    for (int id : ownedIds) {
      n += byId[id].length;
    }
    return n;
  }

  /** "{id=version, ...}" for logs. */
  String versions() {
    StringBuilder sb = new StringBuilder("{");
    for (int id : ownedIds) {
      if (sb.length() > 1) {
        sb.append(", ");
      }
      sb.append(id).append('=').append(byId[id].version());
    }
    return sb.append('}').toString();
  }
}
