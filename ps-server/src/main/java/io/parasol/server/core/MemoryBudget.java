package io.parasol.server.core;

import io.parasol.proto.v1.BlockSpec;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import java.util.Locale;

/**
 * What a job will take of a shard's heap, checked before Init allocates anything: a job that
 * does not fit next to the shard's other jobs is RESOURCE_EXHAUSTED naming the figures, so a
 * request never meets an OutOfMemoryError. The limit covers all the shard's jobs together.
 *
 * <p>Per float a shard owns: 4 bytes of block values, 4 per optimizer state array (momentum
 * and AdaGrad 1, Adam 2), 4 for a sync/local round's running sum (the job's own heap), and 4
 * for one push's staging, plus two copies of the largest block for a pull's snapshot (what
 * {@code parasol bench memory} measures: 1e8 parameters with Adam retain 16.1 bytes each
 * after pushes). Each array counts the heap it occupies: with G1, an array of half a region or
 * more takes whole regions (a block of 1 Mi floats, 4 MiB and a header, takes five 1 MiB
 * regions). Requests never take more than the limit: what the job leaves of it bounds the
 * shard's push and pull buffers ({@link Buffers}). The default limit is 80% of the JVM's
 * maximum heap, leaving the rest to gRPC and the process; {@code --max-bytes} sets another.
 */
final class MemoryBudget {
  /** The default share of the maximum heap a job may take. */
  static final double DEFAULT_HEAP_SHARE = 0.8;

  private volatile long limit;

  /** Sets the limit in bytes; 0 restores the default. */
  void limit(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("max bytes must be >= 0, got " + bytes);
    }
    limit = bytes;
  }

  /** The limit in bytes now. */
  long limit() {
    long l = limit;
    return l > 0 ? l : (long) (Runtime.getRuntime().maxMemory() * DEFAULT_HEAP_SHARE);
  }

  /** Heap the job itself holds on shard {@code shard}: blocks, optimizer state, round sums. */
  static long persistent(JobSpec spec, int shard) {
    int state = switch (spec.getOptimizer().getKind()) {
      case OPTIMIZER_MOMENTUM, OPTIMIZER_ADAGRAD -> 1;
      case OPTIMIZER_ADAM -> 2;
      default -> 0;
    };
    boolean rounds = spec.getMode() == Mode.MODE_SYNC || spec.getMode() == Mode.MODE_LOCAL;
    return blockArrays(spec, shard) * (1 + state + (rounds ? 1 : 0));
  }

  /** Bytes the job needs on shard {@code shard}: its own, one push's and one pull's buffers. */
  static long needed(JobSpec spec, int shard) {
    long largest = 0;
    for (BlockSpec b : spec.getBlocksList()) {
      if (b.getShard() == shard) {
        largest = Math.max(largest, arrayBytes(Integer.toUnsignedLong(b.getLength()), 4));
      }
    }
    return persistent(spec, shard) + blockArrays(spec, shard) + 2 * largest;
  }

  /** Heap of one float array per block the shard owns. */
  private static long blockArrays(JobSpec spec, int shard) {
    long bytes = 0;
    for (BlockSpec b : spec.getBlocksList()) {
      if (b.getShard() == shard) {
        bytes += arrayBytes(Integer.toUnsignedLong(b.getLength()), 4);
      }
    }
    return bytes;
  }

  /** G1's region size in bytes, or 0 when the heap is not G1's (no rounding then). */
  private static final long REGION = g1RegionBytes();

  private static long g1RegionBytes() {
    try {
      var vm = java.lang.management.ManagementFactory
          .getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
      if (vm == null || !Boolean.parseBoolean(vm.getVMOption("UseG1GC").getValue())) {
        return 0;
      }
      return Long.parseLong(vm.getVMOption("G1HeapRegionSize").getValue());
    } catch (RuntimeException | LinkageError e) {
      return 0;
    }
  }

  /**
   * The heap an array of {@code elements} elements of {@code elementBytes} bytes occupies: its
   * 16-byte header and data rounded up to 8 bytes, and with G1, whole regions for an array of
   * half a region or more.
   */
  static long arrayBytes(long elements, int elementBytes) {
    long size = (16 + elements * elementBytes + 7) & ~7L;
    if (REGION > 0 && size >= REGION / 2) {
      return (size + REGION - 1) / REGION * REGION;
    }
    return size;
  }

  /** Refuses a job that would not fit on a shard that holds nothing else. */
  void check(JobSpec spec, int shard) throws ShardException {
    check(spec, shard, 0, 0);
  }

  /**
   * Refuses a job that would not fit next to the jobs already there, which hold {@code held}
   * bytes between them ({@code jobs} of them).
   */
  void check(JobSpec spec, int shard, long held, int jobs) throws ShardException {
    long need = needed(spec, shard);
    long max = limit();
    if (held + need > max) {
      if (held > 0) {
        throw new ShardException(io.grpc.Status.Code.RESOURCE_EXHAUSTED, String.format(
            Locale.ROOT, "job '%s' needs %s on shard %d (blocks, optimizer state, round sums,"
                + " a push's staging and a pull's snapshot) but the shard's %d other jobs hold"
                + " %s of the %s it may hold (%s); delete a job, or start the job on another"
                + " fleet or more shards", spec.getJobName(), mib(need), shard, jobs,
            mib(held), mib(max), limit > 0 ? "--max-bytes" : "80% of its maximum heap"),
            io.parasol.common.Refusals.SHARD_TOO_SMALL).with("shard", Integer.toString(shard))
            .with("bytes", Long.toString(need)).with("held", Long.toString(held))
            .with("limit", Long.toString(max));
      }
      throw new ShardException(io.grpc.Status.Code.RESOURCE_EXHAUSTED, String.format(
          Locale.ROOT, "job '%s' needs %s on shard %d (blocks, optimizer state, round sums, a"
              + " push's staging and a pull's snapshot) but the shard may hold %s (%s); start"
              + " the shard with a larger heap or --max-bytes, or the job on more shards",
          spec.getJobName(),
          mib(need), shard, mib(max), limit > 0 ? "--max-bytes" : "80% of its maximum heap"),
          io.parasol.common.Refusals.SHARD_TOO_SMALL).with("shard", Integer.toString(shard))
          .with("bytes", Long.toString(need)).with("limit", Long.toString(max));
    }
  }

  static String mib(long bytes) {
    return String.format(Locale.ROOT, "%,.1f MiB", bytes / (1024.0 * 1024.0));
  }
}
