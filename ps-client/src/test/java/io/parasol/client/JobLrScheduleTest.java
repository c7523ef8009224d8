package io.parasol.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.LrScheduleKind;
import io.parasol.proto.v1.Mode;
import org.junit.jupiter.api.Test;

class JobLrScheduleTest {
  private static Job.Builder job() {
    return Job.builder("sched").tensor("W", 4, 3).mode(Mode.MODE_SYNC).learningRate(0.1f)
        .workers(2);
  }

  @Test
  void schedule_goesIntoTheSpecWithItsHorizon_constantLeavesItUnset() {
    JobSpec spec = job().lrSchedule("step:0.5:0.1", 100).build().spec(1);
    assertThat(spec.getLrSchedule().getKind()).isEqualTo(LrScheduleKind.LR_SCHEDULE_STEP);
    assertThat(spec.getLrSchedule().getHorizon()).isEqualTo(100);
    assertThat(spec.getLrSchedule().getMilestonesList()).containsExactly(0.5f);
    assertThat(job().lrSchedule("constant", 0).build().spec(1).hasLrSchedule()).isFalse();
    assertThat(job().build().spec(1).hasLrSchedule()).isFalse();
  }

  @Test
  void badSchedules_areRefused() {
    assertThatThrownBy(() -> job().lrSchedule("cosine", 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("horizon");
    assertThatThrownBy(() -> job().lrSchedule("linear", 10))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("linear");
  }
}
