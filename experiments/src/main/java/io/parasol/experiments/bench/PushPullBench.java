package io.parasol.experiments.bench;

import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.parasol.common.BlockLayout;
import io.parasol.common.FloatCodec;
import io.parasol.proto.v1.InitKind;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.OptimizerKind;
import io.parasol.proto.v1.OptimizerSpec;
import io.parasol.proto.v1.PushKind;
import io.parasol.proto.v1.ValueEncoding;
import io.parasol.server.ShardServer;
import io.parasol.client.PsClient;
import io.parasol.worker.train.OffHeap;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code parasol bench pushpull}: an embedded cluster on loopback, W workers pushing and pulling
 * an N-float model over S shards, against plain sockets moving the same bytes in the same run.
 *
 * <p>Each round measures, one after the other: the raw TCP references (one way; there and
 * back; both ways at once), plain gRPC-Java moving the same bytes to S servers ({@link
 * PlainGrpc}: push, pull, both at once), then Parasol's push, pull, push+pull overlapped (both
 * streams in flight together, as an async worker does) and push then pull. Rounds repeat after warm-up
 * until the repetitions are done or the time budget is spent; figures are medians and 99th
 * percentiles over rounds, so the references and Parasol see the same noise.
 */
final class PushPullBench {

  /**
   * @param params N, floats in the model
   * @param shards S
   * @param workers W, each with its own channels, all pushing and pulling at once
   * @param wire wire precision
   * @param warmup rounds not measured
   * @param reps measured rounds at most
   * @param maxSeconds time budget of the measured rounds (at least 3 rounds run)
   * @param chunkFloats values per chunk message, client side
   * @param clientWindow client flow-control window in bytes (0: gRPC's default)
   * @param serverWindow shard flow-control window in bytes (0: the shard's own default)
   * @param offHeap push from and pull into ND4J off-heap vectors (else float arrays)
   */
  record Options(int params, int shards, int workers, ValueEncoding wire, int warmup, int reps,
      double maxSeconds, int chunkFloats, int clientWindow, int serverWindow, boolean offHeap,
      String only) {}

  private PushPullBench() {}

