package io.parasol.common;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.parasol.proto.v1.BlockSpec;
import io.parasol.proto.v1.InitKind;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.LrSchedule;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.OptimizerKind;
import io.parasol.proto.v1.OptimizerSpec;
import io.parasol.proto.v1.StalenessLr;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

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

  /** The most workers the job may have ({@code max_workers}, 0 meaning {@code num_workers}). */
  public static int maxWorkers(JobSpec spec) {
    return spec.getMaxWorkers() == 0 ? spec.getNumWorkers()
        : Math.max(spec.getMaxWorkers(), spec.getNumWorkers());
  }

  /**
   * A stable hex digest of the spec's fields. Every process computes the same fingerprint for
   * the same spec. It is computed from the fields one by one, walking the proto descriptor in
   * field-number order (not from protobuf bytes, whose encoding is not guaranteed canonical), so
   * a field added to {@link JobSpec} is part of the fingerprint without an edit here. One
   * exception: {@code max_workers} equal to {@code num_workers} means the same as 0 and is left
   * out, as 0 is, so that specs without elastic workers keep the fingerprint they had before
   * the field existed. Likewise an unset {@code lr_schedule} (a constant step size) is left
   * out, so specs without a schedule keep theirs.
   */
  public static String fingerprint(JobSpec spec) {
    StringBuilder sb = new StringBuilder(256 + spec.getBlocksCount() * 48);
    sb.append("parasol/v1");
    canonical(spec, sb);
    if (spec.getMaxWorkers() != 0 && spec.getMaxWorkers() != spec.getNumWorkers()) {
      sb.append("|max_workers=").append(Integer.toUnsignedString(spec.getMaxWorkers()));
    }
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] digest = md.digest(sb.toString().getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /** Appends every field of {@code m} (set or default), in field-number order. */
  private static void canonical(Message m, StringBuilder sb) {
    List<FieldDescriptor> fields = new ArrayList<>(m.getDescriptorForType().getFields());
    fields.sort(Comparator.comparingInt(FieldDescriptor::getNumber));
    for (FieldDescriptor f : fields) {
      if (f.getNumber() == JobSpec.MAX_WORKERS_FIELD_NUMBER
          && f.getContainingType() == JobSpec.getDescriptor()) {
        continue; // appended by fingerprint(), normalised
      }
      if (f.getNumber() == JobSpec.LR_SCHEDULE_FIELD_NUMBER
          && f.getContainingType() == JobSpec.getDescriptor() && !m.hasField(f)) {
        continue; // no schedule: the fingerprint specs had before the field existed
      }
      sb.append('|').append(f.getNumber()).append('=');
      if (f.isRepeated()) {
        int n = m.getRepeatedFieldCount(f);
        sb.append('[').append(n);
        for (int k = 0; k < n; k++) {
          sb.append(';');
          value(f, m.getRepeatedField(f, k), sb);
        }
        sb.append(']');
      } else {
        value(f, m.getField(f), sb);
      }
    }
  }

  private static void value(FieldDescriptor f, Object v, StringBuilder sb) {
    switch (f.getJavaType()) {
      case MESSAGE -> {
        sb.append('{');
        canonical((Message) v, sb);
        sb.append('}');
      }
      case FLOAT -> sb.append(Float.floatToIntBits((Float) v));
      case DOUBLE -> sb.append(Double.doubleToLongBits((Double) v));
      case ENUM -> sb.append(((EnumValueDescriptor) v).getNumber());
      case STRING -> sb.append(((String) v).length()).append(':').append(v);
      case BYTE_STRING -> sb.append(HexFormat.of().formatHex(((ByteString) v).toByteArray()));
      default -> sb.append(v);
    }
  }

  /** The job flag behind each top-level spec field, for messages a user acts on. */
  private static final Map<String, String> FLAGS = Map.ofEntries(
      Map.entry("job_name", "job"), Map.entry("mode", "mode"),
      Map.entry("blocks", "model layout (model, max-block-size, block-lr, shards)"),
      Map.entry("num_shards", "shards"), Map.entry("num_workers", "workers"),
      Map.entry("learning_rate", "lr"), Map.entry("seed", "seed"),
      Map.entry("quorum", "quorum"), Map.entry("staleness_bound", "staleness-bound"),
      Map.entry("local_steps", "local-steps"), Map.entry("max_staleness", "max-staleness"),
      Map.entry("staleness_lr", "staleness-lr"), Map.entry("optimizer", "optimizer"),
      Map.entry("model", "model"), Map.entry("participation", "participation"),
      Map.entry("lease_millis", "lease"), Map.entry("max_workers", "max-workers"),
      Map.entry("lr_schedule", "lr-schedule (or the run's length: epochs, steps)"));

  /** {@link #differences} joined for a message: the first 8, then how many more. */
  public static String differencesLine(JobSpec declared, JobSpec offered) {
    List<String> diffs = differences(declared, offered);
    return diffs.size() <= 8 ? String.join(", ", diffs)
        : String.join(", ", diffs.subList(0, 8)) + " and " + (diffs.size() - 8) + " more";
  }

  /**
   * The settings in which {@code offered} differs from {@code declared}, each as
   * {@code "lr 0.3 vs 0.2"} (the job flag's name, the declared value, the offered value); for
   * the block layout, the first block that differs. Empty when the specs are equal.
   */
  public static List<String> differences(JobSpec declared, JobSpec offered) {
    List<String> out = new ArrayList<>();
    List<FieldDescriptor> fields = new ArrayList<>(JobSpec.getDescriptor().getFields());
    fields.sort(Comparator.comparingInt(FieldDescriptor::getNumber));
    for (FieldDescriptor f : fields) {
      Object a = declared.getField(f);
      Object b = offered.getField(f);
      if (f.getNumber() == JobSpec.MAX_WORKERS_FIELD_NUMBER) {
        a = maxWorkers(declared);
        b = maxWorkers(offered);
      }
      if (a.equals(b)) {
        continue;
      }
      String name = FLAGS.getOrDefault(f.getName(), f.getName());
      if (f.getName().equals("blocks")) {
        out.add(name + ": " + blockDifference(declared, offered));
      } else {
        out.add(name + " " + show(a) + " vs " + show(b));
      }
    }
    return out;
  }

  private static String blockDifference(JobSpec a, JobSpec b) {
    if (a.getBlocksCount() != b.getBlocksCount()) {
      return a.getBlocksCount() + " blocks vs " + b.getBlocksCount();
    }
    for (int i = 0; i < a.getBlocksCount(); i++) {
      if (!a.getBlocks(i).equals(b.getBlocks(i))) {
        BlockSpec x = a.getBlocks(i);
        BlockSpec y = b.getBlocks(i);
        return "block " + i + " is " + x.getName() + " (" + x.getLength() + " floats, shard "
            + x.getShard() + ") vs " + y.getName() + " (" + y.getLength() + " floats, shard "
            + y.getShard() + ")";
      }
    }
    return "blocks differ";
  }

  private static String show(Object v) {
    if (v instanceof LrSchedule s) {
      return LrSchedules.format(s) + (s.getHorizon() == 0 ? ""
          : " over " + Long.toUnsignedString(s.getHorizon()) + " updates");
    }
    if (v instanceof EnumValueDescriptor e) {
      return e.getName().toLowerCase(java.util.Locale.ROOT);
    }
    if (v instanceof Message m) {
      return com.google.protobuf.TextFormat.shortDebugString(m);
    }
    if (v instanceof String str) {
      return "'" + str + "'";
    }
    return String.valueOf(v);
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
    long maxWorkers = Integer.toUnsignedLong(spec.getMaxWorkers());
    if (maxWorkers != 0 && (maxWorkers < workers || maxWorkers > MAX_WORKERS)) {
      p.add("max_workers must be 0 (= num_workers) or in num_workers.." + MAX_WORKERS + " ("
          + workers + ".." + MAX_WORKERS + "), got " + maxWorkers);
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
    if (spec.hasLrSchedule()) {
      p.addAll(LrSchedules.problems(spec.getLrSchedule()));
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
      if (b.getInit() == InitKind.INIT_VALUES
          ? b.getInitValues().size() != 4L * length : !b.getInitValues().isEmpty()) {
        p.add("block " + i + " init_values must hold 4 * length bytes with INIT_VALUES and be"
            + " empty otherwise, got " + b.getInitValues().size() + " bytes");
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
