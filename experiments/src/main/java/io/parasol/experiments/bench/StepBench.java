package io.parasol.experiments.bench;

import io.parasol.common.BlockLayout;
import io.parasol.common.FloatCodec;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.PushKind;
import io.parasol.proto.v1.ValueEncoding;
import io.parasol.server.ShardServer;
import io.parasol.client.PsClient;
import io.parasol.worker.train.OffHeap;
import io.parasol.worker.model.Model;
import io.parasol.worker.model.Models;
import io.parasol.worker.train.JobSettings;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code parasol bench step}: one worker's training step through Parasol against the same step
 * in a plain local ND4J loop, on the same synthetic mini-batches, measured in the same run.
 *
 * <p>Three variants take turns, one step each per round, so they see the same noise:
 *
 * <ul>
 *   <li>{@code local}: gradient, then {@code x -= lr * g} in place; no server.
 *   <li>{@code parasol}: the data path as it is meant to be used: the model is pulled straight
 *       into an off-heap vector that the gradient is computed from, the gradient's own memory
 *       is pushed, and (async) the push of step t overlaps the pull for step t+1.
 *   <li>{@code parasol_arrays}: the path {@code TrainingLoop} takes today: pull into a
 *       {@code float[]}, copy it into an INDArray, copy the gradient out to a {@code float[]},
 *       push, then pull; nothing overlaps.
 * </ul>
 *
 * <p>The data is a few dense random mini-batches generated in memory from the seed and reused,
 * so neither loop pays for batching.
 */
final class StepBench {

  record Options(String model, int params, int classes, int batchSize, int shards,
      ValueEncoding wire, int warmup, int steps, double maxSeconds, long seed) {}

  private static final int BATCHES = 2;
  private static final float LR = 0.01f;

  private StepBench() {}

  static Map<String, Object> run(Options o, PrintStream progress) throws Exception {
    String spec = o.model().trim().toLowerCase(Locale.ROOT);
    int classes = spec.equals("linear") ? 0 : spec.equals("logistic") ? 2 : o.classes();
    int features = featuresFor(spec, o.params(), classes);
    Model model = Models.create(spec, features, classes);
    int d = model.numParams();
    if (progress != null) {
      progress.printf(Locale.ROOT, "bench step: %s, %d features x %d classes = %d params,"
          + " batch %d, %d shard(s), %s wire; generating data...%n", model.name(), features,
          classes, d, o.batchSize(), o.shards(), FloatCodec.encodingName(o.wire()));
    }
    Nd4j.getRandom().setSeed(o.seed());
    SplittableRandom rng = new SplittableRandom(o.seed());
    INDArray[] xs = new INDArray[BATCHES];
    INDArray[] ys = new INDArray[BATCHES];
    for (int i = 0; i < BATCHES; i++) {
      xs[i] = Nd4j.rand(DataType.FLOAT, o.batchSize(), features);
      float[] y = new float[o.batchSize()];
      for (int k = 0; k < y.length; k++) {
        y[k] = classes == 0 ? (float) rng.nextGaussian() : rng.nextInt(classes);
      }
      ys[i] = Nd4j.create(y, new long[] {y.length}, DataType.FLOAT);
    }

    JobSettings js = JobSettings.builder(Mode.MODE_ASYNC, o.shards(), 1, LR)
        .leaseMillis(600_000).build();
    BlockLayout layout = js.layout(model);
    JobSpec job = js.spec("bench-step", model, layout);
    List<ShardServer> servers = new ArrayList<>();
    PsClient client = null;
    try {
      List<String> addresses = new ArrayList<>();
      for (int s = 0; s < o.shards(); s++) {
        ShardServer srv = PushPullBench.startShard(s, o.shards(), 0);
        servers.add(srv);
        addresses.add("127.0.0.1:" + srv.port());
      }
      client = PsClient.connect(PsClient.Connection.plaintext(addresses), layout,
          Duration.ofSeconds(60), Duration.ofSeconds(60), null,
          PsClient.Transport.DEFAULT.withEncoding(o.wire()));
      client.init(job);

      Local local = new Local(model, d);
      Overlapped overlapped = new Overlapped(client, model, d);
      ArrayPath arrays = new ArrayPath(client, model, d);
      Samples sLocal = new Samples();
      Samples sOver = new Samples();
      Samples sArr = new Samples();
      long[] commOver = new long[1];
      long[] commArr = new long[1];
      long deadline = Long.MAX_VALUE;
      int measured = 0;
      double lossLocal = Double.NaN;
      double lossParasol = Double.NaN;
      for (int r = 0; r < o.warmup() + o.steps(); r++) {
        boolean m = r >= o.warmup();
        if (m && deadline == Long.MAX_VALUE) {
          deadline = System.nanoTime() + (long) (o.maxSeconds() * 1e9);
          overlapped.comm = 0;
          arrays.comm = 0;
        }
        INDArray x = xs[r % BATCHES];
        INDArray y = ys[r % BATCHES];
        long t0 = System.nanoTime();
        lossLocal = local.step(x, y);
        long t1 = System.nanoTime();
        lossParasol = overlapped.step(x, y);
        long t2 = System.nanoTime();
        arrays.step(x, y);
        long t3 = System.nanoTime();
        if (m) {
          sLocal.add(t1 - t0);
          sOver.add(t2 - t1);
          sArr.add(t3 - t2);
          measured++;
          if (measured >= 3 && System.nanoTime() > deadline) {
            break;
          }
        }
      }
      commOver[0] = overlapped.comm;
      commArr[0] = arrays.comm;

      Map<String, Object> out = new LinkedHashMap<>();
      out.put("bench", "step");
      out.put("model", model.name());
      out.put("features", features);
      out.put("classes", classes);
      out.put("params", d);
      out.put("batch_size", o.batchSize());
      out.put("shards", o.shards());
      out.put("blocks", layout.numBlocks());
      out.put("wire", FloatCodec.encodingName(o.wire()));
      out.put("mode", "async");
      out.put("steps", measured);
      Map<String, Object> f = new LinkedHashMap<>();
      f.put("local", stepSummary(sLocal, -1));
      f.put("parasol", stepSummary(sOver, commOver[0] / (double) measured));
      f.put("parasol_arrays", stepSummary(sArr, commArr[0] / (double) measured));
      out.put("figures", f);
      out.put("ratio_parasol_to_local", Samples.round(sOver.median() / sLocal.median(), 3));
      out.put("ratio_parasol_arrays_to_local", Samples.round(sArr.median() / sLocal.median(),
          3));
      out.put("last_loss_local", Samples.round(lossLocal, 5));
      out.put("last_loss_parasol", Samples.round(lossParasol, 5));
      return out;
    } finally {
      if (client != null) {
        client.close();
      }
      for (ShardServer s : servers) {
        s.stop(5, TimeUnit.SECONDS);
      }
    }
  }