  static Map<String, Object> run(Options o, PrintStream progress) throws Exception {
    long wireBytes = (long) o.params() * FloatCodec.bytesPerValue(o.wire());
    BlockLayout layout = BlockLayout.of(List.of(new BlockLayout.Tensor("x", o.params(),
        InitKind.INIT_ZEROS, 0f)), o.shards(), 0);
    JobSpec spec = JobSpec.newBuilder().setJobName("bench-pushpull").setModel("none")
        .setMode(Mode.MODE_ASYNC).addAllBlocks(layout.toSpecs(null))
        .setNumShards(o.shards()).setNumWorkers(o.workers()).setLearningRate(1e-3f).setSeed(1)
        .setOptimizer(OptimizerSpec.newBuilder().setKind(OptimizerKind.OPTIMIZER_SGD))
        .setLeaseMillis(600_000).build();
    List<ShardServer> servers = new ArrayList<>();
    List<Worker> workers = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, o.workers()), r -> {
      Thread t = new Thread(r, "bench-worker");
      t.setDaemon(true);
      return t;
    });
    try (RawLoopback raw = RawLoopback.open();
        PlainGrpc grpc = PlainGrpc.open(o.shards(),
            o.chunkFloats() * FloatCodec.bytesPerValue(o.wire()), o.clientWindow())) {
      for (int s = 0; s < o.shards(); s++) {
        servers.add(startShard(s, o.shards(), o.serverWindow()));
      }
      List<String> addresses = new ArrayList<>();
      for (ShardServer s : servers) {
        addresses.add("127.0.0.1:" + s.port());
      }
      PsClient.Transport transport = new PsClient.Transport(o.chunkFloats(), o.clientWindow(),
          o.wire());
      for (int k = 0; k < o.workers(); k++) {
        PsClient c = PsClient.connect(PsClient.Connection.plaintext(addresses), layout,
            Duration.ofSeconds(120), Duration.ofSeconds(120), null, transport);
        workers.add(new Worker(k, c, layout, o.offHeap()));
      }
      workers.get(0).client.init(spec);
      for (Worker w : workers) {
        w.client.init(spec);
      }

      String[] phases = {"raw_one_way", "raw_there_and_back", "raw_duplex", "grpc_push",
          "grpc_pull", "grpc_push_pull", "push", "pull", "push_pull", "push_then_pull"};
      long allWorkersBytes = o.workers() * wireBytes;
      Map<String, Samples> samples = new LinkedHashMap<>();
      Map<String, Long> cpu = new LinkedHashMap<>();
      for (String p : phases) {
        samples.put(p, new Samples());
        cpu.put(p, 0L);
      }
      if (progress != null) {
        progress.printf(Locale.ROOT, "bench pushpull: %d params, %d shard(s), %d worker(s), %s"
            + " wire, warming up...%n", o.params(), o.shards(), o.workers(),
            FloatCodec.encodingName(o.wire()));
      }
      // Heap allocation and GC of Parasol's phases only (the references allocate their own).
      long heapBytes = 0;
      long gcCollections = 0;
      long gcMillis = 0;
      long parasolOps = 0;
      boolean started = false;
      long deadline = Long.MAX_VALUE;
      int rounds = 0;
      for (int r = 0; r < o.warmup() + o.reps(); r++) {
        boolean measured = r >= o.warmup();
        if (measured && !started) {
          started = true;
          deadline = System.nanoTime() + (long) (o.maxSeconds() * 1e9);
        }
        for (String p : phases) {
          if (o.only() != null && !o.only().equals(p)) {
            continue;
          }
          boolean reference = p.startsWith("raw") || p.startsWith("grpc");
          Alloc alloc = measured && !reference ? Alloc.start() : null;
          long c0 = Alloc.processCpuNanos();
          long t = switch (p) {
            case "raw_one_way" -> raw.oneWay(2 * wireBytes);
            case "raw_there_and_back" -> raw.thereAndBack(wireBytes, wireBytes);
            case "raw_duplex" -> raw.duplex(wireBytes, wireBytes);
            case "grpc_push" -> grpc.push(allWorkersBytes);
            case "grpc_pull" -> grpc.pull(allWorkersBytes);
            case "grpc_push_pull" -> grpc.pushPull(allWorkersBytes);
            default -> all(pool, workers, p);
          };
          if (measured) {
            cpu.merge(p, Alloc.processCpuNanos() - c0, Long::sum);
            samples.get(p).add(t);
          }
          if (alloc != null) {
            Alloc.Result a = alloc.stop();
            heapBytes += a.bytes();
            gcCollections += a.collections();
            gcMillis += a.gcMillis();
            parasolOps += o.workers();
          }
        }
        if (measured) {
          rounds++;
          if (rounds >= 3 && System.nanoTime() > deadline) {
            break;
          }
        }
      }

      Map<String, Object> out = new LinkedHashMap<>();
      out.put("bench", "pushpull");
      out.put("params", o.params());
      out.put("shards", o.shards());
      out.put("workers", o.workers());
      out.put("wire", FloatCodec.encodingName(o.wire()));
      out.put("wire_bytes_per_op", wireBytes);
      out.put("chunk_floats", o.chunkFloats());
      out.put("client_window_bytes", o.clientWindow());
      out.put("server_window_bytes", o.serverWindow());
      out.put("source", o.offHeap() ? "offheap" : "array");
      out.put("blocks", layout.numBlocks());
      out.put("rounds", rounds);
      double w = o.workers();
      Map<String, Object> figures = new LinkedHashMap<>();
      for (String p : phases) {
        Samples s = samples.get(p);
        double bytes = switch (p) {
          case "raw_one_way", "raw_there_and_back", "raw_duplex" -> 2.0 * wireBytes;
          case "push", "pull", "grpc_push", "grpc_pull" -> w * wireBytes;
          default -> 2.0 * w * wireBytes;
        };
        Map<String, Object> f = s.summary(bytes);
        if (!p.startsWith("raw") && !p.startsWith("grpc")) {
          double values = bytes / FloatCodec.bytesPerValue(o.wire());
          f.put("params_per_s", Samples.round(values / s.median() * 1e9, 0));
        }
        f.put("cpu_per_wall", Samples.round(cpu.get(p) / (double) s.total(), 2));
        f.put("cpu_ms_per_op", Samples.round(cpu.get(p) / 1e6 / s.count(), 2));
        figures.put(p, f);
      }
      out.put("figures", figures);
      double pushPull = samples.get("push_pull").gbps(2.0 * w * wireBytes);
      double rawOneWay = samples.get("raw_one_way").gbps(2.0 * wireBytes);
      out.put("push_pull_gb_per_s", Samples.round(pushPull, 3));
      out.put("raw_one_way_gb_per_s", Samples.round(rawOneWay, 3));
      out.put("ratio_push_pull_to_raw", Samples.round(pushPull / rawOneWay, 3));
      double plain = samples.get("grpc_push_pull").gbps(2.0 * w * wireBytes);
      out.put("plain_grpc_push_pull_gb_per_s", Samples.round(plain, 3));
      out.put("ratio_push_pull_to_plain_grpc", Samples.round(pushPull / plain, 3));
      out.put("ratio_plain_grpc_to_raw", Samples.round(plain / rawOneWay, 3));
      out.put("ratio_push_then_pull_to_raw_there_and_back", Samples.round(
          samples.get("push_then_pull").gbps(2.0 * w * wireBytes)
              / samples.get("raw_there_and_back").gbps(2.0 * wireBytes), 3));
      out.put("heap_bytes_allocated_per_op", heapBytes / Math.max(1, parasolOps));
      out.put("gc_collections", gcCollections);
      out.put("gc_millis", gcMillis);
      return out;
    } finally {
      pool.shutdownNow();
      for (Worker w : workers) {
        w.client.close();
      }
      for (ShardServer s : servers) {
        s.stop(5, TimeUnit.SECONDS);
      }
    }
  }

  static ShardServer startShard(int shard, int shards, int window) throws IOException {
    boolean direct = Boolean.getBoolean("parasol.serverDirectExecutor");
    if (window <= 0 && !direct) {
      return ShardServer.forAddress("127.0.0.1", 0, shard, null).start();
    }
    NettyServerBuilder b = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0));
    if (window > 0) {
      b.flowControlWindow(window);
    }
    if (direct) {
      b.directExecutor();
    }
    return new ShardServer(b, shard, shards, null).start();
  }

  /** Runs phase {@code p} on every worker at once; nanoseconds until the last finished. */
  private static long all(ExecutorService pool, List<Worker> workers, String p)
      throws Exception {
    if (workers.size() == 1) {
      return workers.get(0).run(p);
    }
    long t0 = System.nanoTime();
    List<Future<Long>> fs = new ArrayList<>();
    for (Worker w : workers) {
      fs.add(pool.submit(() -> w.run(p)));
    }
    for (Future<Long> f : fs) {
      f.get();
    }
    return System.nanoTime() - t0;
  }

  /** One worker: its client, a gradient to push and a vector to pull into. */
  private static final class Worker {
    final int k;
    final PsClient client;
    final long[] steps;
    final float[] gradient;
    final float[] model;
    final INDArray gradientNd;
    final INDArray modelNd;
    long[] versions;

    Worker(int k, PsClient client, BlockLayout layout, boolean offHeap) {
      this.k = k;
      this.client = client;
      this.steps = new long[layout.numShards()];
      this.versions = new long[layout.numBlocks()];
      int d = layout.dimension();
      float[] g = new float[d];
      SplittableRandom rng = new SplittableRandom(17 + k);
      for (int i = 0; i < d; i++) {
        g[i] = (float) (rng.nextDouble() * 2e-3 - 1e-3);
      }
      if (offHeap) {
        gradientNd = Nd4j.create(g, new long[] {1, d}, DataType.FLOAT);
        modelNd = Nd4j.create(DataType.FLOAT, 1, d);
        gradient = null;
        model = null;
      } else {
        gradient = g;
        model = new float[d];
        gradientNd = null;
        modelNd = null;
      }
    }

    long run(String phase) {
      long t0 = System.nanoTime();
      switch (phase) {
        case "push" -> check(push().join());
        case "pull" -> versions = pull().join();
        case "push_pull" -> {
          CompletableFuture<PsClient.ShardOutcome[]> push = push();
          CompletableFuture<long[]> pull = pull();
          check(push.join());
          versions = pull.join();
        }
        case "push_then_pull" -> {
          check(push().join());
          versions = pull().join();
        }
        default -> throw new IllegalArgumentException(phase);
      }
      return System.nanoTime() - t0;
    }

    private CompletableFuture<PsClient.ShardOutcome[]> push() {
      return gradientNd != null
          ? client.pushEachAsync(k, steps, PushKind.PUSH_GRADIENT,
              OffHeap.bytes(gradientNd, (int) gradientNd.length()), versions, null, 0f)
          : client.pushEachAsync(k, steps, PushKind.PUSH_GRADIENT, gradient, versions, null, 0f);
    }

    private CompletableFuture<long[]> pull() {
      return modelNd != null ? client.pullAsync(k,
          OffHeap.bytes(modelNd, (int) modelNd.length()), 0, 0)
          : client.pullAsync(k, model, 0, 0);
    }

    private static void check(PsClient.ShardOutcome[] outcomes) {
      for (PsClient.ShardOutcome o : outcomes) {
        if (o != null && !o.ok()) {
          throw o.status().augmentDescription("bench push to shard " + o.shard())
              .asRuntimeException();
        }
      }
    }
  }
}
