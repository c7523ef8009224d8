package io.parasol.worker.model;

import java.util.Locale;

/** Builds a {@link Model} from its command-line name and checks that it fits the data. */
public final class Models {

  /** The accepted model names, for messages and help texts. */
  public static final String ACCEPTED =
      "linear, logistic, softmax, mlp, mlp:H1[,H2...], cnn, cnn:C1,C2[,H], dl4j:PATH, or the path"
          + " of a saved SameDiff graph";

  /**
   * What a graph model needs beyond its name: the names of its placeholders and loss (nulls:
   * the contract's defaults), and for {@code cnn} the input images' shape (null: one channel
   * of square images).
   */
  public record Options(SameDiffModel.Names names, LeNet.Shape inputShape) {
    public static final Options DEFAULT = new Options(SameDiffModel.Names.DEFAULT, null);
  }

  /** Hidden width of plain "mlp". */
  public static final int DEFAULT_HIDDEN = 64;

  private Models() {}

  /** The default step size of the convex models (softmax, logistic, linear). */
  public static final float CONVEX_LEARNING_RATE = 0.5f;

  /** The default step size of mlp and graph files. */
  public static final float NETWORK_LEARNING_RATE = 0.1f;

  /**
   * The default step size of {@code cnn}, for its default optimizer, Adam, and its default
   * schedule, cosine: the peak, at the start of the run.
   */
  public static final float CNN_LEARNING_RATE = 0.003f;

  /** The default server optimizer of {@code cnn}; every other model's is plain SGD. */
  public static final String CNN_OPTIMIZER = "adam";

  /** The default step-size schedule of {@code cnn}; every other model's is constant. */
  public static final String CNN_LR_SCHEDULE = "cosine";

  /** The default feature scaling of {@code cnn}; every other model's is min-max. */
  public static final String CNN_SCALING = "standard";

  /**
   * The step size a model trains with when {@code --lr} is not given: 0.5 for the convex models
   * (softmax, logistic, linear), 0.1 for mlp and graph files, 0.003 for cnn (whose default
   * optimizer is Adam, {@link #defaultOptimizer}, and whose step size decays to 0 over the run,
   * {@link #defaultLrSchedule}); an MLP's ReLU layers blow up under 0.5 once
   * asynchrony makes gradients stale (with 4 async workers on the bundled digits, 0.5 reaches
   * anything from 0.97 to chance depending on the seed; 0.1 stays above 0.95). README's table
   * of defaults lists the accuracy each reaches.
   */
  public static float defaultLearningRate(String spec) {
    String s = spec == null ? "" : spec.trim().toLowerCase(Locale.ROOT);
    if (isCnn(s)) {
      return CNN_LEARNING_RATE;
    }
    return s.equals("softmax") || s.equals("logistic") || s.equals("linear")
        ? CONVEX_LEARNING_RATE : NETWORK_LEARNING_RATE;
  }

  /**
   * The server optimizer a model trains with when {@code --optimizer} is not given: Adam for
   * cnn, sgd for every other model. With plain SGD at 4 workers the CNN needs more than one
   * epoch of Fashion-MNIST to pass 0.85 test accuracy (sync 0.80 at lr 0.1); with Adam (at a
   * constant 0.002) and standardised pixels it passes 0.86 in one epoch in sync and async alike, where server
   * momentum (0.9) reaches 0.86 in sync but only 0.80 in async, its velocity built from stale
   * gradients. README's Models section lists the figures.
   */
  public static String defaultOptimizer(String spec) {
    return isCnn(spec) ? CNN_OPTIMIZER : "sgd";
  }

  /**
   * The step-size schedule a model trains with when {@code --lr-schedule} is not given: cosine
   * decay to zero over the run for cnn (at a constant step size the CNN's second epoch on
   * Fashion-MNIST adds little: 4 workers reached 0.873 to 0.884 after two epochs at a constant
   * 0.002; with cosine from 0.003, 0.883 to 0.891; README's Models section lists the figures),
   * constant for every other model.
   */
  public static String defaultLrSchedule(String spec) {
    return isCnn(spec) ? CNN_LR_SCHEDULE : "constant";
  }

  /**
   * The feature scaling a model's data gets when {@code --scaling} is not given: standard
   * (zero mean, unit variance per feature) for cnn, min-max for every other model. Centred
   * pixels add about 0.01 to 0.02 test accuracy after the CNN's first epoch.
   */
  public static String defaultScaling(String spec) {
    return isCnn(spec) ? CNN_SCALING : "minmax";
  }

  /** Whether {@code spec} names the built-in CNN: "cnn" or "cnn:C1,C2[,H]". */
  public static boolean isCnn(String spec) {
    String s = spec == null ? "" : spec.trim().toLowerCase(Locale.ROOT);
    return s.equals("cnn") || s.startsWith("cnn:");
  }

  /**
   * Creates a model.
   *
   * @param spec "linear" (regression data), "logistic" (2 classes), "softmax", "mlp" (one hidden
   *     layer of {@value #DEFAULT_HIDDEN}), "mlp:H1,H2,..." with the hidden layer widths, "cnn"
   *     ({@link LeNet.Arch#DEFAULT}'s widths) or "cnn:C1,C2[,H]" (image data), "SCHEME:LOCATION"
   *     of an adapter module, or a graph file's path
   * @param numFeatures features per example
   * @param numClasses classes of the data, 0 for regression data
   * @throws IllegalArgumentException for an unknown name, bad widths, or a model that does not
   *     fit the data (e.g. logistic on 10 classes)
   */
  public static Model create(String spec, int numFeatures, int numClasses) {
    return create(spec, numFeatures, numClasses, Options.DEFAULT);
  }

