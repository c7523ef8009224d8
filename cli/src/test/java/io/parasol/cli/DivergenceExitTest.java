package io.parasol.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** A run forced to diverge stops within a few steps with exit status 3 and one line why. */
@Tag("slow")
class DivergenceExitTest {

  @Test
  void local_lrFifty_exitsThreeWithOneLineNamingStepLossAndLr() {
    StringWriter err = new StringWriter();
    picocli.CommandLine cl = Parasol.commandLine();
    cl.setErr(new PrintWriter(err, true));
    int status = cl.execute("local", "--model", "mlp", "--lr", "50", "--no-report", "--quiet",
        "--eval-every", "0");
    assertThat(status).isEqualTo(Parasol.EXIT_DIVERGED);
    String line = err.toString().strip();
    assertThat(line.lines()).hasSize(1);
    assertThat(line).contains("training diverged at step").contains("lr 50")
        .contains("--lr").contains("--allow-divergence");
    // Within a few steps of the blow-up: the warm-up (10) and the patience (20).
    int step = Integer.parseInt(line.replaceAll(".*diverged at step (\\d+).*", "$1"));
    assertThat(step).isLessThanOrEqualTo(40);
  }
}
