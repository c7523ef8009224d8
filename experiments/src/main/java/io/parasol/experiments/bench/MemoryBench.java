package io.parasol.experiments.bench;

import io.parasol.common.BlockLayout;
import io.parasol.common.FloatCodec;
import io.parasol.common.JobSpecs;
import io.parasol.proto.v1.BlockRead;
import io.parasol.proto.v1.InitKind;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.OptimizerKind;
import io.parasol.proto.v1.OptimizerSpec;
import io.parasol.proto.v1.PushHeader;
import io.parasol.proto.v1.PushKind;
import io.parasol.server.core.PushPlan;
import io.parasol.server.core.ShardCore;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code parasol bench memory}: the heap one shard needs to hold an N-parameter model with a
 * given optimizer, measured on the same {@link ShardCore} a server runs, against the arithmetic
 * floor (4 bytes per parameter for the block, plus 4 per parameter for each optimizer state
 * array: momentum 1, adagrad 1, adam 2).
 *
 * <p>Phases, each measured as live heap after a full collection: the empty shard; after the
 * job's Init (blocks allocated and filled); after the first complete push from every worker has
 * been applied (optimizer state and any push staging allocated). The peak of the push phase is
 * the sum of the heap pools' peak usage while the pushes were taken and applied (an upper
 * bound: the pools may peak at different moments), the figure to size {@code -Xmx} by. The pushes arrive as the wire delivers them, one encoded chunk at a time,
 * so the benchmark itself holds no second copy of the model.
 */
final class MemoryBench {

  record Options(long params, OptimizerKind optimizer, Mode mode, int workers) {}

  private MemoryBench() {}

  static Map<String, Object> run(Options o) throws Exception {
    if (o.params() > Integer.MAX_VALUE - 8L) {
      throw new IllegalArgumentException("--params above 2^31-9 floats do not fit one shard's"
          + " arrays; use more shards");
    }
    int n = (int) o.params();
    long before = liveHeap();
    BlockLayout layout = BlockLayout.of(List.of(new BlockLayout.Tensor("x", n,
        InitKind.INIT_ZEROS, 0f)), 1, 0);
    JobSpec spec = JobSpec.newBuilder().setJobName("bench-memory").setModel("none")
        .setMode(o.mode()).addAllBlocks(layout.toSpecs(null)).setNumShards(1)
        .setNumWorkers(o.workers()).setLearningRate(1e-3f).setSeed(1)
        .setOptimizer(OptimizerSpec.newBuilder().setKind(o.optimizer()).setBeta1(0.9f)
            .setBeta2(0.999f).setEpsilon(1e-8f))
        .setLeaseMillis(600_000).build();
    ShardCore core = new ShardCore(0, 1, null, Runnable::run);
    core.init(spec, 0);
    long afterInit = liveHeap();

    String fingerprint = JobSpecs.fingerprint(spec);
    float[] chunk = new float[FloatCodec.DEFAULT_CHUNK_FLOATS];
    for (int i = 0; i < chunk.length; i++) {
      chunk[i] = 1e-4f * ((i % 7) - 3);
    }
    resetPeaks();
    for (int w = 0; w < o.workers(); w++) {
      PushHeader.Builder h = PushHeader.newBuilder().setFingerprint(fingerprint).setWorker(w)
          .setSequence(1).setStep(0).setKind(PushKind.PUSH_GRADIENT);
      for (BlockLayout.Block b : layout.blocks()) {
        h.addBlocks(BlockRead.newBuilder().setBlockId(b.id()).setVersion(0));
      }
      PushPlan plan = core.preparePush(h.build());
      for (BlockLayout.Block b : layout.blocks()) {
        for (int off = 0; off < b.length(); off += chunk.length) {
          int len = Math.min(chunk.length, b.length() - off);
          plan.accept(b.id(), off, FloatCodec.encode(chunk, 0, len));
        }
      }
      core.push(plan);
    }
    long peak = peakHeap();
    long afterPush = liveHeap();

    int stateArrays = switch (o.optimizer()) {
      case OPTIMIZER_MOMENTUM, OPTIMIZER_ADAGRAD -> 1;
      case OPTIMIZER_ADAM -> 2;
      default -> 0;
    };
    long floor = 4L * n * (1 + stateArrays);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("bench", "memory");
    out.put("params", n);
    out.put("blocks", layout.numBlocks());
    out.put("optimizer",
        o.optimizer().name().substring("OPTIMIZER_".length()).toLowerCase(Locale.ROOT));
    out.put("mode", o.mode().name().substring("MODE_".length()).toLowerCase(Locale.ROOT));
    out.put("workers", o.workers());
    out.put("floor_bytes", floor);
    out.put("init_bytes", afterInit - before);
    out.put("retained_bytes", afterPush - before);
    out.put("push_peak_bytes_upper_bound", Math.max(afterPush - before, peak - before));
    out.put("retained_bytes_per_param", Samples.round((afterPush - before) / (double) n, 2));
    out.put("ratio_retained_to_floor", Samples.round((afterPush - before) / (double) floor, 3));
    out.put("max_heap_bytes", Runtime.getRuntime().maxMemory());
    // Keep the shard reachable until everything above was measured.
    out.put("versions_after", core.status().getBlocksCount());
    return out;
  }