  /** As above, with the graph options of {@code cnn} and of graph files. */
  public static Model create(String spec, int numFeatures, int numClasses, Options options) {
    String raw = spec == null ? "" : spec.trim();
    String s = raw.toLowerCase(Locale.ROOT);
    if (s.equals("cnn") || s.startsWith("cnn:")) {
      LeNet.Arch arch = s.equals("cnn") ? LeNet.Arch.DEFAULT : LeNet.Arch.parse(s.substring(4));
      if (numClasses < 2) {
        throw new IllegalArgumentException("cnn: needs class labels (at least 2 classes), got "
            + (numClasses == 0 ? "regression data" : numClasses + " class"));
      }
      LeNet.Shape shape = options.inputShape() != null ? options.inputShape()
          : LeNet.Shape.square(numFeatures);
      if (shape.size() != numFeatures) {
        throw new IllegalArgumentException("cnn: --input-shape " + shape.channels() + ","
            + shape.height() + "," + shape.width() + " holds " + shape.size()
            + " values but the data has " + numFeatures + " features");
      }
      // The hand-written kernel: LeNet's graph computed in Java loops (LeNetKernelTest checks
      // it against SameDiff's gradient; `parasol bench model` times both).
      return new LeNetKernel(shape, arch, numClasses);
    }
    int colon = s.indexOf(':');
    if (colon > 1 && !s.startsWith("mlp:")) { // cnn: returned above
      // SCHEME:LOCATION, e.g. dl4j:PATH: a model from an adapter module on the class path.
      String scheme = s.substring(0, colon);
      for (ModelProvider p : java.util.ServiceLoader.load(ModelProvider.class)) {
        if (p.scheme().equals(scheme)) {
          return p.load(raw.substring(colon + 1), options, numFeatures, numClasses);
        }
      }
      throw new IllegalArgumentException("model '" + raw + "': no adapter for '" + scheme
          + ":' models on the class path (dl4j: needs the parasol-worker-dl4j module)");
    }
    if (raw.contains("/") || raw.contains(java.io.File.separator)
        || java.nio.file.Files.isRegularFile(java.nio.file.Path.of(raw))) {
      return SameDiffModel.load(java.nio.file.Path.of(raw), options.names(), numFeatures,
          numClasses);
    }
    if (numFeatures <= 0) {
      throw new IllegalArgumentException(
          "number of features must be positive, got " + numFeatures);
    }
    if (numClasses < 0 || numClasses == 1) {
      throw new IllegalArgumentException("number of classes must be 0 (regression) or >= 2, got "
          + numClasses);
    }
    switch (s) {
      case "linear" -> {
        if (numClasses != 0) {
          throw new IllegalArgumentException("model 'linear' needs regression data (real-valued"
              + " targets), but the data has " + numClasses + " classes; use "
              + (numClasses == 2 ? "logistic, softmax or mlp" : "softmax or mlp"));
        }
        return new LinearRegression(numFeatures);
      }
      case "logistic" -> {
        requireClasses("logistic", numClasses);
        if (numClasses != 2) {
          throw new IllegalArgumentException("model 'logistic' is binary and needs 2 classes,"
              + " but the data has " + numClasses + "; use softmax or mlp");
        }
        return new LogisticRegression(numFeatures);
      }
      case "softmax" -> {
        requireClasses("softmax", numClasses);
        return DenseNet.softmax(numFeatures, numClasses);
      }
      case "mlp" -> {
        requireClasses("mlp", numClasses);
        return DenseNet.mlp(numFeatures, new int[] {DEFAULT_HIDDEN}, numClasses);
      }
      default -> {
        if (s.startsWith("mlp:")) {
          int[] hidden = parseWidths(spec, s.substring(4));
          requireClasses("mlp", numClasses);
          return DenseNet.mlp(numFeatures, hidden, numClasses);
        }
        throw new IllegalArgumentException(
            "unknown model '" + spec + "'; expected one of " + ACCEPTED);
      }
    }
  }

  private static void requireClasses(String model, int numClasses) {
    if (numClasses == 0) {
      throw new IllegalArgumentException("model '" + model + "' needs class labels, but the"
          + " data has real-valued targets (regression); use linear");
    }
  }

  private static int[] parseWidths(String spec, String list) {
    String[] parts = list.split(",", -1);
    int[] widths = new int[parts.length];
    for (int i = 0; i < parts.length; i++) {
      String p = parts[i].trim();
      int w;
      try {
        w = Integer.parseInt(p);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("model '" + spec + "': hidden layer width '" + p
            + "' is not an integer; expected mlp:H1[,H2...], e.g. mlp:128,64", e);
      }
      if (w <= 0) {
        throw new IllegalArgumentException("model '" + spec + "': hidden layer width " + w
            + " must be positive");
      }
      widths[i] = w;
    }
    return widths;
  }
}
