package io.parasol.server.robustness;

import io.parasol.common.JobSpecs;
import io.parasol.proto.v1.BlockSpec;
import io.parasol.proto.v1.InitKind;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Job specs that break the documented contract ({@link JobSpecs#problems}'s rules: 1..4096
 * workers, quorum at most num_workers, 1..65536 blocks of 1..2^28 floats on a shard below
 * num_shards, finite positive learning rate, participation in [0, 1], ...), including uint32
 * fields set above 2^31 where Java reads them as negative ints.
 */
final class InvalidSpecs {
  private InvalidSpecs() {}

  /** A spec and the mutations that made it invalid. */
  record Mutated(JobSpec spec, String what) {}

  /** A small valid spec for one shard, in a random mode. */
  static JobSpec validBase(SplittableRandom rnd) {
    Mode[] modes = {Mode.MODE_SYNC, Mode.MODE_ASYNC, Mode.MODE_SSP, Mode.MODE_LOCAL};
    JobSpec.Builder b = JobSpec.newBuilder().setJobName("fresh-" + rnd.nextInt(1000))
        .setMode(modes[rnd.nextInt(modes.length)]).setNumShards(1)
        .setNumWorkers(1 + rnd.nextInt(8)).setLearningRate(0.01f + rnd.nextFloat())
        .setSeed(rnd.nextLong()).setLocalSteps(1 + rnd.nextInt(4));
    int blocks = 1 + rnd.nextInt(4);
    for (int i = 0; i < blocks; i++) {
      b.addBlocks(BlockSpec.newBuilder().setId(i).setName("b" + i).setLength(1 + rnd.nextInt(64))
          .setShard(0).setInit(InitKind.INIT_UNIFORM).setInitScale(0.5f));
    }
    JobSpec s = b.build();
    if (!JobSpecs.problems(s).isEmpty()) {
      throw new AssertionError("base spec must be valid: " + JobSpecs.problems(s));
    }
    return s;
  }

  /**
   * {@code base} with one to three mutations, each of which leaves the spec invalid by the
   * contract at the moment it is applied (it reads the fields as they are then), so the last
   * one alone makes the result invalid.
   */
  static Mutated mutate(SplittableRandom rnd, JobSpec base) {
    JobSpec.Builder b = base.toBuilder();
    int n = 1 + rnd.nextInt(3);
    List<String> what = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      what.add(mutateOnce(rnd, b));
    }
    return new Mutated(b.build(), String.join(", ", what));
  }

  private static long hugeUint32(SplittableRandom rnd) {
    long[] edges = {0x8000_0000L, 0xFFFF_FFFFL, 0xFFFF_FFFEL, 0x8000_0001L};
    return rnd.nextBoolean() ? edges[rnd.nextInt(edges.length)]
        : rnd.nextLong(0x8000_0000L, 0x1_0000_0000L);
  }

  private static float badFloat(SplittableRandom rnd) {
    float[] v = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
        Float.intBitsToFloat(0x7f80_0001), Float.intBitsToFloat(0xffc0_1234)};
    return v[rnd.nextInt(v.length)];
  }

  private static String mutateOnce(SplittableRandom rnd, JobSpec.Builder b) {
    int blocks = b.getBlocksCount();
    int pick = rnd.nextInt(blocks == 0 ? 15 : 23);
    switch (pick) {
      case 0 -> {
        b.setMode(Mode.MODE_UNSPECIFIED);
        return "mode=UNSPECIFIED";
      }
      case 1 -> {
        int v = 5 + rnd.nextInt(1000);
        b.setModeValue(v);
        return "mode=" + v + " (unknown)";
      }
      case 2 -> {
        b.setNumShards(0);
        return "num_shards=0";
      }
      case 3 -> {
        b.setNumWorkers(0);
        return "num_workers=0";
      }
      case 4 -> {
        int v = JobSpecs.MAX_WORKERS + 1 + rnd.nextInt(1_000_000);
        b.setNumWorkers(v);
        return "num_workers=" + v;
      }
      case 5 -> {
        long v = hugeUint32(rnd);
        b.setNumWorkers((int) v);
        String q = "";
        if (rnd.nextBoolean()) {
          b.setQuorum((int) v);
          q = " quorum=" + v;
        }
        return "num_workers=" + v + q;
      }
      case 6 -> {
        long v = Integer.toUnsignedLong(b.getNumWorkers()) + 1 + rnd.nextInt(1000);
        if (v > 0xFFFF_FFFFL || b.getNumWorkers() == 0) {
          b.setNumWorkers(0);
          return "num_workers=0";
        }
        b.setQuorum((int) v);
        return "quorum=" + v + " > num_workers";
      }
      case 7 -> {
        if (Integer.toUnsignedLong(b.getNumWorkers()) >= 0x8000_0000L) {
          b.setNumWorkers(0);
          return "num_workers=0";
        }
        long v = hugeUint32(rnd);
        b.setQuorum((int) v);
        return "quorum=" + v + " > num_workers";
      }
      case 8 -> {
        float[] v = {0f, -0f, -1f, -Float.MIN_VALUE, -1e30f};
        float x = v[rnd.nextInt(v.length)];
        b.setLearningRate(x);
        return "learning_rate=" + x;
      }
      case 9 -> {
        float x = badFloat(rnd);
        b.setLearningRate(x);
        return "learning_rate=" + x;
      }
      case 10 -> {
        float[] v = {-0.1f, 1.0001f, 2f, Float.NaN, Float.POSITIVE_INFINITY, -Float.MIN_VALUE};
        float x = v[rnd.nextInt(v.length)];
        b.setParticipation(x);
        return "participation=" + x;
      }
      case 11 -> {
        b.setMode(Mode.MODE_LOCAL).setLocalSteps(0);
        return "mode=LOCAL local_steps=0";
      }
      case 12 -> {
        b.clearBlocks();
        return "no blocks";
      }
      case 13 -> {
        if (rnd.nextInt(8) != 0) {
          b.setNumShards(0);
          return "num_shards=0";
        }
        b.clearBlocks();
        for (int i = 0; i <= JobSpecs.MAX_BLOCKS; i++) {
          b.addBlocks(BlockSpec.newBuilder().setId(i).setLength(1).setShard(0));
        }
        return (JobSpecs.MAX_BLOCKS + 1) + " blocks";
      }
      case 14 -> {
        b.setMode(Mode.MODE_UNSPECIFIED).setNumShards(0).setNumWorkers(0);
        return "mode, num_shards and num_workers unset";
      }
      default -> {
        int i = rnd.nextInt(blocks);
        BlockSpec.Builder blk = b.getBlocksBuilder(i);
        switch (pick) {
          case 15 -> {
            long v = rnd.nextBoolean() ? i + 1 + rnd.nextInt(100) : hugeUint32(rnd);
            blk.setId((int) v);
            return "block[" + i + "].id=" + v;
          }
          case 16 -> {
            blk.setLength(0);
            return "block[" + i + "].length=0";
          }
          case 17 -> {
            int v = JobSpecs.MAX_BLOCK_FLOATS + 1
                + rnd.nextInt(Integer.MAX_VALUE - JobSpecs.MAX_BLOCK_FLOATS);
            blk.setLength(v);
            return "block[" + i + "].length=" + v;
          }
          case 18 -> {
            long v = hugeUint32(rnd);
            blk.setLength((int) v);
            return "block[" + i + "].length=" + v;
          }
          case 19 -> {
            long shards = Integer.toUnsignedLong(b.getNumShards());
            if (shards >= 0x8000_0000L) {
              b.setNumShards(0);
              return "num_shards=0";
            }
            long v = shards + rnd.nextInt(1000);
            blk.setShard((int) v);
            return "block[" + i + "].shard=" + v + " of " + shards;
          }
          case 20 -> {
            long v = hugeUint32(rnd);
            if (Integer.toUnsignedLong(b.getNumShards()) > v) {
              b.setNumShards(0);
              return "num_shards=0";
            }
            blk.setShard((int) v);
            return "block[" + i + "].shard=" + v;
          }
          case 21 -> {
            float x = rnd.nextBoolean() ? -rnd.nextFloat() - Float.MIN_VALUE : badFloat(rnd);
            blk.setLearningRate(x);
            return "block[" + i + "].learning_rate=" + x;
          }
          default -> {
            float x = badFloat(rnd);
            blk.setInitScale(x);
            return "block[" + i + "].init_scale=" + x;
          }
        }
      }
    }
  }

  /**
   * A valid spec under the same job name that differs from {@code spec} (so its fingerprint
   * differs): a shard that already serves {@code spec} must refuse it. (Another name would be
   * another job, which a shard holds side by side.)
   */
  static Mutated different(SplittableRandom rnd, JobSpec spec) {
    JobSpec.Builder b = spec.toBuilder();
    String what;
    switch (rnd.nextInt(8)) {
      case 0 -> {
        b.setModel(spec.getModel() + "-other" + rnd.nextInt(1000));
        what = "model";
      }
      case 1 -> {
        b.setLearningRate(spec.getLearningRate() * 2);
        what = "learning_rate";
      }
      case 2 -> {
        b.setSeed(spec.getSeed() + 1 + rnd.nextInt(1000));
        what = "seed";
      }
      case 3 -> {
        b.setNumWorkers(spec.getNumWorkers() + 1);
        what = "num_workers";
      }
      case 4 -> {
        b.addBlocks(BlockSpec.newBuilder().setId(spec.getBlocksCount()).setName("extra")
            .setLength(1 + rnd.nextInt(16)).setShard(0));
        what = "an extra block";
      }
      case 5 -> {
        b.getBlocksBuilder(rnd.nextInt(spec.getBlocksCount()))
            .setLength(1 + rnd.nextInt(100_000));
        what = "a block length";
      }
      case 6 -> {
        b.setMode(spec.getMode() == Mode.MODE_ASYNC ? Mode.MODE_SYNC : Mode.MODE_ASYNC);
        what = "mode";
      }
      default -> {
        b.setLeaseMillis(spec.getLeaseMillis() + 1 + rnd.nextInt(1000));
        what = "lease_millis";
      }
    }
    JobSpec s = b.build();
    if (JobSpecs.fingerprint(s).equals(JobSpecs.fingerprint(spec))) {
      s = s.toBuilder().setModel(spec.getModel() + "-remodelled").build();
      what += " and model";
    }
    return new Mutated(s, "different " + what);
  }
}
