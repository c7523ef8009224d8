package io.parasol.server.core;

import io.parasol.proto.v1.BlockSpec;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import java.util.Locale;

/**
 * What a job will take of a shard's heap, checked before Init allocates anything: a job that
 * does not fit is RESOURCE_EXHAUSTED naming both figures, so a request never meets an
 * OutOfMemoryError.
 *
 * <p>Per float a shard owns: 4 bytes of block values, 4 per optimizer state array (momentum
 * and AdaGrad 1, Adam 2), 4 for a sync/local round's running sum, and 4 for the staging of
 * pushes in flight (what {@code parasol bench memory} measures: 1e8 parameters with Adam
 * retain 16.1 bytes each). The default limit is 80% of the JVM's maximum heap, leaving the rest
 * to gRPC's buffers and the process; {@code --max-bytes} sets another.
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

  /** Bytes the job needs on shard {@code shard}. */
  static long needed(JobSpec spec, int shard) {
    long floats = 0;
    for (BlockSpec b : spec.getBlocksList()) {
      if (b.getShard() == shard) {
        floats += Integer.toUnsignedLong(b.getLength());
      }
    }
    int state = switch (spec.getOptimizer().getKind()) {
      case OPTIMIZER_MOMENTUM, OPTIMIZER_ADAGRAD -> 1;
      case OPTIMIZER_ADAM -> 2;
      default -> 0;
    };
    boolean rounds = spec.getMode() == Mode.MODE_SYNC || spec.getMode() == Mode.MODE_LOCAL;
    return 4L * floats * (2 + state + (rounds ? 1 : 0));
  }

  /** Refuses a job that would not fit. */
  void check(JobSpec spec, int shard) throws ShardException {
    long need = needed(spec, shard);
    long max = limit();
    if (need > max) {
      throw new ShardException(io.grpc.Status.Code.RESOURCE_EXHAUSTED, String.format(
          Locale.ROOT, "job '%s' needs %s on shard %d (blocks, optimizer state, round sums and"
              + " push staging) but the shard may hold %s (%s); start the shard with a larger"
              + " heap or --max-bytes, or the job on more shards", spec.getJobName(),
          mib(need), shard, mib(max), limit > 0 ? "--max-bytes" : "80% of its maximum heap"),
          io.parasol.common.Refusals.SHARD_TOO_SMALL).with("shard", Integer.toString(shard))
          .with("bytes", Long.toString(need)).with("limit", Long.toString(max));
    }
  }

  private static String mib(long bytes) {
    return String.format(Locale.ROOT, "%,.1f MiB", bytes / (1024.0 * 1024.0));
  }
}
