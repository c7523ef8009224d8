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
 * to document recognition", Proc. IEEE 1998) as a SameDiff graph under Parasol's model contract,
 * of the widths an {@link Arch} gives.
 *
 * <p>features [b, C*H*W] reshaped to NCHW; conv 5x5 C->C1 (no padding), ReLU, max-pool 2; conv
 * 5x5 C1->C2, ReLU, max-pool 2; flatten (channel, row, column); with a hidden layer H > 0 a dense
 * layer to H ("dense_W", "dense_b") and ReLU, then a dense layer to the classes ("out_W",
 * "out_b", output "output"); with H = 0 the dense layer goes straight to the classes ("dense_W",
 * "dense_b"); mean softmax cross-entropy ("loss"). The default {@link Arch#DEFAULT} for 1x28x28
 * images: 416 + 12,832 + 65,664 + 1,290 = 80,202 parameters; {@code cnn:6,16,0} is LeCun's
 * widths (5,142 parameters). The PyTorch peer of {@code parasol bench train} builds the same
 * network. Weights are Glorot-uniform, biases zero.
 */
public final class LeNet {
  private LeNet() {}

  /**
   * The widths: channels c1 and c2 of the two convolutions, and hidden units of the dense layer
   * before the output (0: none).
   */
  public record Arch(int c1, int c2, int hidden) {
    /** {@code cnn}'s widths: 16 and 32 channels, 128 hidden units. */
    public static final Arch DEFAULT = new Arch(16, 32, 128);

    public Arch {
      if (c1 <= 0 || c2 <= 0 || hidden < 0) {
        throw new IllegalArgumentException("cnn: channels must be positive and the hidden width"
            + " at least 0, got cnn:" + c1 + "," + c2 + "," + hidden);
      }
    }

    /** "C1,C2,H" as {@code cnn:C1,C2,H} takes it; H may be left out (0: no hidden layer). */
    public static Arch parse(String list) {
      String[] p = list.trim().split("\\s*,\\s*", -1);
      if (p.length < 2 || p.length > 3) {
        throw new IllegalArgumentException("model 'cnn:" + list + "': expected cnn:C1,C2[,H],"
            + " e.g. cnn:16,32,128");
      }
      int[] v = new int[3];
      for (int i = 0; i < p.length; i++) {
        try {
          v[i] = Integer.parseInt(p[i]);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("model 'cnn:" + list + "': '" + p[i] + "' is not"
              + " an integer; expected cnn:C1,C2[,H], e.g. cnn:16,32,128", e);
        }
      }
      return new Arch(v[0], v[1], v[2]);
    }

    @Override
    public String toString() {
      return c1 + "," + c2 + "," + hidden;
    }
  }

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

  /** The graph of the default widths. */
  public static SameDiff graph(Shape shape, int classes, long seed) {
    return graph(shape, Arch.DEFAULT, classes, seed);
  }

  /**
   * The graph for {@code shape} images, {@code arch}'s widths and {@code classes} classes,
   * weights drawn from seed.
   */
  public static SameDiff graph(Shape shape, Arch arch, int classes, long seed) {
    int c1 = arch.c1();
    int c2 = arch.c2();
    int h1 = shape.height() - 4;
    int w1 = shape.width() - 4;
    int h2 = h1 / 2 - 4;
    int w2 = w1 / 2 - 4;
    if (h2 < 2 || w2 < 2) {
      throw new IllegalArgumentException("cnn: images of " + shape.height() + " x "
          + shape.width() + " are too small for two 5x5 convolutions and two 2x2 pools (need"
          + " at least 16 x 16)");
    }
    int flat = c2 * (h2 / 2) * (w2 / 2);
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
    SDVariable c1w = sd.var("conv1_W", glorot(rng, 25 * shape.channels(), 25 * c1, 5, 5,
        shape.channels(), c1));
    SDVariable c1b = sd.var("conv1_b", Nd4j.zeros(DataType.FLOAT, c1));
    SDVariable a1 = sd.nn().relu(sd.cnn().conv2d(img, c1w, c1b, conv), 0);
    SDVariable p1 = sd.cnn().maxPooling2d(a1, pool);
    SDVariable c2w = sd.var("conv2_W", glorot(rng, 25 * c1, 25 * c2, 5, 5, c1, c2));
    SDVariable c2b = sd.var("conv2_b", Nd4j.zeros(DataType.FLOAT, c2));
    SDVariable a2 = sd.nn().relu(sd.cnn().conv2d(p1, c2w, c2b, conv), 0);
    SDVariable p2 = sd.cnn().maxPooling2d(a2, pool);
    SDVariable f = sd.reshape(p2, -1, flat);
    SDVariable logits;
    if (arch.hidden() > 0) {
      int h = arch.hidden();
      SDVariable dw = sd.var("dense_W", glorot(rng, flat, h, flat, h));
      SDVariable db = sd.var("dense_b", Nd4j.zeros(DataType.FLOAT, 1, h));
      SDVariable hid = sd.nn().relu(f.mmul(dw).add(db), 0);
      SDVariable ow = sd.var("out_W", glorot(rng, h, classes, h, classes));
      SDVariable ob = sd.var("out_b", Nd4j.zeros(DataType.FLOAT, 1, classes));
      logits = hid.mmul(ow).add("output", ob);
    } else {
      SDVariable dw = sd.var("dense_W", glorot(rng, flat, classes, flat, classes));
      SDVariable db = sd.var("dense_b", Nd4j.zeros(DataType.FLOAT, 1, classes));
      logits = f.mmul(dw).add("output", db);
    }
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
