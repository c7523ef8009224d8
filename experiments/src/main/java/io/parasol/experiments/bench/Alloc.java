package io.parasol.experiments.bench;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * Heap allocation and garbage collection over a stretch of a benchmark: the bytes every live
 * thread allocated (HotSpot's per-thread counters; threads that ended in between are not
 * counted) and the collections that ran.
 */
final class Alloc {
  /** What a stretch allocated and collected. */
  record Result(long bytes, long collections, long gcMillis) {}

  private final long bytes0;
  private final long gcs0;
  private final long gcMillis0;

  private Alloc() {
    bytes0 = allocatedBytes();
    gcs0 = collections();
    gcMillis0 = gcMillis();
  }

  static Alloc start() {
    return new Alloc();
  }

  Result stop() {
    return new Result(allocatedBytes() - bytes0, collections() - gcs0, gcMillis() - gcMillis0);
  }

  /** CPU time of the whole process, nanoseconds (-1 where unsupported). */
  static long processCpuNanos() {
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return -1;
  }

  private static long allocatedBytes() {
    ThreadMXBean t = ManagementFactory.getThreadMXBean();
    if (!(t instanceof com.sun.management.ThreadMXBean ht)) {
      return 0;
    }
    long sum = 0;
    for (long b : ht.getThreadAllocatedBytes(ht.getAllThreadIds())) {
      if (b > 0) {
        sum += b;
      }
    }
    return sum;
  }

  private static long collections() {
    long n = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      n += Math.max(0, gc.getCollectionCount());
    }
    return n;
  }

  private static long gcMillis() {
    long n = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      n += Math.max(0, gc.getCollectionTime());
    }
    return n;
  }
}
