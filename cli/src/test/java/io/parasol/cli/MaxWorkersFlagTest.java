package io.parasol.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code worker --max-workers}: an index beyond the job's room is refused before anything
 * connects, with the range and a hint, and so is a --max-workers below --workers. {@code local
 * --join/--leave}: a plan that cannot happen is refused before any shard starts.
 */
class MaxWorkersFlagTest {

  private static String run(int expectedExit, String... args) {
    CommandLine cl = Parasol.commandLine();
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err, true));
    assertThat(cl.execute(args)).isEqualTo(expectedExit);
    return err.toString();
  }

  @Test
  void workerIndexBeyondTheWorkers_withoutMaxWorkers_isRefusedWithAHint() {
    assertThat(run(2, "worker", "--servers", "127.0.0.1:1", "--shards", "1", "--workers", "2",
        "--worker", "2")).contains("--worker must be in 0..1 (give every worker --max-workers"
        + " to let workers join), got 2");
  }

  @Test
  void workerIndexBeyondMaxWorkers_isRefusedWithTheRange() {
    assertThat(run(2, "worker", "--servers", "127.0.0.1:1", "--shards", "1", "--workers", "2",
        "--max-workers", "3", "--worker", "3")).contains("--worker must be in 0..2, got 3");
  }

  @Test
  void maxWorkersBelowWorkers_isRefused() {
    assertThat(run(2, "worker", "--servers", "127.0.0.1:1", "--shards", "1", "--workers", "2",
        "--max-workers", "1", "--worker", "0"))
        .contains("--max-workers must be 0 or at least --workers (2), got 1");
  }

  @Test
  void localJoinBeyondMaxWorkers_isRefusedWithTheRoom() {
    assertThat(run(2, "local", "--workers", "2", "--max-workers", "3", "--join", "2@5",
        "--steps", "20", "--no-report", "--quiet"))
        .contains("--join 2@5: --max-workers 3 leaves room for 1 joiners in all");
  }

  @Test
  void localJoinOrLeave_malformedOrPastTheEnd_isRefused() {
    assertThat(run(2, "local", "--workers", "2", "--leave", "1at5", "--steps", "20",
        "--no-report", "--quiet")).contains("--leave takes K@STEP");
    assertThat(run(2, "local", "--workers", "2", "--leave", "1@20", "--steps", "20",
        "--no-report", "--quiet")).contains("STEP must be below the run's 20 steps");
  }

  @Test
  void localJoin_withPartialParticipationInLocalMode_isRefusedWithWhatToDo() {
    assertThat(run(2, "local", "--mode", "local", "--participation", "0.5", "--workers", "2",
        "--max-workers", "4", "--join", "1@5", "--steps", "20", "--no-report", "--quiet"))
        .contains("--join with local mode and --participation below 1 is not supported by local")
        .contains("run the joiners as worker processes");
  }
}
