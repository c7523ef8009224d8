package io.parasol.worker.dl4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.parasol.client.PsClient;
import io.parasol.common.BlockLayout;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.server.LocalCluster;
import io.parasol.worker.data.Batches;
import io.parasol.worker.data.DataFormat;
import io.parasol.worker.data.Dataset;
import io.parasol.worker.data.Scaling;
import io.parasol.worker.model.Model;
import io.parasol.worker.model.Models;
import io.parasol.worker.train.JobSettings;
import io.parasol.worker.train.TrainingData;
import io.parasol.worker.train.TrainingLoop;
import java.io.File;
import java.nio.file.Path;
import java.time.Duration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * A DL4J MLP trained by Parasol in sync mode with one worker (two real shards over loopback)
 * ends where the same steps of plain SGD on DL4J alone end, within float rounding.
 */
@Tag("slow")
class Dl4jSyncMatchesDl4jSgdTest {

  private static final float LR = 0.3f;

  private static File saveMlp(Path dir, int in, int classes) throws Exception {
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
        .seed(42).updater(new Sgd(LR)).weightInit(WeightInit.XAVIER).dataType(DataType.FLOAT)
        .list()
        .layer(new DenseLayer.Builder().nIn(in).nOut(16).activation(Activation.RELU).build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(16).nOut(classes)
            .activation(Activation.SOFTMAX).build())
        .build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    File f = dir.resolve("mlp.zip").toFile();
    ModelSerializer.writeModel(net, f, false);
    return f;
  }

  @Test
  void syncOneWorker_matchesDl4jSgd(@TempDir Path dir) throws Exception {
    TrainingData data = TrainingData.load("digits", DataFormat.CSV, -1, false, false, 0.2,
        Scaling.MINMAX, 1);
    Dataset train = data.part(1, 0);
    File file = saveMlp(dir, train.numFeatures(), train.numClasses());
    Model model = Models.create("dl4j:" + file.getPath(), train.numFeatures(),
        train.numClasses());
    assertThat(model).isInstanceOf(Dl4jModel.class);
    JobSettings js = JobSettings.defaults(Mode.MODE_SYNC, 2, 1, LR);
    BlockLayout layout = js.layout(model);
    JobSpec spec = js.spec("dl4j", model, layout);
    int steps = 40;

    float[] distributed = new float[layout.dimension()];
    try (LocalCluster cluster = LocalCluster.start(2, null);
        PsClient client = PsClient.connect(cluster.addresses(), layout, Duration.ofSeconds(30),
            Duration.ofSeconds(30))) {
      client.init(spec);
      new TrainingLoop(client, model, train, null,
          new TrainingLoop.Config(0, js, steps, 32, 0), null).run();
      assertThat(client.pull(0, distributed, 0, 0)).containsOnly(steps);
    }

    MultiLayerNetwork ref = ModelSerializer.restoreMultiLayerNetwork(file, false);
    float[] start = ref.params().toFloatVector();
    Batches batches = new Batches(train, 32, TrainingLoop.workerSeed(js.seed(), 0));
    for (int t = 0; t < steps; t++) {
      Batches.Batch b = batches.next();
      float[] y = b.targets().toFloatVector();
      INDArray oneHot = Nd4j.zeros(DataType.FLOAT, y.length, train.numClasses());
      for (int i = 0; i < y.length; i++) {
        oneHot.putScalar(i, (int) y[i], 1f);
      }
      ref.fit(new org.nd4j.linalg.dataset.DataSet(b.features(), oneHot));
    }
    float[] x = ref.params().toFloatVector();
    double maxDiff = 0;
    double moved = 0;
    for (int i = 0; i < x.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(x[i] - distributed[i]));
      moved = Math.max(moved, Math.abs(x[i] - start[i]));
    }
    System.out.printf("dl4j: sync(1 worker) vs DL4J SGD after %d steps: max |diff| = %.3g,"
        + " max move %.3g%n", steps, maxDiff, moved);
    assertThat(moved).isGreaterThan(0.05);
    assertThat(maxDiff).isLessThanOrEqualTo(1e-5);
  }

  @Test
  void networkThatDoesNotFitTheData_isNamed(@TempDir Path dir) throws Exception {
    File file = saveMlp(dir, 10, 3);
    assertThatThrownBy(() -> Models.create("dl4j:" + file.getPath(), 64, 3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("takes 10 inputs but the data has 64 features");
    assertThatThrownBy(() -> Models.create("dl4j:" + file.getPath(), 10, 5))
        .hasMessageContaining("output layer has 3 units");
    assertThatThrownBy(() -> Models.create("dl4j:" + dir.resolve("none.zip"), 10, 3))
        .hasMessageContaining("no such file");
  }
}
