package io.parasol.experiments.bench;

import io.parasol.client.PsClient;
import io.parasol.common.BlockLayout;
import io.parasol.proto.v1.InitKind;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.OptimizerKind;
import io.parasol.proto.v1.OptimizerSpec;
import io.parasol.proto.v1.PushKind;
import io.parasol.server.LocalCluster;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code parasol bench jobs}: two jobs on the same embedded shards, a big one and a small one,
 * each worker looping pull all its blocks, push a gradient for all of them (async, SGD). Each
 * job's step time is measured alone and with the other job running at the same time: how much a
 * big job slows a small one down on a shared shard fleet.
 */
final class JobsBench {
  record Options(int bigParams, int bigWorkers, int smallParams, int smallWorkers, int shards,
      double seconds) {}

  private JobsBench() {}

  /** One job: its spec, layout and one client per worker. */
  private record Bench(String name, int params, JobSpec spec, BlockLayout layout,
      List<PsClient> clients) {}

  static Map<String, Object> run(Options o, PrintStream progress) throws Exception {
    ExecutorService pool = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "bench-jobs");
      t.setDaemon(true);
      return t;
    });
    List<Bench> jobs = new ArrayList<>();
    try (LocalCluster cluster = LocalCluster.start(o.shards(), null)) {
      jobs.add(job("big", o.bigParams(), o.bigWorkers(), o.shards(), cluster));
      jobs.add(job("small", o.smallParams(), o.smallWorkers(), o.shards(), cluster));
      if (progress != null) {
        progress.printf(Locale.ROOT, "bench jobs: %d shard(s); big %,d params x %d worker(s),"
                + " small %,d params x %d worker(s); async; %.0f s per phase%n", o.shards(),
            o.bigParams(), o.bigWorkers(), o.smallParams(), o.smallWorkers(), o.seconds());
      }
      long phase = (long) (o.seconds() * 1e9);
      // Warm-up: both jobs, a quarter phase.
      measure(jobs, phase / 4, pool);
      Map<String, Samples> alone = new LinkedHashMap<>();
      for (Bench b : jobs) {
        alone.put(b.name(), measure(List.of(b), phase, pool).get(b.name()));
      }
      Map<String, Samples> together = measure(jobs, phase, pool);
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("shards", o.shards());
      r.put("seconds_per_phase", o.seconds());
      List<Map<String, Object>> rows = new ArrayList<>();
      for (Bench b : jobs) {
        Samples a = alone.get(b.name());
        Samples t = together.get(b.name());
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("job", b.name());
        row.put("params", b.params());
        row.put("workers", b.clients().size());
        row.put("alone_ms_median", Samples.round(a.median() / 1e6, 3));
        row.put("alone_ms_p99", Samples.round(a.p99() / 1e6, 3));
        row.put("alone_steps", a.count());
        row.put("together_ms_median", Samples.round(t.median() / 1e6, 3));
        row.put("together_ms_p99", Samples.round(t.p99() / 1e6, 3));
        row.put("together_steps", t.count());
        row.put("slowdown", Samples.round(t.median() / a.median(), 2));
        rows.add(row);
      }
      r.put("jobs", rows);
      return r;
    } finally {
      pool.shutdownNow();
      for (Bench b : jobs) {
        for (PsClient c : b.clients()) {
          c.close();
        }
      }
    }
  }

  private static Bench job(String name, int params, int workers, int shards,
      LocalCluster cluster) {
    BlockLayout layout = BlockLayout.of(List.of(new BlockLayout.Tensor("x", params,
        InitKind.INIT_ZEROS, 0f)), shards, 0);
    JobSpec spec = JobSpec.newBuilder().setJobName("bench-" + name).setModel("none")
        .setMode(Mode.MODE_ASYNC).addAllBlocks(layout.toSpecs(null)).setNumShards(shards)
        .setNumWorkers(workers).setLearningRate(1e-6f).setSeed(1)
        .setOptimizer(OptimizerSpec.newBuilder().setKind(OptimizerKind.OPTIMIZER_SGD))
        .setLeaseMillis(600_000).build();
    List<PsClient> clients = new ArrayList<>();
    for (int k = 0; k < workers; k++) {
      PsClient c = PsClient.connect(PsClient.Connection.plaintext(cluster.addresses()), layout,
          Duration.ofSeconds(120), Duration.ofSeconds(120), null, PsClient.Transport.DEFAULT);
      c.init(spec);
      clients.add(c);
    }
    return new Bench(name, params, spec, layout, clients);
  }

  /** Runs every worker of {@code jobs} for {@code nanos}; each job's step times. */
  private static Map<String, Samples> measure(List<Bench> jobs, long nanos, ExecutorService pool)
      throws Exception {
    long end = System.nanoTime() + nanos;
    Map<String, List<Future<Samples>>> futures = new LinkedHashMap<>();
    for (Bench b : jobs) {
      List<Future<Samples>> fs = new ArrayList<>();
      for (int k = 0; k < b.clients().size(); k++) {
        final int worker = k;
        fs.add(pool.submit(() -> loop(b, worker, end)));
      }
      futures.put(b.name(), fs);
    }
    Map<String, Samples> out = new LinkedHashMap<>();
    for (var e : futures.entrySet()) {
      Samples all = new Samples();
      for (Future<Samples> f : e.getValue()) {
        all.addAll(f.get());
      }
      out.put(e.getKey(), all);
    }
    return out;
  }

  /** One worker: pull every block, push a gradient for every block, until {@code end}. */
  private static Samples loop(Bench b, int worker, long end) {
    PsClient c = b.clients().get(worker);
    int d = b.layout().dimension();
    float[] x = new float[d];
    float[] g = new float[d];
    Samples s = new Samples();
    long step = 0;
    do {
      long t0 = System.nanoTime();
      long[] read = c.pull(worker, x, 0, step);
      c.push(worker, step, PushKind.PUSH_GRADIENT, g, read, null, Float.NaN);
      s.add(System.nanoTime() - t0);
      step++;
    } while (System.nanoTime() - end < 0);
    return s;
  }

  static String table(Map<String, Object> r) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "bench jobs: step = pull + push of every block, %s"
        + " shard(s), %s s per phase%n", r.get("shards"), r.get("seconds_per_phase")));
    sb.append(String.format(Locale.ROOT, "%-6s %12s %8s %22s %22s %9s%n", "job", "params",
        "workers", "alone ms (p50/p99)", "together ms (p50/p99)", "slowdown"));
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> rows = (List<Map<String, Object>>) r.get("jobs");
    for (Map<String, Object> row : rows) {
      sb.append(String.format(Locale.ROOT, "%-6s %,12d %8d %22s %22s %8.2fx%n", row.get("job"),
          (Integer) row.get("params"), (Integer) row.get("workers"),
          row.get("alone_ms_median") + " / " + row.get("alone_ms_p99"),
          row.get("together_ms_median") + " / " + row.get("together_ms_p99"),
          (Double) row.get("slowdown")));
    }
    return sb.toString();
  }

  /** {@code parasol bench jobs}. */
  @Command(name = "jobs", mixinStandardHelpOptions = true,
      description = "Two jobs on the same embedded shards, a big and a small one (async, pull"
          + " and push of every block per step): each job's step time alone and with the other"
          + " running at the same time.")
  static final class Cli implements Callable<Integer> {
    @Option(names = "--big-params", defaultValue = "4000000",
        description = "Floats in the big job (default: ${DEFAULT-VALUE}).")
    int bigParams;

    @Option(names = "--big-workers", defaultValue = "2",
        description = "Workers of the big job (default: ${DEFAULT-VALUE}).")
    int bigWorkers;

    @Option(names = "--small-params", defaultValue = "10000",
        description = "Floats in the small job (default: ${DEFAULT-VALUE}).")
    int smallParams;

    @Option(names = "--small-workers", defaultValue = "1",
        description = "Workers of the small job (default: ${DEFAULT-VALUE}).")
    int smallWorkers;

    @Option(names = "--shards", defaultValue = "2",
        description = "Shards (default: ${DEFAULT-VALUE}).")
    int shards;

    @Option(names = "--seconds", defaultValue = "5",
        description = "Length of each measured phase (default: ${DEFAULT-VALUE}).")
    double seconds;

    @Mixin
    JsonOutput out;

    @Override
    public Integer call() throws Exception {
      BenchCommand.positive("--big-params", bigParams);
      BenchCommand.positive("--small-params", smallParams);
      BenchCommand.positive("--big-workers", bigWorkers);
      BenchCommand.positive("--small-workers", smallWorkers);
      BenchCommand.positive("--shards", shards);
      BenchCommand.positive("--seconds", seconds);
      Map<String, Object> r = run(new Options(bigParams, bigWorkers, smallParams, smallWorkers,
          shards, seconds), out.json ? null : System.out);
      out.print(r, table(r));
      return 0;
    }
  }
}
