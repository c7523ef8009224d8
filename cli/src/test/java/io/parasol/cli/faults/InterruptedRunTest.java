package io.parasol.cli.faults;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ctrl-C during `parasol local` keeps what the run measured: loss.csv, loss.png and a
 * summary.json marked incomplete, and the exit status says it was interrupted (128 + SIGINT).
 * The signal goes once the run has printed its progress line for step 40 (evaluations every 20
 * steps have been recorded by then), not after a fixed time.
 */
@Tag("slow")
class InterruptedRunTest {
  @TempDir Path dir;

  @Test
  void sigint_duringLocal_leavesAnIncompleteRunFolder() throws Exception {
    Path runs = dir.resolve("runs");
    JvmProcess p = JvmProcess.start("local", dir, List.of("local", "--steps", "1000000",
        "--eval-every", "20", "--run-dir", runs.toString()));
    try {
      p.awaitLine(Pattern.compile("step +([4-9]\\d|\\d{3,})/1000000"), Duration.ofMinutes(3));
      p.signal("INT");
      assertThat(p.awaitExit(Duration.ofMinutes(2))).isEqualTo(130);
    } finally {
      if (p.alive()) {
        p.kill();
      }
    }
    Path folder;
    try (Stream<Path> s = Files.list(runs)) {
      folder = s.findFirst().orElseThrow();
    }
    String summary = Files.readString(folder.resolve("summary.json"));
    assertThat(summary).contains("\"complete\": false").contains("\"steps_reached\"");
    assertThat(Files.readAllLines(folder.resolve("loss.csv")).size()).isGreaterThan(2);
    assertThat(Files.size(folder.resolve("loss.png"))).isPositive();
  }
}
