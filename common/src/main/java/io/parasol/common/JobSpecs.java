package io.parasol.common;

import io.parasol.proto.v1.BlockSpec;
import io.parasol.proto.v1.InitKind;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.OptimizerKind;
import io.parasol.proto.v1.OptimizerSpec;
import io.parasol.proto.v1.StalenessLr;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/** Validation and fingerprinting of a {@link JobSpec}. */
public final class JobSpecs {
  /** The largest block a job may declare, in floats (256 Mi floats = 1 GiB). */
  public static final int MAX_BLOCK_FLOATS = 1 << 28;
  /** The most blocks a job may declare. */
  public static final int MAX_BLOCKS = 1 << 16;
  /** The most workers a job may declare. */
  public static final int MAX_WORKERS = 4096;
  /** The most shards a job may declare. */
  public static final int MAX_SHARDS = 4096;
  /** The largest model, in floats (1 Gi floats = 4 GiB). */
  public static final long MAX_MODEL_FLOATS = 1L << 30;
  /** The largest staleness bound, local step count, max staleness or lease (ms). */
  public static final long MAX_COUNT = 1L << 30;

  /** Lease of a worker when the spec does not set one. */
  public static final int DEFAULT_LEASE_MILLIS = 10_000;

  private JobSpecs() {}

  /** The spec's lease in milliseconds, with the default applied. */
  public static long leaseMillis(JobSpec spec) {
    return spec.getLeaseMillis() == 0 ? DEFAULT_LEASE_MILLIS : spec.getLeaseMillis();
  }