  private static Map<String, Object> stepSummary(Samples s, double commNanos) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("ms_median", Samples.round(s.median() / 1e6, 3));
    m.put("ms_p99", Samples.round(s.p99() / 1e6, 3));
    m.put("steps_per_s", Samples.round(1e9 / s.median(), 2));
    if (commNanos >= 0) {
      m.put("ms_communication_mean", Samples.round(commNanos / 1e6, 3));
    }
    return m;
  }

  /** The feature count that gives the model about {@code params} parameters. */
  static int featuresFor(String spec, int params, int classes) {
    long d1 = Models.create(spec, 1, classes).numParams();
    long d2 = Models.create(spec, 2, classes).numParams();
    long per = d2 - d1;
    long fixed = d1 - per;
    return (int) Math.max(1, Math.round((params - fixed) / (double) per));
  }

  /** The plain local loop. */
  private static final class Local {
    final Model model;
    final INDArray params;

    Local(Model model, int d) {
      this.model = model;
      this.params = Nd4j.create(DataType.FLOAT, 1, d);
    }

    double step(INDArray x, INDArray y) {
      Model.LossAndGradient lg = model.lossAndGradient(params, x, y);
      params.subi(lg.gradient().muli(LR));
      return lg.loss();
    }
  }

  /** Off-heap vectors end to end; the push of step t overlaps the pull for step t+1. */
  private static final class Overlapped {
    final PsClient client;
    final Model model;
    final long[] steps;
    INDArray params;
    INDArray next;
    long[] versions;
    long done;
    long comm;
    final int dim;

    Overlapped(PsClient client, Model model, int d) {
      this.dim = d;
      this.client = client;
      this.model = model;
      this.steps = new long[client.layout().numShards()];
      this.params = Nd4j.create(DataType.FLOAT, 1, d);
      this.next = Nd4j.create(DataType.FLOAT, 1, d);
      this.versions = client.pull(0, OffHeap.bytes(params, d), 0, 0);
    }

    double step(INDArray x, INDArray y) {
      Model.LossAndGradient lg = model.lossAndGradient(params, x, y);
      long t0 = System.nanoTime();
      java.util.Arrays.fill(steps, done);
      CompletableFuture<PsClient.ShardOutcome[]> push = client.pushEachAsync(0, steps,
          PushKind.PUSH_GRADIENT, OffHeap.bytes(lg.gradient(), dim), versions, null, (float) lg.loss());
      CompletableFuture<long[]> pull = client.pullAsync(0, OffHeap.bytes(next, dim), 0, done + 1);
      check(push.join());
      versions = pull.join();
      comm += System.nanoTime() - t0;
      INDArray t = params;
      params = next;
      next = t;
      done++;
      return lg.loss();
    }
  }

  /** TrainingLoop's path today: arrays in and out, pull then push, nothing overlapped. */
  private static final class ArrayPath {
    final PsClient client;
    final Model model;
    final long[] steps;
    final float[] x;
    long done;
    long comm;

    ArrayPath(PsClient client, Model model, int d) {
      this.client = client;
      this.model = model;
      this.steps = new long[client.layout().numShards()];
      this.x = new float[d];
    }

    double step(INDArray xb, INDArray yb) {
      long t0 = System.nanoTime();
      long[] versions = client.pull(0, x, 0, done);
      long t1 = System.nanoTime();
      INDArray p = Nd4j.create(x, new long[] {1, x.length}, DataType.FLOAT);
      Model.LossAndGradient lg = model.lossAndGradient(p, xb, yb);
      float[] g = lg.gradient().toFloatVector();
      long t2 = System.nanoTime();
      java.util.Arrays.fill(steps, done);
      check(client.pushEach(0, steps, PushKind.PUSH_GRADIENT, g, versions, null,
          (float) lg.loss()));
      comm += (t1 - t0) + (System.nanoTime() - t2);
      done++;
      return lg.loss();
    }
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
