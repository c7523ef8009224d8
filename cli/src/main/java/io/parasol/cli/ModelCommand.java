package io.parasol.cli;

import io.parasol.common.BlockLayout;
import io.parasol.worker.model.Model;
import io.parasol.worker.model.LeNet;
import io.parasol.worker.model.Models;
import io.parasol.worker.model.SameDiffModel;
import io.parasol.worker.train.JobKeys;
import java.io.File;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code parasol model describe}: a model's variables, shapes, size and block layout. */
@Command(name = "model", mixinStandardHelpOptions = true,
    description = "Inspect models.", subcommands = {ModelCommand.Describe.class})
public final class ModelCommand implements Runnable {

  @Override
  public void run() {
    new picocli.CommandLine(this).usage(System.out);
  }

  /** Lists the trainable variables (flat order), shapes, parameter count and block layout. */
  @Command(name = "describe", mixinStandardHelpOptions = true,
      description = "List a model's trainable variables in flat-vector order, their shapes and"
          + " initialisation, the parameter count and the block layout for --shards.")
  public static final class Describe implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "PATH|NAME",
        description = "A built-in name (linear, logistic, softmax, mlp[:H1,...], cnn), a saved"
            + " SameDiff graph or dl4j:PATH.")
    String model;

    @Option(names = "--features", defaultValue = "0",
        description = "Features per example d; 0 = the graph's features placeholder, or 784"
            + " for a built-in (default: ${DEFAULT-VALUE}).")
    int features;

    @Option(names = "--classes", defaultValue = "-1",
        description = "Classes C (0 = regression); -1 = the graph's labels placeholder, or 10"
            + " for a built-in (default: ${DEFAULT-VALUE}).")
    int classes;

    @Option(names = JobKeys.SHARDS_FLAG, defaultValue = JobKeys.SHARDS_DEFAULT,
        description = "Shards S of the layout (default: ${DEFAULT-VALUE}).")
    int shards;

    @Option(names = JobKeys.MAX_BLOCK_SIZE_FLAG, defaultValue = JobKeys.MAX_BLOCK_SIZE_DEFAULT,
        description = JobKeys.MAX_BLOCK_SIZE_HELP)
    int maxBlockSize;

    @Option(names = "--model-features", defaultValue = "features",
        description = "Saved graph: features placeholder (default: ${DEFAULT-VALUE}).")
    String modelFeatures;

    @Option(names = "--model-labels", defaultValue = "labels",
        description = "Saved graph: labels placeholder (default: ${DEFAULT-VALUE}).")
    String modelLabels;

    @Option(names = "--model-loss", description = "Saved graph: loss variable.")
    String modelLoss;

    @Option(names = "--model-output", description = "Saved graph: class-score variable.")
    String modelOutput;

    @Option(names = "--input-shape", description = "Image shape C,H,W for cnn.")
    String inputShape;

    @Override
    public Integer call() {
      JobKeys.SHARDS.check(shards);
      JobKeys.MAX_BLOCK_SIZE.check(maxBlockSize);
      Models.Options o = new Models.Options(new SameDiffModel.Names(modelFeatures, modelLabels,
          modelLoss, modelOutput), inputShape == null ? null : LeNet.Shape.parse(inputShape));
      String featuresName = modelFeatures == null ? "features" : modelFeatures;
      String labelsName = modelLabels == null ? "labels" : modelLabels;
      int d = features;
      int c = classes;
      File f = new File(model);
      if (f.isFile() && (d <= 0 || c < 0)) {
        SameDiff sd = SameDiff.load(f, false);
        if (d <= 0) {
          d = width(sd, featuresName, "--model-features");
        }
        if (c < 0) {
          int w = width(sd, labelsName, "--model-labels");
          c = w == 1 ? 0 : w;
        }
      }
      Model m = Models.create(model, d > 0 ? d : 784, c >= 0 ? c : 10, o);
      print(m, BlockLayout.of(m.tensors(), shards, maxBlockSize), System.out);
      return 0;
    }

    private static int width(SameDiff sd, String name, String flag) {
      SDVariable v = sd.hasVariable(name) ? sd.getVariable(name) : null;
      if (v == null || v.getVariableType() != VariableType.PLACEHOLDER
          || v.placeholderShape() == null || v.placeholderShape().length != 2
          || v.placeholderShape()[1] <= 0) {
        throw new IllegalArgumentException("the graph has no placeholder '" + name
            + "' of shape [-1, n] (" + flag + ")");
      }
      return (int) v.placeholderShape()[1];
    }
  }

  /** Writes the description. */
  static void print(Model m, BlockLayout layout, PrintStream out) {
    out.printf(Locale.ROOT, "model %s: %,d parameters in %d trainable variables%n", m.name(),
        m.numParams(), m.tensors().size());
    if (m instanceof SameDiffModel sd) {
      out.printf(Locale.ROOT, "loss variable: %s; output: %s%n", sd.lossVariable(),
          sd.outputVariable() == null ? "(none: no accuracy)" : sd.outputVariable());
    }
    java.util.List<long[]> shapes = m instanceof SameDiffModel sd
        ? new java.util.ArrayList<>(sd.variableShapes().values()) : null;
    out.println("variables (flat order):");
    long offset = 0;
    for (int i = 0; i < m.tensors().size(); i++) {
      BlockLayout.Tensor t = m.tensors().get(i);
      String shape = shapes != null ? Arrays.toString(shapes.get(i)) : "[" + t.size() + "]";
      String init = switch (t.init()) {
        case INIT_UNIFORM -> String.format(Locale.ROOT, "uniform +-%.4g", t.initScale());
        case INIT_NORMAL -> String.format(Locale.ROOT, "normal sd %.4g", t.initScale());
        case INIT_VALUES -> "the model's values";
        default -> "zeros";
      };
      out.printf(Locale.ROOT, "  %-16s %-18s %,10d  offset %,10d  init %s%n", t.name(), shape,
          t.size(), offset, init);
      offset += t.size();
    }
    out.printf(Locale.ROOT, "block layout: %d blocks on %d shards%n", layout.numBlocks(),
        layout.numShards());
    for (BlockLayout.Block b : layout.blocks()) {
      out.printf(Locale.ROOT, "  block %3d  %-24s offset %,10d  length %,9d  shard %d%n",
          b.id(), b.name(), b.offset(), b.length(), b.shard());
    }
  }
}
