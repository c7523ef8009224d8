package io.parasol.worker.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.parasol.worker.data.Batches;
import io.parasol.worker.data.BundledData;
import io.parasol.worker.data.Dataset;
import io.parasol.worker.data.Scaling;
import io.parasol.worker.data.Splits;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Plain mini-batch SGD on the bundled digits: a sanity check of data, model and gradient. */
@Tag("slow")
class SoftmaxDigitsTrainingTest {

  @Test
  void sgd_softmaxOnDigits_reachesHighTestAccuracy() {
    Splits.Split split = Splits.trainTest(BundledData.load("digits"), 0.2, 1);
    Scaling.Fitted scaler = Scaling.MINMAX.fit(split.train());
    Dataset train = scaler.apply(split.train());
    Dataset test = scaler.apply(split.test());
    Model model = Models.create("softmax", train.numFeatures(), train.numClasses());
    INDArray params = Nd4j.zeros(DataType.FLOAT, 1, model.numParams());
    Batches batches = new Batches(train, 32, 7);
    double lr = 0.5;

    while (batches.epoch() < 10) {
      Batches.Batch b = batches.next();
      Model.LossAndGradient lg = model.lossAndGradient(params, b.features(), b.targets());
      params = params.sub(lg.gradient().mul(lr));
    }

    Batches.Batch all = Batches.all(test);
    Model.Evaluation e = model.evaluate(params, all.features(), all.targets());
    System.out.printf("softmax on digits: test accuracy %.4f, loss %.4f (%d train, %d test)%n",
        e.accuracy(), e.loss(), train.numExamples(), test.numExamples());
    assertThat(e.accuracy()).isGreaterThanOrEqualTo(0.93);
  }

  @Test
  void sgd_mlpOnDigits_learns() {
    Splits.Split split = Splits.trainTest(BundledData.load("digits"), 0.2, 1);
    Scaling.Fitted scaler = Scaling.MINMAX.fit(split.train());
    Dataset train = scaler.apply(split.train());
    Dataset test = scaler.apply(split.test());
    Model model = Models.create("mlp:32", train.numFeatures(), train.numClasses());
    // Glorot-uniform weights as the servers would initialise them, zero biases
    java.util.SplittableRandom rng = new java.util.SplittableRandom(5);
    float[] x = new float[model.numParams()];
    int offset = 0;
    for (var t : model.tensors()) {
      for (int i = 0; i < t.size(); i++) {
        x[offset + i] = t.initScale() * (float) (2 * rng.nextDouble() - 1);
      }
      offset += t.size();
    }
    INDArray params = Nd4j.create(x, new long[] {1, x.length}, DataType.FLOAT);
    Batches batches = new Batches(train, 32, 7);

    while (batches.epoch() < 10) {
      Batches.Batch b = batches.next();
      params = params.sub(model.lossAndGradient(params, b.features(), b.targets()).gradient()
          .mul(0.2));
    }

    Batches.Batch all = Batches.all(test);
    Model.Evaluation e = model.evaluate(params, all.features(), all.targets());
    System.out.printf("mlp:32 on digits: test accuracy %.4f, loss %.4f%n", e.accuracy(),
        e.loss());
    assertThat(e.accuracy()).isGreaterThanOrEqualTo(0.93);
  }
}
