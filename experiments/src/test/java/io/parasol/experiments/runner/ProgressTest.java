package io.parasol.experiments.runner;

import static org.assertj.core.api.Assertions.assertThat;

import io.parasol.worker.model.Model;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Progress lines: samples/s counts the steps every worker made, so joiners and leavers count. */
class ProgressTest {

  @Test
  void samplesPerSecond_countEveryWorkersSteps_etaFollowsWorkerZero() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    long[] now = {0};
    Progress p = new Progress(new PrintStream(bytes, true, StandardCharsets.UTF_8), 100, 0, 32,
        () -> now[0]);
    // Worker 0 and 1 make 10 steps each; worker 2 joins late and makes 5; worker 1 then leaves.
    for (int s = 1; s <= 10; s++) {
      p.onStep(0, s, 0.5);
      p.onStep(1, s, 0.6);
      if (s > 5) {
        p.onStep(2, s, 0.7);
      }
    }
    now[0] = 2_000_000_000L; // 2 s
    p.onEval(0, 10, new Model.Evaluation(0.4, 0.9));
    String line = bytes.toString(StandardCharsets.UTF_8);
    // 25 steps x 32 samples / 2 s; worker 0 is at 10 of 100 steps after 2 s: 18 s left.
    assertThat(line).contains("step     10/100").contains("train loss 0.5000")
        .contains("400 samples/s").contains("eta 18s");
  }
}
