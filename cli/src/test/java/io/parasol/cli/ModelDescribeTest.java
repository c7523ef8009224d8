package io.parasol.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine;

/** {@code parasol model describe}: counts, layout and the graph options a job uses. */
class ModelDescribeTest {
  @TempDir Path dir;

  private record Run(int status, String out, String err) {}

  private static Run describe(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Parasol.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    String[] all = new String[args.length + 2];
    all[0] = "model";
    all[1] = "describe";
    System.arraycopy(args, 0, all, 2, args.length);
    int status = cl.execute(all);
    return new Run(status, out.toString(), err.toString());
  }

  /** The lengths of the printed blocks and the shards they were placed on. */
  private static List<long[]> blocks(String out) {
    Matcher m = Pattern.compile("block +\\d+ .* length +([\\d,]+) +shard (\\d+)").matcher(out);
    List<long[]> b = new java.util.ArrayList<>();
    while (m.find()) {
      b.add(new long[] {Long.parseLong(m.group(1).replace(",", "")),
          Long.parseLong(m.group(2))});
    }
    return b;
  }

  @Test
  void builtInMlp_countsItsParametersAndCoversThemWithBlocksOnEveryShard() {
    Run r = describe("mlp:64", "--shards", "2");
    assertThat(r.status()).as(r.err()).isZero();
    // 784*64 + 64 + 64*10 + 10
    assertThat(r.out()).contains("model mlp:64: 50,890 parameters in 4 trainable variables");
    List<long[]> b = blocks(r.out());
    assertThat(b.stream().mapToLong(x -> x[0]).sum()).isEqualTo(50_890);
    assertThat(b.stream().mapToLong(x -> x[1]).distinct().sorted().toArray())
        .containsExactly(0, 1);
  }

  @Test
  void savedGraph_namedPlaceholders_areReadWithTheJobsGraphFlags() throws Exception {
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 5);
    SDVariable y = sd.placeHolder("y", DataType.FLOAT, -1, 3);
    SDVariable w = sd.var("w", Nd4j.zeros(DataType.FLOAT, 5, 3));
    SDVariable b = sd.var("b", Nd4j.zeros(DataType.FLOAT, 1, 3));
    SDVariable out = x.mmul(w).add("scores", b);
    sd.loss().softmaxCrossEntropy("xent", y, out, null);
    sd.setLossVariables("xent");
    Path file = dir.resolve("user.fb");
    sd.save(file.toFile(), false);

    Run ok = describe(file.toString(), "--model-features", "x", "--model-labels", "y",
        "--model-output", "scores");
    assertThat(ok.status()).as(ok.err()).isZero();
    assertThat(ok.out()).contains("18 parameters in 2 trainable variables")
        .contains("loss variable: xent; output: scores");

    Run missing = describe(file.toString());
    assertThat(missing.status()).isEqualTo(2);
    assertThat(missing.err().strip().lines()).hasSize(1);
    assertThat(missing.err()).contains("'features'").contains("--model-features");
  }
}