  private static long liveHeap() {
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  private static void resetPeaks() {
    liveHeap();
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      if (p.getType() == MemoryType.HEAP) {
        p.resetPeakUsage();
      }
    }
  }

  private static long peakHeap() {
    long sum = 0;
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) {
        sum += p.getPeakUsage().getUsed();
      }
    }
    return sum;
  }

  /** The bench's table. */
  static String table(Map<String, Object> r) {
    double mib = 1024.0 * 1024.0;
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "bench memory: one shard, %,d parameters in %s blocks,"
        + " optimizer %s, mode %s, %s worker(s); live heap after a full GC%n", r.get("params"),
        r.get("blocks"), r.get("optimizer"), r.get("mode"), r.get("workers")));
    sb.append(String.format(Locale.ROOT, "%-34s %12s %10s%n", "figure", "MiB", "x floor"));
    double floor = ((Number) r.get("floor_bytes")).doubleValue();
    for (String[] row : new String[][] {{"floor (model + optimizer state)", "floor_bytes"},
        {"after Init", "init_bytes"}, {"after the first pushes (retained)", "retained_bytes"},
        {"peak while pushing (upper bound)", "push_peak_bytes_upper_bound"}}) {
      double v = ((Number) r.get(row[1])).doubleValue();
      sb.append(String.format(Locale.ROOT, "%-34s %12.1f %10.2f%n", row[0], v / mib, v / floor));
    }
    sb.append(String.format(Locale.ROOT, "bytes per parameter retained: %s; JVM max heap %.0f MiB"
        + " (-Xmx: PARASOL_JAVA_OPTS for ./parasol, JAVA_OPTS in the images)%n",
        r.get("retained_bytes_per_param"),
        ((Number) r.get("max_heap_bytes")).doubleValue() / mib));
    return sb.toString();
  }

  /** {@code parasol bench memory}. */
  @Command(name = "memory", mixinStandardHelpOptions = true,
      description = "The heap one shard needs for an N-parameter model with an optimizer's"
          + " state, measured on the shard's own code, against the arithmetic floor.")
  static final class Cli implements Callable<Integer> {
    @Option(names = "--params", defaultValue = "100000000",
        description = "Floats in the model (default: ${DEFAULT-VALUE}).")
    long params;

    @Option(names = "--optimizer", defaultValue = "adam",
        description = "Server-side optimizer: sgd, momentum, adagrad or adam (default:"
            + " ${DEFAULT-VALUE}).")
    String optimizer;

    @Option(names = "--mode", defaultValue = "async",
        description = "Consistency mode (sync keeps a running sum per block) (default:"
            + " ${DEFAULT-VALUE}).")
    String mode;

    @Option(names = "--workers", defaultValue = "4",
        description = "Workers that each push once (default: ${DEFAULT-VALUE}).")
    int workers;

    @picocli.CommandLine.Mixin
    JsonOutput out;

    @Override
    public Integer call() throws Exception {
      BenchCommand.positive("--params", params);
      BenchCommand.positive("--workers", workers);
      Map<String, Object> r = run(new Options(params,
          io.parasol.worker.train.JobSettings.parseOptimizer(optimizer),
          io.parasol.worker.train.JobSettings.parseMode(mode), workers));
      out.print(r, table(r));
      return 0;
    }
  }
}
