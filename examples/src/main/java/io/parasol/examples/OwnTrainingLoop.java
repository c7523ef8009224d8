package io.parasol.examples;

import io.parasol.client.Job;
import io.parasol.client.ParasolClient;
import io.parasol.client.Versions;
import io.parasol.server.LocalCluster;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A user's own SameDiff model trained with their own loop through {@link ParasolClient}: an MLP
 * on the bundled 8x8 digits. Run: {@code OwnTrainingLoop [--servers H:P,...] [--steps N]}; with
 * no servers it starts one shard in this JVM on 127.0.0.1.
 */
public final class OwnTrainingLoop {
  /** First and last mini-batch loss, and the test accuracy at the end. */
  public record Result(double firstLoss, double lastLoss, double testAccuracy) {}

  public static void main(String[] args) throws Exception {
    List<String> servers = null;
    int steps = 300;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--servers" -> servers = List.of(args[i + 1].split(","));
        case "--steps" -> steps = Integer.parseInt(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown flag " + args[i]);
      }
    }
    if (servers != null) {
      System.out.println(train(servers, steps, true));
      return;
    }
    try (LocalCluster shard = LocalCluster.start(1, null)) {
      System.out.println(train(shard.addresses(), steps, true));
    }
  }

  public static Result train(List<String> servers, int steps, boolean verbose) throws Exception {
    // 1. The data: 64 pixels (0..16) and a label per row; 1,500 rows to train, the rest to test.
    List<float[]> rows = new ArrayList<>();
    try (var in = new BufferedReader(new InputStreamReader(new GZIPInputStream(
        OwnTrainingLoop.class.getResourceAsStream("/data/digits.csv.gz")),
        StandardCharsets.US_ASCII))) {
      for (String line; (line = in.readLine()) != null; ) {
        String[] f = line.split(",");
        float[] r = new float[f.length];
        for (int j = 0; j < f.length; j++) {
          r[j] = Float.parseFloat(f[j]);
        }
        rows.add(r);
      }
    }
    java.util.Collections.shuffle(rows, new Random(7));
    INDArray[] train = features(rows.subList(0, 1500));
    INDArray[] test = features(rows.subList(1500, rows.size()));

    // 2. The model: a SameDiff graph with its own trainable variables.
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("features", DataType.FLOAT, -1, 64);
    SDVariable y = sd.placeHolder("labels", DataType.FLOAT, -1, 10);
    SDVariable w1 = sd.var("W1", DataType.FLOAT, 64, 32);
    SDVariable b1 = sd.var("b1", DataType.FLOAT, 1, 32);
    SDVariable w2 = sd.var("W2", DataType.FLOAT, 32, 10);
    SDVariable b2 = sd.var("b2", DataType.FLOAT, 1, 10);
    SDVariable hidden = sd.nn.relu(x.mmul(w1).add(b1), 0);
    SDVariable logits = hidden.mmul(w2).add(b2).rename("logits");
    sd.loss.softmaxCrossEntropy("loss", y, logits, null);
    sd.setLossVariables("loss");
    List<SDVariable> params = List.of(w1, b1, w2, b2);

    // 3. The job, declared from the graph's variables: names and shapes, in this order.
    Job.Builder job = Job.builder("own-loop").learningRate(0.1f).seed(1);
    for (SDVariable p : params) {
      job.tensor(p.name(), p.getShape());
    }
    double first = Double.NaN;
    double last = Double.NaN;
    Random rng = new Random(1);
    try (ParasolClient ps = ParasolClient.connect(servers, job.build())) {
      float[] flat = new float[ps.dimension()];
      float[] grad = new float[ps.dimension()];
      for (int step = 0; step < steps; step++) {
        // 4. Pull the model, set the variables, compute gradients on a mini-batch, push them.
        Versions read = ps.pull(flat, 0).await();
        setVariables(params, flat);
        int[] batch = rng.ints(64, 0, 1500).toArray();
        Map<String, INDArray> feed = new HashMap<>();
        feed.put("features", train[0].getRows(batch));
        feed.put("labels", train[1].getRows(batch));
        Map<String, INDArray> g = sd.calculateGradients(feed, "W1", "b1", "W2", "b2");
        int off = 0;
        for (SDVariable p : params) {
          float[] v = g.get(p.name()).dup().ravel().toFloatVector();
          System.arraycopy(v, 0, grad, off, v.length);
          off += v.length;
        }
        double loss = sd.output(feed, "loss").get("loss").getDouble(0);
        ps.push(grad, read, null, (float) loss).await();
        first = step == 0 ? loss : first;
        last = loss;
        if (verbose && step % 50 == 0) {
          System.out.printf("step %4d  loss %.4f%n", step, loss);
        }
      }
      // 5. Evaluate the final model on the held-out rows.
      ps.pull(flat, 0).await();
      setVariables(params, flat);
      INDArray predicted = sd.output(Map.of("features", test[0], "labels", test[1]), "logits")
          .get("logits").argMax(1);
      double accuracy = predicted.eq(test[1].argMax(1)).castTo(DataType.FLOAT)
          .meanNumber().doubleValue();
      return new Result(first, last, accuracy);
    }
  }

  /** Copies each variable's slice of the flat vector into the variable (row-major). */
  static void setVariables(List<SDVariable> params, float[] flat) {
    int off = 0;
    for (SDVariable p : params) {
      int n = (int) java.util.Arrays.stream(p.getShape()).reduce(1, (a, b) -> a * b);
      p.setArray(Nd4j.create(java.util.Arrays.copyOfRange(flat, off, off + n), p.getShape()));
      off += n;
    }
  }

  /** Pixels scaled to [0, 1], and one-hot labels. */
  static INDArray[] features(List<float[]> rows) {
    float[][] xs = new float[rows.size()][64];
    float[][] ys = new float[rows.size()][10];
    for (int i = 0; i < rows.size(); i++) {
      for (int j = 0; j < 64; j++) {
        xs[i][j] = rows.get(i)[j] / 16f;
      }
      ys[i][(int) rows.get(i)[64]] = 1f;
    }
    return new INDArray[] {Nd4j.create(xs), Nd4j.create(ys)};
  }
}
