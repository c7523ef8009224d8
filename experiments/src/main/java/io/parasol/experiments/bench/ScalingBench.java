package io.parasol.experiments.bench;

import io.parasol.worker.data.DataFormat;
import io.parasol.worker.data.Scaling;
import io.parasol.worker.model.Models;
import io.parasol.worker.train.JobKeys;
import io.parasol.worker.train.TrainingData;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code parasol bench scaling}: {@code bench train}'s job over a grid of worker counts m and
 * shard counts S, Parasol's samples/s in each cell against PyTorch's with the same m in the
 * same run (DDP for sync, the RPC parameter server for async; PyTorch has no shard count, so
 * it runs once per m and mode), and each cell's speed-up over Parasol's m = 1 with the same S.
 * The samples per worker stay at one epoch's share, so larger m trains on the same data in
 * fewer steps per worker.
 */
final class ScalingBench {
  private ScalingBench() {}

  static Map<String, Object> run(TrainBench.Options base, List<Integer> workers,
      List<Integer> shards, PrintStream progress) throws Exception {
    TrainingData data = TrainingData.load(base.data(), DataFormat.parse("idx"), -1, false, false,
        1.0 / 7, Scaling.parse(Models.defaultScaling(base.model())), base.seed());
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("model", base.model());
    out.put("batch_size", base.batchSize());
    out.put("lr", base.lr());
    out.put("lr_schedule", base.lrSchedule());
    out.put("epochs", base.epochs());
    out.put("cores", Runtime.getRuntime().availableProcessors());
    List<Map<String, Object>> rows = new ArrayList<>();
    for (String mode : base.modes()) {
      Map<Integer, Double> torch = new LinkedHashMap<>();
      for (int s : shards) {
        Double one = null;
        for (int m : workers) {
          TrainBench.Options o = new TrainBench.Options(List.of(mode), base.model(), base.data(),
              m, s, base.batchSize(), base.lr(), base.lrSchedule(), base.epochs(), base.seed(),
              base.target(), base.evalEvery(), base.python(), base.peer(), 1);
          progress.printf(Locale.ROOT, "bench scaling: %s, m=%d, S=%d, parasol...%n", mode, m,
              s);
          Map<String, Object> p = TrainBench.parasol(o, mode, data);
          double sps = (Double) p.get("samples_per_s");
          if (m == workers.get(0)) {
            one = sps;
          }
          Map<String, Object> row = new LinkedHashMap<>();
          row.put("mode", mode);
          row.put("workers", m);
          row.put("shards", s);
          row.put("samples_per_s", sps);
          row.put("test_accuracy", p.get("test_accuracy"));
          row.put("speedup_over_first_m", sps / one);
          if (base.peer()) {
            if (!torch.containsKey(m)) {
              progress.printf(Locale.ROOT, "bench scaling: %s, m=%d, pytorch...%n", mode, m);
              Map<String, Object> t = TrainBench.pytorch(o, mode);
              torch.put(m, t.get("samples_per_s") instanceof Number n ? n.doubleValue() : null);
            }
            Double t = torch.get(m);
            row.put("pytorch_samples_per_s", t);
            row.put("ratio_to_pytorch", t == null ? null : sps / t);
          }
          rows.add(row);
        }
      }
    }
    out.put("cells", rows);
    return out;
  }

  @SuppressWarnings("unchecked")
  static String table(Map<String, Object> r) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "bench scaling: model %s, batch %s per worker, lr %s,"
        + " %s epoch(s), %s cores%n", r.get("model"), r.get("batch_size"), r.get("lr"),
        r.get("epochs"), r.get("cores")));
    sb.append(String.format(Locale.ROOT, "%-6s %3s %3s %12s %9s %9s %12s %9s%n", "mode", "m", "S",
        "samples/s", "x first m", "test acc", "pytorch s/s", "ratio"));
    for (Map<String, Object> c : (List<Map<String, Object>>) r.get("cells")) {
      Object t = c.get("pytorch_samples_per_s");
      Object q = c.get("ratio_to_pytorch");
      sb.append(String.format(Locale.ROOT, "%-6s %3s %3s %,12.0f %9.2f %9.4f %12s %9s%n",
          c.get("mode"), c.get("workers"), c.get("shards"), (Double) c.get("samples_per_s"),
          (Double) c.get("speedup_over_first_m"), ((Number) c.get("test_accuracy")).doubleValue(),
          t == null ? "-" : String.format(Locale.ROOT, "%,.0f", (Double) t),
          q == null ? "-" : String.format(Locale.ROOT, "%.3f", (Double) q)));
    }
    sb.append("ratio: Parasol samples/s over PyTorch samples/s with the same m, same run\n");
    return sb.toString();
  }

  /** {@code parasol bench scaling}. */
  @Command(name = "scaling", mixinStandardHelpOptions = true,
      description = "bench train's job over m workers x S shards: Parasol's samples/s per"
          + " cell, its speed-up over the first m, and PyTorch with the same m in the same run.")
  static final class Cli implements Callable<Integer> {
    @Option(names = "--mode", defaultValue = "sync,async", split = ",",
        description = "Modes to run: sync, async (default: ${DEFAULT-VALUE}).")
    List<String> modes;

    @Option(names = JobKeys.WORKERS_FLAG, defaultValue = "1,2,4", split = ",",
        description = "Worker counts m (default: ${DEFAULT-VALUE}).")
    List<Integer> workers;

    @Option(names = JobKeys.SHARDS_FLAG, defaultValue = "1,2", split = ",",
        description = "Shard counts S (default: ${DEFAULT-VALUE}).")
    List<Integer> shards;

    @picocli.CommandLine.Mixin
    PeerJobOptions job;

    @picocli.CommandLine.Mixin
    JsonOutput out;

    @Override
    public Integer call() throws Exception {
      for (int m : workers) {
        JobKeys.WORKERS.check(m);
      }
      for (int s : shards) {
        JobKeys.SHARDS.check(s);
      }
      boolean peer = job.check("bench scaling");
      TrainBench.Options o = new TrainBench.Options(modes, job.model, job.data, workers.get(0),
          shards.get(0), job.batchSize, job.lr(), job.lrSchedule(), job.epochs, job.seed, 0.8, 0,
          job.python, peer, 1);
      Map<String, Object> r = run(o, workers, shards, out.json ? new PrintStream(
          java.io.OutputStream.nullOutputStream()) : System.out);
      out.print(r, table(r));
      return 0;
    }
  }
}
