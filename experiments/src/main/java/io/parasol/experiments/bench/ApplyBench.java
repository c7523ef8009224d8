package io.parasol.experiments.bench;

import com.google.protobuf.ByteString;
import io.parasol.common.BlockLayout;
import io.parasol.common.FloatCodec;
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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code parasol bench apply}: what a shard spends applying pushes, without the network, against
 * a plain {@code System.arraycopy} of the same number of floats measured in the same loop.
 *
 * <p>One shard (a {@link ShardCore}, the same code a server runs) holds an N-float model in
 * about four blocks. Each repetition times, one after the other: the array copy; a plain
 * {@code x -= lr * g} loop over arrays (the floor an apply can reach); the shard taking the
 * pushed chunks ({@code accept}: decoding into the staging buffers and checking for NaN and
 * infinities); and the shard applying the complete pushes ({@code apply}: the update rule
 * under the block locks, with staleness and metrics bookkeeping). With several threads, thread
 * t pushes the blocks i with i mod T = t, so the threads apply different blocks in parallel.
 */
final class ApplyBench {

  record Options(int params, int threads, OptimizerKind optimizer, int warmup, int reps,
      double maxSeconds) {}

  private ApplyBench() {}

  static Map<String, Object> run(Options o) throws Exception {
    int n = o.params();
    BlockLayout layout = BlockLayout.of(List.of(new BlockLayout.Tensor("x", n,
        InitKind.INIT_ZEROS, 0f)), 1, 0);
    JobSpec spec = JobSpec.newBuilder().setJobName("bench-apply").setModel("none")
        .setMode(Mode.MODE_ASYNC).addAllBlocks(layout.toSpecs(null)).setNumShards(1)
        .setNumWorkers(o.threads()).setLearningRate(1e-3f).setSeed(1)
        .setOptimizer(OptimizerSpec.newBuilder().setKind(o.optimizer()).setBeta1(0.9f)
            .setBeta2(0.999f).setEpsilon(1e-8f))
        .setLeaseMillis(600_000).build();
    ShardCore core = new ShardCore(0, 1, null, Runnable::run);
    core.init(spec, 0);

    float[] g = new float[n];
    SplittableRandom rng = new SplittableRandom(5);
    for (int i = 0; i < n; i++) {
      g[i] = (float) (rng.nextDouble() * 2e-3 - 1e-3);
    }
    // The pushed chunks, encoded once: what arrives from the wire.
    List<List<BlockLayout.Block>> mine = new ArrayList<>();
    List<List<ByteString[]>> chunks = new ArrayList<>();
    for (int t = 0; t < o.threads(); t++) {
      mine.add(new ArrayList<>());
      chunks.add(new ArrayList<>());
    }
    for (BlockLayout.Block b : layout.blocks()) {
      int t = b.id() % o.threads();
      mine.get(t).add(b);
      int pieces = (b.length() + FloatCodec.DEFAULT_CHUNK_FLOATS - 1)
          / FloatCodec.DEFAULT_CHUNK_FLOATS;
      ByteString[] cs = new ByteString[pieces];
      for (int p = 0; p < pieces; p++) {
        int off = p * FloatCodec.DEFAULT_CHUNK_FLOATS;
        cs[p] = FloatCodec.encode(g, b.offset() + off,
            Math.min(FloatCodec.DEFAULT_CHUNK_FLOATS, b.length() - off));
      }
      chunks.get(t).add(cs);
    }
    float[] src = g.clone();
    float[] dst = new float[n];
    float[] x = new float[n];
    long[] sequence = new long[o.threads()];
    String fingerprint = io.parasol.common.JobSpecs.fingerprint(spec);

    Samples copy = new Samples();
    Samples loop = new Samples();
    Samples accept = new Samples();
    Samples apply = new Samples();
    ExecutorService pool = Executors.newFixedThreadPool(o.threads(), r -> {
      Thread th = new Thread(r, "bench-apply");
      th.setDaemon(true);
      return th;
    });
    Alloc alloc = null;
    long deadline = Long.MAX_VALUE;
    int measured = 0;
    try {
      for (int r = 0; r < o.warmup() + o.reps(); r++) {
        boolean m = r >= o.warmup();
        if (m && alloc == null) {
          alloc = Alloc.start();
          deadline = System.nanoTime() + (long) (o.maxSeconds() * 1e9);
        }
        long t0 = System.nanoTime();
        System.arraycopy(src, 0, dst, 0, n);
        long t1 = System.nanoTime();
        sgd(x, g, 1e-3f);
        long t2 = System.nanoTime();
        PushPlan[] plans = new PushPlan[o.threads()];
        long t3 = System.nanoTime();
        parallel(pool, o.threads(), t -> {
          PushHeader.Builder h = PushHeader.newBuilder().setFingerprint(fingerprint).setWorker(t)
              .setSequence(++sequence[t]).setStep(sequence[t]).setKind(PushKind.PUSH_GRADIENT);
          for (BlockLayout.Block b : mine.get(t)) {
            h.addBlocks(BlockRead.newBuilder().setBlockId(b.id()).setVersion(0));
          }
          PushPlan plan = core.preparePush(h.build());
          for (int i = 0; i < mine.get(t).size(); i++) {
            BlockLayout.Block b = mine.get(t).get(i);
            int off = 0;
            for (ByteString c : chunks.get(t).get(i)) {
              plan.accept(b.id(), off, c);
              off += c.size() / Float.BYTES;
            }
          }
          plans[t] = plan;
          return null;
        });
        long t4 = System.nanoTime();
        parallel(pool, o.threads(), t -> core.push(plans[t]));
        long t5 = System.nanoTime();
        if (m) {
          copy.add(t1 - t0);
          loop.add(t2 - t1);
          accept.add(t4 - t3);
          apply.add(t5 - t4);
          measured++;
          if (measured >= 3 && System.nanoTime() > deadline) {
            break;
          }
        }
      }
    } finally {
      pool.shutdownNow();
    }
    Alloc.Result heap = alloc.stop();
    double bytes = 4.0 * n;
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("bench", "apply");
    out.put("params", n);
    out.put("blocks", layout.numBlocks());
    out.put("threads", o.threads());
    out.put("optimizer",
        o.optimizer().name().substring("OPTIMIZER_".length()).toLowerCase(Locale.ROOT));
    out.put("repetitions", measured);
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("array_copy", copy.summary(bytes));
    f.put("plain_sgd_loop", loop.summary(bytes));
    f.put("shard_accept", accept.summary(bytes));
    f.put("shard_apply", apply.summary(bytes));
    out.put("figures", f);
    out.put("apply_gb_per_s", Samples.round(apply.gbps(bytes), 3));
    out.put("copy_gb_per_s", Samples.round(copy.gbps(bytes), 3));
    out.put("ratio_apply_to_copy", Samples.round(copy.median() / apply.median(), 3));
    out.put("ratio_accept_plus_apply_to_copy", Samples.round(copy.median()
        / (accept.median() + apply.median()), 3));
    out.put("ratio_plain_loop_to_copy", Samples.round(copy.median() / loop.median(), 3));
    out.put("heap_bytes_allocated_per_push", heap.bytes() / Math.max(1, measured * o.threads()));
    out.put("gc_collections", heap.collections());
    return out;
  }

  /** The reference update loop: what the JIT makes of the plainest SGD step. */
  static void sgd(float[] x, float[] g, float lr) {
    for (int i = 0; i < x.length; i++) {
      x[i] -= lr * g[i];
    }
  }

  @FunctionalInterface
  private interface Task {
    Object run(int thread) throws Exception;
  }

  private static void parallel(ExecutorService pool, int threads, Task task) throws Exception {
    if (threads == 1) {
      task.run(0);
      return;
    }
    List<Future<Object>> fs = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      final int th = t;
      Callable<Object> c = () -> task.run(th);
      fs.add(pool.submit(c));
    }
    for (Future<Object> f : fs) {
      f.get();
    }
  }
}
