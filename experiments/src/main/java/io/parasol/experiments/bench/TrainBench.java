package io.parasol.experiments.bench;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import io.parasol.experiments.runner.LocalRunner;
import io.parasol.proto.v1.Mode;
import io.parasol.worker.data.DataFormat;
import io.parasol.worker.data.Scaling;
import io.parasol.worker.model.Models;
import io.parasol.worker.train.JobKeys;
import io.parasol.worker.train.JobSettings;
import io.parasol.worker.train.TrainingData;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code parasol bench train}: one training job on Parasol's embedded cluster and, where
 * {@code python3} imports torch, the same job on PyTorch in the same run: DDP over gloo for
 * sync, an RPC parameter server (the PyTorch tutorial's pattern) for async. Both sides use one
 * thread per process (worker thread here), the same model, batch size, step size, number of
 * workers and samples, and evaluate worker 0's / the server's model on the test set every
 * {@code evalEvery} steps with the evaluation time taken out of the training time.
 *
 * <p>Figures per side: training seconds (from the first step to the last worker's end, less
 * the evaluator's evaluation time; start-up is excluded on both sides), samples per second
 * (samples / training seconds), time to the target test accuracy (on the same clock), final
 * test accuracy and loss; and Parasol / PyTorch ratios.
 */
final class TrainBench {

  record Options(List<String> modes, String model, String data, int workers, int shards,
      int batchSize, float lr, String lrSchedule, int epochs, long seed, double target,
      int evalEvery, String python, boolean peer, int reps) {}

  private TrainBench() {}

  static Map<String, Object> run(Options o, PrintStream progress) throws Exception {
    TrainingData data = TrainingData.load(o.data(), DataFormat.parse("idx"), -1, false, false,
        1.0 / 7, Scaling.parse(Models.defaultScaling(o.model())), o.seed());
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("model", o.model());
    out.put("data", o.data());
    out.put("workers", o.workers());
    out.put("shards", o.shards());
    out.put("batch_size", o.batchSize());
    out.put("lr", o.lr());
    out.put("lr_schedule", o.lrSchedule());
    out.put("optimizer", Models.defaultOptimizer(o.model()));
    out.put("scaling", Models.defaultScaling(o.model()));
    out.put("epochs", o.epochs());
    out.put("target_accuracy", o.target());
    List<Map<String, Object>> rows = new ArrayList<>();
    for (String mode : o.modes()) {
      for (int rep = 0; rep < o.reps(); rep++) {
        progress.printf(Locale.ROOT, "bench train: %s, parasol, run %d of %d...%n", mode,
            rep + 1, o.reps());
        Map<String, Object> p = parasol(o, mode, data);
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("mode", mode);
        row.put("parasol", p);
        if (o.peer()) {
          progress.printf(Locale.ROOT, "bench train: %s, pytorch, run %d of %d...%n", mode,
              rep + 1, o.reps());
          Map<String, Object> t = pytorch(o, mode);
          row.put("pytorch", t);
          if (t.get("samples_per_s") instanceof Number ts) {
            row.put("ratio_samples_per_s", (Double) p.get("samples_per_s") / ts.doubleValue());
          }
          if (t.get("time_to_target_s") instanceof Number tt
              && p.get("time_to_target_s") instanceof Number pt) {
            row.put("ratio_time_to_target", pt.doubleValue() / tt.doubleValue());
          }
        }
        rows.add(row);
      }
    }
    out.put("runs", rows);
    return out;
  }

  static Map<String, Object> parasol(Options o, String mode, TrainingData data)
      throws IOException, InterruptedException {
    Mode m = JobSettings.parseMode(mode);
    JobSettings js = JobSettings.builder(m, o.shards(), o.workers(), o.lr()).seed(o.seed())
        .optimizer(JobKeys.OPTIMIZER.parse(Models.defaultOptimizer(o.model())))
        .lrSchedule(JobKeys.LR_SCHEDULE.parse(o.lrSchedule())).build();
    LocalRunner.Options lo = LocalRunner.Options.builder(js, o.model(), data)
        .batchSize(o.batchSize()).epochs(o.epochs()).steps(0).evalEvery(o.evalEvery())
        .timeouts(Duration.ofSeconds(30), Duration.ofSeconds(120)).build();
    long cpu0 = processCpuNanos();
    LocalRunner.Summary s = LocalRunner.run(lo, null, null, null);
    long cpu = processCpuNanos() - cpu0;
    double train = s.trainSeconds() - s.evalSeconds();
    long samples = s.stepsPerWorker() * o.workers() * o.batchSize();
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("system", "parasol-" + mode);
    r.put("steps_per_worker", s.stepsPerWorker());
    r.put("samples", samples);
    r.put("train_s", train);
    r.put("samples_per_s", samples / train);
    r.put("time_to_target_s", timeToTarget(s.testCurve(), o.target(), s.evalSeconds()));
    r.put("test_accuracy", s.testAccuracy());
    r.put("test_loss", s.testLoss());
    r.put("step_ms", s.stepMillis());
    r.put("cpu_s", cpu / 1e9);
    r.put("cpu_ms_per_step", cpu / 1e6 / s.stepsPerWorker());
    return r;
  }

  /** CPU time of this process (all threads) so far, in nanoseconds; 0 where unknown. */
  private static long processCpuNanos() {
    if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return Math.max(0, os.getProcessCpuTime());
    }
    return 0;
  }

  /**
   * The first evaluation time at which accuracy reached {@code target}, less (pro rata, as
   * evaluations are spread evenly) the evaluation time before it; null if never. Curve points
   * are (seconds since the workers' first step, step, loss, accuracy).
   */
  private static Double timeToTarget(List<double[]> curve, double target, double evalSeconds) {
    int n = curve.size();
    for (int i = 0; i < n; i++) {
      double[] p = curve.get(i);
      if (p[3] >= target) {
        double evalBefore = n == 0 ? 0 : evalSeconds * (i + 1) / n;
        return Math.max(0, p[0] - evalBefore);
      }
    }
    return null;
  }

  /** Runs the PyTorch peer; its figures, or {"error": why} when it cannot run. */
  static Map<String, Object> pytorch(Options o, String mode) throws IOException,
      InterruptedException {
    Map<String, Object> r = new LinkedHashMap<>();
    Path script = Files.createTempFile("parasol-torch-peer", ".py");
    try {
      try (InputStream in = TrainBench.class.getResourceAsStream("torch_peer.py")) {
        if (in == null) {
          throw new IllegalStateException("torch_peer.py is missing from the jar");
        }
        Files.copy(in, script, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
      List<String> cmd = List.of(o.python(), script.toString(), "--mode", mode, "--model",
          o.model().startsWith("mlp") ? "mlp" : o.model(), "--workers",
          Integer.toString(o.workers()), "--batch-size", Integer.toString(o.batchSize()),
          "--lr", Float.toString(o.lr()), "--lr-schedule", o.lrSchedule(), "--epochs",
          Integer.toString(o.epochs()), "--seed",
          Long.toString(o.seed()), "--data", o.data(), "--target-accuracy",
          Double.toString(o.target()), "--eval-every", Integer.toString(o.evalEvery()),
          "--threads", "1", "--optimizer", Models.defaultOptimizer(o.model()), "--scaling",
          Models.defaultScaling(o.model()));
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD);
      pb.environment().put("OMP_NUM_THREADS", "1");
      Process p = pb.start();
      String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(15, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        r.put("error", "the PyTorch peer did not finish in 15 minutes");
        return r;
      }
      if (p.exitValue() != 0) {
        r.put("error", "the PyTorch peer exited with status " + p.exitValue()
            + " (does " + o.python() + " import torch?)");
        return r;
      }
      JsonObject j = new Gson().fromJson(stdout.strip(), JsonObject.class);
      r.put("system", j.get("system").getAsString());
      r.put("torch", j.get("torch").getAsString());
      r.put("steps_per_worker", j.get("steps_per_worker").getAsLong());
      r.put("samples", j.get("samples").getAsLong());
      r.put("train_s", j.get("wall_s").getAsDouble());
      r.put("samples_per_s", j.get("samples_per_s").getAsDouble());
      r.put("time_to_target_s", j.get("time_to_target_s").isJsonNull() ? null
          : j.get("time_to_target_s").getAsDouble());
      r.put("test_accuracy", j.get("test_accuracy").getAsDouble());
      r.put("test_loss", j.get("test_loss").getAsDouble());
      return r;
    } finally {
      Files.deleteIfExists(script);
    }
  }

  /** Whether {@code python} imports torch (the peer can run). */
  static boolean torchAvailable(String python) {
    try {
      Process p = new ProcessBuilder(python, "-c", "import torch")
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** The bench's table. */
  @SuppressWarnings("unchecked")
  static String table(Map<String, Object> r) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT,
        "bench train: model %s, %s workers, %s shards (Parasol), batch %s, %s at lr %s (%s), %s"
            + " scaling, %s epoch(s), target test accuracy %s%n", r.get("model"), r.get("workers"),
        r.get("shards"), r.get("batch_size"), r.get("optimizer"), r.get("lr"),
        r.get("lr_schedule"), r.get("scaling"),
        r.get("epochs"), r.get("target_accuracy")));
    sb.append(String.format(Locale.ROOT, "%-6s %-16s %9s %11s %10s %9s %9s%n", "mode", "system",
        "train s", "samples/s", "to target", "test acc", "ratio"));
    for (Map<String, Object> row : (List<Map<String, Object>>) r.get("runs")) {
      for (String side : new String[] {"parasol", "pytorch"}) {
        Map<String, Object> x = (Map<String, Object>) row.get(side);
        if (x == null) {
          continue;
        }
        if (x.containsKey("error")) {
          sb.append(String.format(Locale.ROOT, "%-6s %-16s %s%n", row.get("mode"), side,
              x.get("error")));
          continue;
        }
        Object ratio = side.equals("parasol") ? row.get("ratio_samples_per_s") : null;
        sb.append(String.format(Locale.ROOT, "%-6s %-16s %9.2f %,11.0f %10s %9.4f %9s%n",
            row.get("mode"), x.get("system"), (Double) x.get("train_s"),
            (Double) x.get("samples_per_s"), x.get("time_to_target_s") == null ? "-"
                : String.format(Locale.ROOT, "%.2f s", (Double) x.get("time_to_target_s")),
            (Double) x.get("test_accuracy"), ratio == null ? ""
                : String.format(Locale.ROOT, "%.3f", (Double) ratio)));
      }
    }
    sb.append("ratio: Parasol samples/s over PyTorch samples/s in the same run (>= 1: Parasol"
        + " is at least as fast)\n");
    return sb.toString();
  }
}
