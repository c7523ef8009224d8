package io.parasol.common;

import io.parasol.proto.v1.BlockSpec;
import io.parasol.proto.v1.InitKind;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * How a model's flat float32 parameter vector of length d splits into coordinate blocks
 * x^1..x^D and which shard owns each block.
 *
 * <p>Blocks are layer-aligned: a block never spans two tensors. A tensor larger than the target
 * block size is split into nearly equal pieces so blocks stay balanced. Every process computes
 * the same layout from the same tensors and settings; nothing here depends on time or order of
 * calls.
 */
public final class BlockLayout {

  /**
   * One named tensor of the model, in flat-vector order, with its initialisation rule. With
   * {@link InitKind#INIT_VALUES} {@code values} holds its {@code size} initial values (the
   * model's own, e.g. a saved graph's); otherwise it is null.
   */
  public record Tensor(String name, int size, InitKind init, float initScale, float[] values) {
    public Tensor {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(init, "init");
      if (size <= 0) {
        throw new IllegalArgumentException("tensor " + name + " has size " + size);
      }
      if ((init == InitKind.INIT_VALUES) != (values != null)) {
        throw new IllegalArgumentException("tensor " + name
            + ": explicit values go with INIT_VALUES, and only with it");
      }
      if (values != null && values.length != size) {
        throw new IllegalArgumentException("tensor " + name + " has " + values.length
            + " initial values for size " + size);
      }
    }

    /** A tensor initialised by a seeded rule. */
    public Tensor(String name, int size, InitKind init, float initScale) {
      this(name, size, init, initScale, null);
    }

    /** A tensor with explicit initial values (copied). */
    public static Tensor ofValues(String name, float[] values) {
      return new Tensor(name, values.length, InitKind.INIT_VALUES, 0f, values.clone());
    }
  }

  /**
   * A block: a contiguous range [offset, offset + length) of the flat vector; {@code values}
   * holds its initial values under {@link InitKind#INIT_VALUES}, else null.
   */
  public record Block(int id, String name, int offset, int length, int shard, InitKind init,
      float initScale, float[] values) {
    public Block(int id, String name, int offset, int length, int shard, InitKind init,
        float initScale) {
      this(id, name, offset, length, shard, init, initScale, null);
    }
  }

  /** Blocks per shard that the default target size aims for. */
  public static final int DEFAULT_BLOCKS_PER_SHARD = 4;

  private final List<Block> blocks;
  private final int numShards;
  private final int dimension;

  private BlockLayout(List<Block> blocks, int numShards, int dimension) {
    this.blocks = List.copyOf(blocks);
    this.numShards = numShards;
    this.dimension = dimension;
  }

  /**
   * Lays out the tensors into blocks of at most {@code maxBlockSize} floats (0 chooses a size
   * that gives about {@link #DEFAULT_BLOCKS_PER_SHARD} blocks per shard) and assigns them to
   * {@code numShards} shards.
   */
  public static BlockLayout of(List<Tensor> tensors, int numShards, int maxBlockSize) {
    if (tensors.isEmpty()) {
      throw new IllegalArgumentException("a model needs at least one tensor");
    }
    if (numShards <= 0) {
      throw new IllegalArgumentException("shards must be positive, got " + numShards);
    }
    if (maxBlockSize < 0) {
      throw new IllegalArgumentException("max block size must be >= 0, got " + maxBlockSize);
    }
    long d = 0;
    for (Tensor t : tensors) {
      d += t.size();
    }
    if (d > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("model of " + d + " parameters is too large");
    }
    int target = maxBlockSize > 0
        ? maxBlockSize
        : (int) Math.max(16, ceilDiv(d, (long) numShards * DEFAULT_BLOCKS_PER_SHARD));
    List<int[]> ranges = new ArrayList<>(); // {offset, length, tensorIndex, piece, pieces}
    int offset = 0;
    for (int ti = 0; ti < tensors.size(); ti++) {
      Tensor t = tensors.get(ti);
      int pieces = (int) ceilDiv(t.size(), target);
      int base = t.size() / pieces;
      int extra = t.size() % pieces;
      int start = 0;
      for (int p = 0; p < pieces; p++) {
        int len = base + (p < extra ? 1 : 0);
        ranges.add(new int[] {offset + start, len, ti, start, pieces});
        start += len;
      }
      offset += t.size();
    }
    int[] lengths = ranges.stream().mapToInt(r -> r[1]).toArray();
    int[] owner = Partitioner.assign(lengths, numShards);
    List<Block> blocks = new ArrayList<>(ranges.size());
    for (int id = 0; id < ranges.size(); id++) {
      int[] r = ranges.get(id);
      Tensor t = tensors.get(r[2]);
      String name = r[4] == 1 ? t.name() : t.name() + "[" + r[3] + ":" + (r[3] + r[1]) + "]";
      float[] values = t.values() == null ? null
          : java.util.Arrays.copyOfRange(t.values(), r[3], r[3] + r[1]);
      blocks.add(new Block(id, name, r[0], r[1], owner[id], t.init(), t.initScale(), values));
    }
    return new BlockLayout(blocks, numShards, (int) d);
  }

  /** Rebuilds a layout from the block specs of a job (offsets follow id order). */
  public static BlockLayout fromSpecs(List<BlockSpec> specs, int numShards) {
    List<Block> blocks = new ArrayList<>(specs.size());
    int offset = 0;
    for (int i = 0; i < specs.size(); i++) {
      BlockSpec s = specs.get(i);
      if (s.getId() != i) {
        throw new IllegalArgumentException("block ids must be 0..D-1 in order; found " + s.getId()
            + " at position " + i);
      }
      blocks.add(new Block(s.getId(), s.getName(), offset, s.getLength(), s.getShard(),
          s.getInit(), s.getInitScale(), Initializer.specValues(s)));
      offset += s.getLength();
    }
    return new BlockLayout(blocks, numShards, offset);
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }

  public List<Block> blocks() {
    return blocks;
  }

  public Block block(int id) {
    return blocks.get(id);
  }

  public int numBlocks() {
    return blocks.size();
  }

  public int numShards() {
    return numShards;
  }

  /** The length d of the flat parameter vector. */
  public int dimension() {
    return dimension;
  }

  /** The blocks owned by one shard, in id order. */
  public List<Block> blocksOf(int shard) {
    List<Block> out = new ArrayList<>();
    for (Block b : blocks) {
      if (b.shard() == shard) {
        out.add(b);
      }
    }
    return Collections.unmodifiableList(out);
  }

  /** The blocks as specs for a job, each with the given per-block step size (0 = job's). */
  public List<BlockSpec> toSpecs(float[] blockLearningRates) {
    List<BlockSpec> out = new ArrayList<>(blocks.size());
    for (Block b : blocks) {
      float lr = blockLearningRates == null ? 0f : blockLearningRates[b.id()];
      BlockSpec.Builder spec = BlockSpec.newBuilder()
          .setId(b.id())
          .setName(b.name())
          .setLength(b.length())
          .setShard(b.shard())
          .setInit(b.init())
          .setInitScale(b.initScale())
          .setLearningRate(lr);
      if (b.values() != null) {
        spec.setInitValues(Initializer.toBytes(b.values()));
      }
      out.add(spec.build());
    }
    return out;
  }
}
