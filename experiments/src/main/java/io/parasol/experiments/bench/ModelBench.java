package io.parasol.experiments.bench;

import io.parasol.worker.model.ArrayModel;
import io.parasol.worker.model.DenseNet;
import io.parasol.worker.model.LeNet;
import io.parasol.worker.model.LeNetKernel;
import io.parasol.worker.model.Mlp;
import io.parasol.worker.model.Model;
import io.parasol.worker.model.SameDiffModel;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code parasol bench model}: the cost of one worker step's loss and gradient (batch b of
 * 28x28 images, 10 classes), for each way Parasol can compute it, on the same batch in the same
 * run, variants taking turns: the MLP 784-64-10 as Parasol's Java kernel ({@link DenseNet}, its
 * large products through OpenBLAS's sgemm), as the same kernel with Java loops only, as
 * hand-written ND4J ops ({@link Mlp}) and as a SameDiff graph (the cost of generality); the
 * LeNet CNN as the Java kernel ({@link LeNetKernel}, its convolutions unfolded into sgemm
 * products), as the same kernel with Java loops only and as its SameDiff graph.
 */
final class ModelBench {
  private ModelBench() {}

  record Options(int batchSize, int warmup, int steps, long seed) {}

  private record Variant(String model, String path, Runnable step) {}

  static Map<String, Object> run(Options o, PrintStream progress) {
    int b = o.batchSize();
    SplittableRandom r = new SplittableRandom(o.seed());
    float[] x = new float[b * 784];
    for (int i = 0; i < x.length; i++) {
      x[i] = r.nextDouble() < 0.5 ? 0f : (float) r.nextDouble(); // about half zero, as images
    }
    float[] y = new float[b];
    for (int i = 0; i < b; i++) {
      y[i] = r.nextInt(10);
    }
    INDArray xa = Nd4j.create(x, new long[] {b, 784}, DataType.FLOAT);
    INDArray ya = Nd4j.create(y, new long[] {b}, DataType.FLOAT);
    List<Variant> variants = new ArrayList<>();
    DenseNet dense = DenseNet.mlp(784, new int[] {64}, 10);
    add(variants, "mlp:64", "java", dense, x, y, xa, ya, r);
    if (dense.usesBlas()) {
      add(variants, "mlp:64", "java-loops", dense.javaLoops(), x, y, xa, ya, r);
    }
    add(variants, "mlp:64", "nd4j", new Mlp(784, new int[] {64}, 10), x, y, xa, ya, r);
    add(variants, "mlp:64", "samediff", new SameDiffModel("mlp:64", mlpGraph(r), 
        SameDiffModel.Names.DEFAULT, 784, 10), x, y, xa, ya, r);
    LeNet.Shape shape = new LeNet.Shape(1, 28, 28);
    LeNetKernel cnn = new LeNetKernel(shape, 10);
    add(variants, "cnn", "java", cnn, x, y, xa, ya, r);
    if (cnn.usesBlas()) {
      add(variants, "cnn", "java-loops", cnn.javaLoops(), x, y, xa, ya, r);
    }
    add(variants, "cnn", "samediff", new SameDiffModel("cnn", LeNet.graph(shape, 10, 1),
        SameDiffModel.Names.DEFAULT, 784, 10), x, y, xa, ya, r);
    long[][] samples = new long[variants.size()][o.steps()];
    for (int s = -o.warmup(); s < o.steps(); s++) {
      for (int v = 0; v < variants.size(); v++) {
        long t0 = System.nanoTime();
        variants.get(v).step().run();
        if (s >= 0) {
          samples[v][s] = System.nanoTime() - t0;
        }
      }
      if (progress != null && s >= 0 && (s + 1) % 10 == 0) {
        progress.printf(Locale.ROOT, "bench model: %d of %d rounds%n", s + 1, o.steps());
      }
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("batch_size", b);
    out.put("steps", o.steps());
    List<Map<String, Object>> rows = new ArrayList<>();
    Map<String, Double> javaMs = new LinkedHashMap<>();
    for (int v = 0; v < variants.size(); v++) {
      long[] t = samples[v].clone();
      java.util.Arrays.sort(t);
      double ms = t[t.length / 2] / 1e6;
      Variant var = variants.get(v);
      if (var.path().equals("java")) {
        javaMs.put(var.model(), ms);
      }
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("model", var.model());
      row.put("path", var.path());
      row.put("median_ms", ms);
      row.put("ratio_to_java", ms / javaMs.get(var.model()));
      rows.add(row);
    }
    out.put("variants", rows);
    return out;
  }

  private static void add(List<Variant> variants, String model, String path, Model m,
      float[] x, float[] y, INDArray xa, INDArray ya, SplittableRandom r) {
    float[] p = new float[m.numParams()];
    for (int i = 0; i < p.length; i++) {
      p[i] = (float) ((r.nextDouble() - 0.5) * 0.2);
    }
    if (m instanceof ArrayModel am) {
      float[] g = new float[p.length];
      variants.add(new Variant(model, path, () -> am.lossAndGradient(p, x, y, y.length, g)));
    } else {
      INDArray pa = Nd4j.create(p, new long[] {1, p.length}, DataType.FLOAT);
      variants.add(new Variant(model, path, () -> m.lossAndGradient(pa, xa, ya)));
    }
  }

  /** The MLP 784-64-10 as a SameDiff graph, as a user would write it. */
  static SameDiff mlpGraph(SplittableRandom r) {
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("features", DataType.FLOAT, -1, 784);
    SDVariable y = sd.placeHolder("labels", DataType.FLOAT, -1, 10);
    SDVariable w1 = sd.var("w1", Nd4j.rand(DataType.FLOAT, 784, 64).subi(0.5).muli(0.17));
    SDVariable b1 = sd.var("b1", Nd4j.zeros(DataType.FLOAT, 1, 64));
    SDVariable w2 = sd.var("w2", Nd4j.rand(DataType.FLOAT, 64, 10).subi(0.5).muli(0.55));
    SDVariable b2 = sd.var("b2", Nd4j.zeros(DataType.FLOAT, 1, 10));
    SDVariable h = sd.nn().relu(x.mmul(w1).add(b1), 0);
    SDVariable out = h.mmul(w2).add("output", b2);
    sd.loss().softmaxCrossEntropy("loss", y, out, null);
    sd.setLossVariables("loss");
    return sd;
  }

  @SuppressWarnings("unchecked")
  static String table(Map<String, Object> r) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "bench model: loss and gradient of one batch of %s"
        + " (28x28 images, 10 classes), median of %s rounds, variants in turn%n",
        r.get("batch_size"), r.get("steps")));
    sb.append(String.format(Locale.ROOT, "%-8s %-9s %10s %14s%n", "model", "path", "ms/step",
        "x java kernel"));
    for (Map<String, Object> row : (List<Map<String, Object>>) r.get("variants")) {
      sb.append(String.format(Locale.ROOT, "%-8s %-9s %10.3f %14.2f%n", row.get("model"),
          row.get("path"), (Double) row.get("median_ms"), (Double) row.get("ratio_to_java")));
    }
    return sb.toString();
  }
}
