package io.parasol.worker.model;

import java.util.SplittableRandom;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.enums.WeightsFormat;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Pooling2DConfig;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The built-in {@code cnn}: a LeNet-style network (LeCun et al., "Gradient-based learning applied
 * to document recognition", Proc. IEEE 1998) as a SameDiff graph under Parasol's model contract.
 *
 * <p>features [b, C*H*W] reshaped to NCHW; conv 5x5 C->6 (no padding), ReLU, max-pool 2; conv
 * 5x5 6->16, ReLU, max-pool 2; flatten; dense to the classes ("output"); mean softmax
 * cross-entropy ("loss"). For 1x28x28 images: 156 + 2,416 + 2,570 = 5,142 parameters, the
 * network of the PyTorch peer in {@code parasol bench train}. Weights are Glorot-uniform, biases
 * zero.
 */
public final class LeNet {
  private LeNet() {}

  /** Channels, height and width of the input images. */
  public record Shape(int channels, int height, int width) {
    public int size() {
      return channels * height * width;
    }

    /** "C,H,W" (e.g. 1,28,28). */
    public static Shape parse(String s) {
      String[] p = s.trim().split("\\s*,\\s*");
      if (p.length != 3) {
        throw new IllegalArgumentException("--input-shape must be C,H,W (e.g. 1,28,28), got '"
            + s + "'");
      }
      try {
        Shape r = new Shape(Integer.parseInt(p[0]), Integer.parseInt(p[1]),
            Integer.parseInt(p[2]));
        if (r.channels <= 0 || r.height <= 0 || r.width <= 0) {
          throw new NumberFormatException("not positive");
        }
        return r;
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--input-shape must be three positive integers"
            + " C,H,W, got '" + s + "'", e);
      }
    }

    /** One channel of square images, when the feature count is a square (28x28 = 784). */
    public static Shape square(int features) {
      int side = (int) Math.round(Math.sqrt(features));
      if (side * side != features) {
        throw new IllegalArgumentException("cnn: " + features + " features are not a square"
            + " image; give --input-shape C,H,W");
      }
      return new Shape(1, side, side);
    }
  }

  /** The graph for {@code shape} images and {@code classes} classes, weights drawn from seed. */
  public static SameDiff graph(Shape shape, int classes, long seed) {
    int h1 = shape.height() - 4;
    int w1 = shape.width() - 4;
    int h2 = h1 / 2 - 4;
    int w2 = w1 / 2 - 4;
    if (h2 < 2 || w2 < 2) {
      throw new IllegalArgumentException("cnn: images of " + shape.height() + " x "
          + shape.width() + " are too small for two 5x5 convolutions and two 2x2 pools (need"
          + " at least 16 x 16)");
    }
    int flat = 16 * (h2 / 2) * (w2 / 2);
    SplittableRandom rng = new SplittableRandom(seed);
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("features", DataType.FLOAT, -1, shape.size());
    SDVariable y = sd.placeHolder("labels", DataType.FLOAT, -1, classes);
    SDVariable img = sd.reshape(x, -1, shape.channels(), shape.height(), shape.width());
    Conv2DConfig conv = Conv2DConfig.builder().kH(5).kW(5).sH(1).sW(1)
        .paddingMode(PaddingMode.VALID).dataFormat("NCHW").weightsFormat(WeightsFormat.YXIO)
        .build();
    Pooling2DConfig pool = Pooling2DConfig.builder().kH(2).kW(2).sH(2).sW(2)
        .paddingMode(PaddingMode.VALID).isNHWC(false).build();
    SDVariable c1w = sd.var("conv1_W", glorot(rng, 25 * shape.channels(), 25 * 6, 5, 5,
        shape.channels(), 6));
    SDVariable c1b = sd.var("conv1_b", Nd4j.zeros(DataType.FLOAT, 6));
    SDVariable a1 = sd.nn().relu(sd.cnn().conv2d(img, c1w, c1b, conv), 0);
    SDVariable p1 = sd.cnn().maxPooling2d(a1, pool);
    SDVariable c2w = sd.var("conv2_W", glorot(rng, 25 * 6, 25 * 16, 5, 5, 6, 16));
    SDVariable c2b = sd.var("conv2_b", Nd4j.zeros(DataType.FLOAT, 16));
    SDVariable a2 = sd.nn().relu(sd.cnn().conv2d(p1, c2w, c2b, conv), 0);
    SDVariable p2 = sd.cnn().maxPooling2d(a2, pool);
    SDVariable f = sd.reshape(p2, -1, flat);
    SDVariable dw = sd.var("dense_W", glorot(rng, flat, classes, flat, classes));
    SDVariable db = sd.var("dense_b", Nd4j.zeros(DataType.FLOAT, 1, classes));
    SDVariable logits = f.mmul(dw).add("output", db);
    sd.loss().softmaxCrossEntropy("loss", y, logits, null);
    sd.setLossVariables("loss");
    return sd;
  }

  private static INDArray glorot(SplittableRandom rng, int fanIn, int fanOut, long... shape) {
    double s = Math.sqrt(6.0 / (fanIn + fanOut));
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    float[] v = new float[(int) n];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) ((rng.nextDouble() * 2 - 1) * s);
    }
    return Nd4j.create(v, shape, DataType.FLOAT);
  }
}