  /**
   * A stable hex digest of the spec's fields. Every process computes the same fingerprint for
   * the same spec; it is computed from the fields one by one (not from protobuf bytes, whose
   * encoding is not guaranteed canonical).
   */
  public static String fingerprint(JobSpec spec) {
    StringBuilder sb = new StringBuilder(256 + spec.getBlocksCount() * 48);
    sb.append("parasol/v1|").append(spec.getJobName()).append('|').append(spec.getModel())
        .append('|').append(spec.getMode().getNumber())
        .append('|').append(spec.getNumShards())
        .append('|').append(spec.getNumWorkers())
        .append('|').append(Float.floatToIntBits(spec.getLearningRate()))
        .append('|').append(spec.getSeed())
        .append('|').append(spec.getQuorum())
        .append('|').append(spec.getStalenessBound())
        .append('|').append(spec.getLocalSteps())
        .append('|').append(spec.getMaxStaleness())
        .append('|').append(spec.getStalenessLr().getNumber())
        .append('|').append(Float.floatToIntBits(spec.getParticipation()))
        .append('|').append(spec.getLeaseMillis())
        .append('|').append(spec.getOptimizer().getKind().getNumber())
        .append(',').append(Float.floatToIntBits(spec.getOptimizer().getBeta1()))
        .append(',').append(Float.floatToIntBits(spec.getOptimizer().getBeta2()))
        .append(',').append(Float.floatToIntBits(spec.getOptimizer().getEpsilon()));
    for (BlockSpec b : spec.getBlocksList()) {
      sb.append("|b").append(b.getId()).append(',').append(b.getName()).append(',')
          .append(b.getLength()).append(',').append(b.getShard()).append(',')
          .append(b.getInit().getNumber()).append(',')
          .append(Float.floatToIntBits(b.getInitScale())).append(',')
          .append(Float.floatToIntBits(b.getLearningRate()));
    }
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] digest = md.digest(sb.toString().getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /** Every problem with the spec, as sentences; empty when the spec is valid. */
  public static List<String> problems(JobSpec spec) {
    // uint32 fields arrive as Java ints: 2^31 and more read negative, so compare unsigned.
    List<String> p = new ArrayList<>();
    long shards = Integer.toUnsignedLong(spec.getNumShards());
    long workers = Integer.toUnsignedLong(spec.getNumWorkers());
    long quorum = Integer.toUnsignedLong(spec.getQuorum());
    if (spec.getMode() == Mode.MODE_UNSPECIFIED || spec.getMode() == Mode.UNRECOGNIZED) {
      p.add("mode is not set");
    }
    if (shards == 0 || shards > MAX_SHARDS) {
      p.add("num_shards must be in 1.." + MAX_SHARDS + ", got " + shards);
    }
    if (workers == 0 || workers > MAX_WORKERS) {
      p.add("num_workers must be in 1.." + MAX_WORKERS + ", got " + workers);
    }
    if (quorum > workers) {
      p.add("quorum " + quorum + " exceeds num_workers " + workers);
    }
    if (!(spec.getLearningRate() > 0) || !Float.isFinite(spec.getLearningRate())) {
      p.add("learning_rate must be a positive finite number, got " + spec.getLearningRate());
    }
    for (var e : List.of(
        java.util.Map.entry("staleness_bound", spec.getStalenessBound()),
        java.util.Map.entry("local_steps", spec.getLocalSteps()),
        java.util.Map.entry("max_staleness", spec.getMaxStaleness()),
        java.util.Map.entry("lease_millis", spec.getLeaseMillis()))) {
      if (Integer.toUnsignedLong(e.getValue()) > MAX_COUNT) {
        p.add(e.getKey() + " must be at most " + MAX_COUNT + ", got "
            + Integer.toUnsignedString(e.getValue()));
      }
    }
    if (spec.getMode() == Mode.MODE_LOCAL && spec.getLocalSteps() == 0) {
      p.add("local mode needs local_steps >= 1");
    }
    if (!(spec.getParticipation() >= 0 && spec.getParticipation() <= 1)) {
      p.add("participation must be in [0, 1], got " + spec.getParticipation());
    }
    OptimizerSpec o = spec.getOptimizer();
    if (o.getKind() == OptimizerKind.UNRECOGNIZED) {
      p.add("optimizer kind is unknown");
    }
    if (!finiteIn01(o.getBeta1()) || !finiteIn01(o.getBeta2())
        || !(o.getEpsilon() >= 0 && Float.isFinite(o.getEpsilon()))) {
      p.add("optimizer beta1 and beta2 must be in [0, 1) and epsilon finite and >= 0");
    }
    if (spec.getStalenessLr() == StalenessLr.UNRECOGNIZED) {
      p.add("staleness_lr is unknown");
    }
    if (spec.getBlocksCount() == 0 || spec.getBlocksCount() > MAX_BLOCKS) {
      p.add("a job needs 1.." + MAX_BLOCKS + " blocks, got " + spec.getBlocksCount());
    }
    long total = 0;
    for (int i = 0; i < spec.getBlocksCount() && p.size() < 20; i++) {
      BlockSpec b = spec.getBlocks(i);
      long length = Integer.toUnsignedLong(b.getLength());
      if (b.getId() != i) {
        p.add("block at position " + i + " has id " + Integer.toUnsignedString(b.getId())
            + "; ids must be 0..D-1 in order");
      }
      if (length == 0 || length > MAX_BLOCK_FLOATS) {
        p.add("block " + i + " length must be in 1.." + MAX_BLOCK_FLOATS + ", got " + length);
      }
      total += length;
      if (Integer.toUnsignedLong(b.getShard()) >= shards) {
        p.add("block " + i + " is assigned to shard " + Integer.toUnsignedString(b.getShard())
            + " of " + shards);
      }
      if (b.getInit() == InitKind.UNRECOGNIZED) {
        p.add("block " + i + " has an unknown init kind");
      }
      if (!Float.isFinite(b.getLearningRate()) || b.getLearningRate() < 0) {
        p.add("block " + i + " learning_rate must be finite and >= 0");
      }
      if (!Float.isFinite(b.getInitScale())) {
        p.add("block " + i + " init_scale must be finite");
      }
    }
    if (total > MAX_MODEL_FLOATS) {
      p.add("the model has " + total + " floats; at most " + MAX_MODEL_FLOATS + " are allowed");
    }
    return p;
  }

  private static boolean finiteIn01(float v) {
    return v >= 0 && v < 1 && Float.isFinite(v);
  }
}
