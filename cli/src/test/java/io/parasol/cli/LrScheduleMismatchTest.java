package io.parasol.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.parasol.server.LocalCluster;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Two workers of one job with different {@code --lr-schedule}: the second is refused by the
 * shard (FAILED_PRECONDITION) with a message naming the flag and both schedules.
 */
class LrScheduleMismatchTest {

  private static String[] args(List<String> servers, int worker, String schedule) {
    return new String[] {"worker", "--servers", String.join(",", servers), "--shards", "1",
        "--workers", "2", "--worker", Integer.toString(worker), "--steps", "2", "--mode",
        "async", "--lr-schedule", schedule};
  }

  @Test
  void aWorkerWithAnotherSchedule_isRefusedNamingTheFlag() throws Exception {
    try (LocalCluster cluster = LocalCluster.start(1, null)) {
      List<String> servers = cluster.addresses();
      assertThat(Parasol.commandLine().execute(args(servers, 1, "cosine"))).isZero();

      Captured second = new Captured();
      int exit = second.execute(args(servers, 0, "step:0.5:0.1"));
      assertThat(exit).isNotZero();
      assertThat(second.err()).contains("FAILED_PRECONDITION").contains("lr-schedule")
          .contains("cosine over 4 updates vs step:0.5:0.1 over 4 updates");
    }
  }

  /** The command line with its stderr captured. */
  private static final class Captured {
    private final StringWriter err = new StringWriter();

    int execute(String... args) {
      picocli.CommandLine cl = Parasol.commandLine();
      cl.setErr(new PrintWriter(err, true));
      return cl.execute(args);
    }

    String err() {
      return err.toString();
    }
  }
}
