package io.parasol.common;

import io.parasol.proto.v1.BlockSpec;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
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
    List<String> p = new ArrayList<>();
    if (spec.getMode() == Mode.MODE_UNSPECIFIED || spec.getMode() == Mode.UNRECOGNIZED) {
      p.add("mode is not set");
    }
    if (spec.getNumShards() == 0) {
      p.add("num_shards must be at least 1");
    }
    if (spec.getNumWorkers() == 0 || spec.getNumWorkers() > MAX_WORKERS) {
      p.add("num_workers must be in 1.." + MAX_WORKERS + ", got " + spec.getNumWorkers());
    }
    if (spec.getQuorum() > spec.getNumWorkers()) {
      p.add("quorum " + spec.getQuorum() + " exceeds num_workers " + spec.getNumWorkers());
    }
    if (!(spec.getLearningRate() > 0) || !Float.isFinite(spec.getLearningRate())) {
      p.add("learning_rate must be a positive finite number, got " + spec.getLearningRate());
    }
    if (!(spec.getParticipation() >= 0 && spec.getParticipation() <= 1)) {
      p.add("participation must be in [0, 1], got " + spec.getParticipation());
    }
    if (spec.getMode() == Mode.MODE_LOCAL && spec.getLocalSteps() == 0) {
      p.add("local mode needs local_steps >= 1");
    }
    if (spec.getBlocksCount() == 0 || spec.getBlocksCount() > MAX_BLOCKS) {
      p.add("a job needs 1.." + MAX_BLOCKS + " blocks, got " + spec.getBlocksCount());
    }
    for (int i = 0; i < spec.getBlocksCount() && p.size() < 20; i++) {
      BlockSpec b = spec.getBlocks(i);
      if (b.getId() != i) {
        p.add("block at position " + i + " has id " + b.getId() + "; ids must be 0..D-1 in order");
      }
      if (b.getLength() == 0 || b.getLength() > MAX_BLOCK_FLOATS) {
        p.add("block " + i + " length must be in 1.." + MAX_BLOCK_FLOATS + ", got "
            + b.getLength());
      }
      if (b.getShard() >= spec.getNumShards()) {
        p.add("block " + i + " is assigned to shard " + b.getShard() + " of "
            + spec.getNumShards());
      }
      if (!Float.isFinite(b.getLearningRate()) || b.getLearningRate() < 0) {
        p.add("block " + i + " learning_rate must be finite and >= 0");
      }
      if (!Float.isFinite(b.getInitScale())) {
        p.add("block " + i + " init_scale must be finite");
      }
    }
    return p;
  }
}
