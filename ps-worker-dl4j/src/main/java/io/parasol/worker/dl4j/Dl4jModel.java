package io.parasol.worker.dl4j;

import io.parasol.common.BlockLayout;
import io.parasol.worker.model.Model;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A DL4J {@link MultiLayerNetwork} as a {@link Model}. The flat vector is DL4J's own flat
 * parameter vector ({@code params()}), in {@code paramTable()} order ("0_W", "0_b", "1_W", ...;
 * each tensor in DL4J's storage order). Each calling thread runs its own network whose
 * parameters are a live view of the vector it was given ({@code init(params, false)}; no copy
 * while the same vector comes again). DL4J's flat gradient is the sum over the mini-batch and is
 * divided by b here, so the gradient is that of the mean loss. Batch-normalisation running
 * statistics ("mean", "var", "log10stdev") are parameters whose "gradients" are not gradients:
 * their entries are zero, so they keep their initial values (the saved network's).
 */
public final class Dl4jModel implements Model {

  private static final List<String> RUNNING_STATS = List.of("mean", "var", "log10stdev");

  private final String name;
  private final MultiLayerConfiguration conf;
  private final int numFeatures;
  private final int numClasses;
  private final int numParams;
  private final List<BlockLayout.Tensor> tensors;
  private final long[][] statRanges;
  private final ThreadLocal<Session> sessions = new ThreadLocal<>();

  /**
   * @param net an initialised network; its parameters are the initial values
   * @throws IllegalArgumentException if it does not fit the data
   */
  public Dl4jModel(String name, MultiLayerNetwork net, int numFeatures, int numClasses) {
    this.name = name;
    this.conf = net.getLayerWiseConfigurations();
    this.numFeatures = numFeatures;
    this.numClasses = numClasses;
    if (net.params() == null || net.params().length() == 0) {
      throw new IllegalArgumentException("model '" + name + "': the network has no parameters");
    }
    if (net.params().dataType() != DataType.FLOAT) {
      throw new IllegalArgumentException("model '" + name + "': the network's parameters are "
          + net.params().dataType() + "; expected float32");
    }
    long nIn = net.layerInputSize(0);
    long nOut = net.layerSize(net.getnLayers() - 1);
    if (nIn > 0 && nIn != numFeatures) {
      throw new IllegalArgumentException("model '" + name + "': the first layer takes " + nIn
          + " inputs but the data has " + numFeatures + " features");
    }
    long want = numClasses == 0 ? 1 : numClasses;
    if (nOut != want) {
      throw new IllegalArgumentException("model '" + name + "': the output layer has " + nOut
          + " units but the data has " + (numClasses == 0 ? "real-valued targets (1)"
          : numClasses + " classes"));
    }
    this.numParams = (int) net.params().length();
    List<BlockLayout.Tensor> t = new ArrayList<>();
    List<long[]> stats = new ArrayList<>();
    long offset = 0;
    Map<String, INDArray> table = net.paramTable();
    for (Map.Entry<String, INDArray> e : table.entrySet()) {
      INDArray v = e.getValue();
      float[] values = v.dup(v.ordering()).data().asFloat();
      t.add(BlockLayout.Tensor.ofValues(e.getKey(), values));
      String param = e.getKey().substring(e.getKey().indexOf('_') + 1);
      int layer = Integer.parseInt(e.getKey().substring(0, e.getKey().indexOf('_')));
      if (net.getLayer(layer) instanceof BatchNormalization && RUNNING_STATS.contains(param)) {
        stats.add(new long[] {offset, offset + values.length});
      }
      offset += values.length;
    }
    if (offset != numParams) {
      throw new IllegalArgumentException("model '" + name + "': its parameter table holds "
          + offset + " values but params() " + numParams);
    }
    this.tensors = List.copyOf(t);
    this.statRanges = stats.toArray(new long[0][]);
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

  @Override
  public LossAndGradient lossAndGradient(INDArray params, INDArray features, INDArray targets) {
    Session s = session(params);
    long b = features.rows();
    s.net.setInput(features.castTo(DataType.FLOAT));
    s.net.setLabels(labels(targets, b));
    s.net.computeGradientAndScore();
    INDArray g = s.net.gradient().gradient();
    s.grad.assign(g.reshape(s.grad.shape())).divi(b);
    for (long[] r : statRanges) {
      s.grad.get(NDArrayIndex.point(0), NDArrayIndex.interval(r[0], r[1])).assign(0);
    }
    return new LossAndGradient(s.net.score(), s.grad);
  }

  @Override
  public Evaluation evaluate(INDArray params, INDArray features, INDArray targets) {
    Session s = session(params);
    INDArray x = features.castTo(DataType.FLOAT);
    INDArray y = labels(targets, x.rows());
    double loss = s.net.score(new DataSet(x, y), false);
    if (numClasses == 0) {
      return new Evaluation(loss, Double.NaN);
    }
    long[] pred = Nd4j.argMax(s.net.output(x, false), 1).toLongVector();
    float[] t = targets.toFloatVector();
    long correct = 0;
    for (int i = 0; i < t.length; i++) {
      if (pred[i] == (long) t[i]) {
        correct++;
      }
    }
    return new Evaluation(loss, (double) correct / t.length);
  }

  private INDArray labels(INDArray targets, long b) {
    float[] t = targets.toFloatVector();
    if (t.length != b) {
      throw new IllegalArgumentException(name + ": expected " + b + " targets, got " + t.length);
    }
    if (numClasses == 0) {
      return Nd4j.create(t, new long[] {b, 1}, DataType.FLOAT);
    }
    float[] oneHot = new float[(int) b * numClasses];
    for (int i = 0; i < t.length; i++) {
      int c = (int) t[i];
      if (c != t[i] || c < 0 || c >= numClasses) {
        throw new IllegalArgumentException(name + ": target " + t[i] + " of example " + i
            + " is not a class index in 0.." + (numClasses - 1));
      }
      oneHot[i * numClasses + c] = 1f;
    }
    return Nd4j.create(oneHot, new long[] {b, numClasses}, DataType.FLOAT);
  }

  /** This thread's network, its parameters a view of {@code params}. */
  private Session session(INDArray params) {
    Session s = sessions.get();
    if (s != null && s.source == params) {
      if (s.bound != params) {
        s.bound.assign(params.reshape(s.bound.shape()));
      }
      return s;
    }
    if (params.length() != numParams) {
      throw new IllegalArgumentException(name + ": expected " + numParams + " parameters, got "
          + Arrays.toString(params.shape()));
    }
    INDArray flat = params.dataType() == DataType.FLOAT && params.ordering() == 'c'
        && params.rank() == 2 && params.rows() == 1 ? params
        : params.castTo(DataType.FLOAT).dup('c').reshape(1, numParams);
    MultiLayerNetwork net = new MultiLayerNetwork(conf.clone());
    net.init(flat, false);
    s = new Session(net, params, flat, Nd4j.create(DataType.FLOAT, 1, numParams));
    sessions.set(s);
    return s;
  }

  private record Session(MultiLayerNetwork net, INDArray source, INDArray bound,
      INDArray grad) {}

  /** The layers, for descriptions. */
  Layer[] layers(MultiLayerNetwork net) {
    return net.getLayers();
  }
}
