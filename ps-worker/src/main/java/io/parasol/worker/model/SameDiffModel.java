package io.parasol.worker.model;

import io.parasol.common.BlockLayout;
import io.parasol.proto.v1.InitKind;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A model given as a SameDiff graph: Parasol's contract for any network a user brings.
 *
 * <p>The contract: a placeholder for the features, {@code [b, d]} float32 (default name
 * {@code features}); a placeholder for the labels, one-hot {@code [b, C]} float32 for classes or
 * {@code [b, 1]} for regression (default {@code labels}); and one loss variable, the mean loss
 * over the batch (default: the graph's loss variable). For accuracy, an optional variable of
 * class scores {@code [b, C]} (default name {@code output}; none: accuracy is NaN). The graph may
 * reshape the features as it likes (a CNN reshapes them to {@code [b, C, H, W]}).
 *
 * <p>Parameters: the graph's trainable variables (VariableType.VARIABLE) in the order of their
 * names, each flattened row-major ('c'), make the flat vector; blocks follow those variables (large ones split as usual). Gradients come from
 * SameDiff's automatic differentiation of the loss. Initial values: a graph file's own values
 * (they travel in the job spec, {@code INIT_VALUES}); see {@link InitialValues}.
 *
 * <p>Thread-safe: each thread evaluates its own copy of the graph ({@link SameDiff#dup()}).
 */
public final class SameDiffModel implements Model {

  /** Names of the graph's inputs and outputs; nulls take the defaults. */
  public record Names(String features, String labels, String loss, String output) {
    public static final Names DEFAULT = new Names(null, null, null, null);
  }

  private final String name;
  private final SameDiff prototype;
  private final String featuresName;
  private final String labelsName;
  private final String lossName;
  private final String outputName; // null: no accuracy
  private final int numFeatures;
  private final int numClasses; // 0: regression
  private final List<String> variables;
  private final List<long[]> shapes;
  private final int[] offsets;
  private final int numParams;
  private final List<BlockLayout.Tensor> tensors;
  private final ThreadLocal<SameDiff> graphs;

  /**
   * Checks the graph against the contract and the data.
   *
   * @throws IllegalArgumentException naming what does not fit: a missing placeholder, no loss,
   *     no trainable variable, a feature or class count other than the data's
   */
  public SameDiffModel(String name, SameDiff sd, Names names, int dataFeatures,
      int dataClasses) {
    this(name, sd, names, dataFeatures, dataClasses, InitialValues.SEEDED);
  }

  /** As above, with initial values from the graph or drawn by the shards. */
  public SameDiffModel(String name, SameDiff sd, Names names, int dataFeatures,
      int dataClasses, InitialValues initialValues) {
    this.name = name;
    this.prototype = sd;
    this.featuresName = names.features() == null ? "features" : names.features();
    this.labelsName = names.labels() == null ? "labels" : names.labels();
    SDVariable f = placeholder(sd, featuresName, "--model-features");
    SDVariable l = placeholder(sd, labelsName, "--model-labels");
    List<String> losses = sd.getLossVariables();
    if (names.loss() != null) {
      if (!sd.hasVariable(names.loss())) {
        throw new IllegalArgumentException(name + ": the graph has no variable '" + names.loss()
            + "' (--model-loss)");
      }
      this.lossName = names.loss();
    } else if (losses == null || losses.isEmpty()) {
      throw new IllegalArgumentException(name + ": the graph declares no loss variable; mark"
          + " one with setLossVariables(...) before saving, or name it with --model-loss");
    } else if (losses.size() > 1) {
      throw new IllegalArgumentException(name + ": the graph declares " + losses.size()
          + " loss variables " + losses + "; name the mean loss with --model-loss");
    } else {
      this.lossName = losses.get(0);
    }
    String out = names.output() == null ? "output" : names.output();
    this.outputName = sd.hasVariable(out) ? out : null;
    long[] fs = f.getShape();
    if (fs == null || fs.length != 2) {
      throw new IllegalArgumentException(name + ": placeholder '" + featuresName
          + "' must be [b, d], got " + Arrays.toString(fs));
    }
    this.numFeatures = (int) fs[1];
    if (numFeatures != dataFeatures) {
      throw new IllegalArgumentException(name + ": placeholder '" + featuresName + "' takes "
          + numFeatures + " features but the data has " + dataFeatures);
    }
    long[] ls = l.getShape();
    if (ls == null || ls.length != 2) {
      throw new IllegalArgumentException(name + ": placeholder '" + labelsName
          + "' must be [b, C] (one-hot) or [b, 1] (regression), got " + Arrays.toString(ls));
    }
    if (dataClasses == 0) {
      if (ls[1] != 1) {
        throw new IllegalArgumentException(name + ": regression data needs labels [b, 1], the"
            + " graph's '" + labelsName + "' is " + Arrays.toString(ls));
      }
      this.numClasses = 0;
    } else {
      if (ls[1] != dataClasses) {
        throw new IllegalArgumentException(name + ": placeholder '" + labelsName + "' holds "
            + ls[1] + " classes but the data has " + dataClasses);
      }
      this.numClasses = dataClasses;
    }
    this.variables = new ArrayList<>();
    this.shapes = new ArrayList<>();
    List<BlockLayout.Tensor> t = new ArrayList<>();
    List<Integer> offs = new ArrayList<>();
    long offset = 0;
    List<SDVariable> trainable = new ArrayList<>();
    for (SDVariable v : sd.variables()) {
      if (v.getVariableType() == VariableType.VARIABLE) {
        trainable.add(v);
      }
    }
    trainable.sort(java.util.Comparator.comparing(SDVariable::name));
    for (SDVariable v : trainable) {
      INDArray arr = v.getArr();
      if (arr == null) {
        throw new IllegalArgumentException(name + ": variable '" + v.name() + "' has no value");
      }
      if (arr.dataType() != DataType.FLOAT) {
        throw new IllegalArgumentException(name + ": variable '" + v.name() + "' is "
            + arr.dataType() + "; Parasol trains float32 variables");
      }
      long n = arr.length();
      if (offset + n > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException(name + ": too many parameters");
      }
      t.add(initialValues == InitialValues.GRAPH
          ? BlockLayout.Tensor.ofValues(v.name(), arr.dup('c').data().asFloat())
          : scaled(v.name(), arr));
      variables.add(v.name());
      shapes.add(arr.shape());
      offs.add((int) offset);
      offset += n;
    }
    if (variables.isEmpty()) {
      throw new IllegalArgumentException(name + ": the graph has no trainable variables"
          + " (VariableType.VARIABLE)");
    }
    this.offsets = offs.stream().mapToInt(Integer::intValue).toArray();
    this.numParams = (int) offset;
    this.tensors = List.copyOf(t);
    this.graphs = ThreadLocal.withInitial(prototype::dup);
  }

  /** Where a graph model's initial parameter values come from. */
  public enum InitialValues {
    /**
     * The graph's own values, shipped to the shards in the job spec (a graph file: a user's
     * model starts where the user's code initialised it).
     */
    GRAPH,
    /**
     * Drawn by the shards from the job seed with each variable's own scale: uniform on
     * [-m, m] for m the variable's largest magnitude, zeros for an all-zero variable (built-in
     * graphs, whose values are only an initialisation rule).
     */
    SEEDED
  }

  private static BlockLayout.Tensor scaled(String name, INDArray arr) {
    double max = arr.amaxNumber().doubleValue();
    return max == 0 ? new BlockLayout.Tensor(name, (int) arr.length(), InitKind.INIT_ZEROS, 0f)
        : new BlockLayout.Tensor(name, (int) arr.length(), InitKind.INIT_UNIFORM, (float) max);
  }

  /** Loads a graph saved with {@code SameDiff.save(file, false)}. */
  public static SameDiffModel load(Path path, Names names, int dataFeatures, int dataClasses) {
    if (!Files.isRegularFile(path)) {
      throw new IllegalArgumentException("model file " + path + " does not exist");
    }
    SameDiff sd;
    try {
      sd = SameDiff.load(new File(path.toString()), false);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(path + " is not a SameDiff graph saved with"
          + " SameDiff.save(file, false): " + e.getMessage(), e);
    }
    if (sd == null) {
      throw new IllegalArgumentException(path + " holds no SameDiff graph");
    }
    return new SameDiffModel(path.getFileName().toString(), sd, names, dataFeatures,
        dataClasses, InitialValues.GRAPH);
  }

  private SDVariable placeholder(SameDiff sd, String n, String flag) {
    if (!sd.hasVariable(n) || sd.getVariable(n).getVariableType() != VariableType.PLACEHOLDER) {
      List<String> have = new ArrayList<>();
      for (SDVariable v : sd.variables()) {
        if (v.getVariableType() == VariableType.PLACEHOLDER) {
          have.add(v.name());
        }
      }
      throw new IllegalArgumentException(name + ": the graph has no placeholder '" + n
          + "' (its placeholders: " + have + "); name it with " + flag);
    }
    return sd.getVariable(n);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public List<BlockLayout.Tensor> tensors() {
    return tensors;
  }

  @Override
  public int numParams() {
    return numParams;
  }

  /** The trainable variables' names and shapes, in flat-vector order. */
  public Map<String, long[]> variableShapes() {
    Map<String, long[]> m = new java.util.LinkedHashMap<>();
    for (int i = 0; i < variables.size(); i++) {
      m.put(variables.get(i), shapes.get(i).clone());
    }
    return m;
  }

  /** The variable holding the mean loss. */
  public String lossVariable() {
    return lossName;
  }

  /** The class-score variable used for accuracy, or null. */
  public String outputVariable() {
    return outputName;
  }

  /** The graph itself (the prototype every thread copies); do not modify it. */
  public SameDiff graph() {
    return prototype;
  }

  @Override
  public LossAndGradient lossAndGradient(INDArray params, INDArray features, INDArray targets) {
    SameDiff sd = bind(params);
    Map<String, INDArray> ph = placeholders(features, targets);
    OutAndGrad og = sd.calculateGradientsAndOutputs(ph, List.of(lossName), variables);
    double loss = og.getOutputs().get(lossName).getDouble(0);
    float[] g = new float[numParams];
    Map<String, INDArray> grads = og.getGradients();
    for (int i = 0; i < variables.size(); i++) {
      INDArray gi = grads.get(variables.get(i));
      if (gi == null) {
        continue; // a variable the loss does not depend on: zero gradient
      }
      float[] v = gi.dup('c').data().asFloat();
      System.arraycopy(v, 0, g, offsets[i], v.length);
    }
    return new LossAndGradient(loss, Nd4j.create(g, new long[] {1, numParams},
        DataType.FLOAT));
  }

  @Override
  public Evaluation evaluate(INDArray params, INDArray features, INDArray targets) {
    SameDiff sd = bind(params);
    int rows = (int) features.rows();
    int chunk = 1000;
    double lossSum = 0;
    long correct = 0;
    for (int start = 0; start < rows; start += chunk) {
      int n = Math.min(chunk, rows - start);
      INDArray x = features.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(start,
          start + n), org.nd4j.linalg.indexing.NDArrayIndex.all());
      INDArray y = targets.reshape(targets.length()).get(
          org.nd4j.linalg.indexing.NDArrayIndex.interval(start, start + n));
      List<String> outs = outputName == null ? List.of(lossName) : List.of(lossName,
          outputName);
      Map<String, INDArray> o = sd.output(placeholders(x, y), outs);
      lossSum += o.get(lossName).getDouble(0) * n;
      if (outputName != null && numClasses > 0) {
        INDArray pred = o.get(outputName).argMax(1);
        for (int i = 0; i < n; i++) {
          if (pred.getInt(i) == y.getInt(i)) {
            correct++;
          }
        }
      }
    }
    return new Evaluation(lossSum / rows,
        outputName != null && numClasses > 0 ? (double) correct / rows : Double.NaN);
  }

  /** This thread's graph with its variables set to the flat vector's values. */
  private SameDiff bind(INDArray params) {
    if (params.length() < numParams) {
      throw new IllegalArgumentException(name + ": " + params.length() + " parameters, expected "
          + numParams);
    }
    SameDiff sd = graphs.get();
    INDArray flat = params.reshape(params.length()).castTo(DataType.FLOAT);
    for (int i = 0; i < variables.size(); i++) {
      INDArray arr = sd.getVariable(variables.get(i)).getArr();
      long n = arr.length();
      arr.assign(flat.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(offsets[i],
          offsets[i] + n)).reshape('c', arr.shape()));
    }
    return sd;
  }

  private Map<String, INDArray> placeholders(INDArray features, INDArray targets) {
    Map<String, INDArray> ph = new HashMap<>();
    ph.put(featuresName, features.castTo(DataType.FLOAT));
    INDArray y = targets.reshape(targets.length()).castTo(DataType.FLOAT);
    int rows = (int) y.length();
    if (numClasses == 0) {
      ph.put(labelsName, y.reshape(rows, 1));
    } else {
      float[] yy = y.toFloatVector();
      float[] oh = new float[rows * numClasses];
      for (int i = 0; i < rows; i++) {
        int c = (int) yy[i];
        if (c < 0 || c >= numClasses || c != yy[i]) {
          throw new IllegalArgumentException(name + ": target " + yy[i]
              + " is not a class index in 0.." + (numClasses - 1));
        }
        oh[i * numClasses + c] = 1f;
      }
      ph.put(labelsName, Nd4j.create(oh, new long[] {rows, numClasses}, DataType.FLOAT));
    }
    return ph;
  }

  /** Saves the graph (for {@code --model PATH}); the same call a user makes. */
  public static void save(SameDiff sd, Path path) throws IOException {
    sd.save(new File(path.toString()), false);
  }
}
