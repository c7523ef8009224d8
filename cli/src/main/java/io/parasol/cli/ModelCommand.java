package io.parasol.cli;

import io.parasol.common.BlockLayout;
import io.parasol.worker.model.Model;
import io.parasol.worker.model.Models;
import io.parasol.worker.model.SameDiffModel;
import io.parasol.worker.train.JobKeys;
import java.io.File;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

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

    @Mixin
    GraphOptions graph = new GraphOptions();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
      JobKeys.SHARDS.check(shards);
      JobKeys.MAX_BLOCK_SIZE.check(maxBlockSize);
      Models.Options o = graph.modelOptions();
      String featuresName = graph.featuresName();
      String labelsName = graph.labelsName();
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
      PrintWriter out = spec.commandLine().getOut();
      print(m, BlockLayout.of(m.tensors(), shards, maxBlockSize), out);
      out.flush();
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
  static void print(Model m, BlockLayout layout, PrintWriter out) {
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
