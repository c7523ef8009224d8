package io.parasol.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.parasol.proto.v1.LrSchedule;
import io.parasol.proto.v1.LrScheduleKind;
import org.junit.jupiter.api.Test;

class LrSchedulesTest {
  private static final String FLAG = "--lr-schedule";

  private static LrSchedule over(String text, long horizon) {
    return LrSchedules.parse(text, FLAG).toBuilder().setHorizon(horizon).build();
  }

  @Test
  void constant_isOneEverywhere_andAnUnsetScheduleIsConstant() {
    LrSchedule c = over("constant", 100);
    for (long v : new long[] {0, 1, 50, 99, 100, 1000}) {
      assertThat(LrSchedules.factor(c, v)).isEqualTo(1.0);
      assertThat(LrSchedules.factor(LrSchedule.getDefaultInstance(), v)).isEqualTo(1.0);
    }
    assertThat(LrSchedules.at(c, 0.25f, 7)).isEqualTo(0.25f);
  }

  @Test
  void cosine_fromOneToZero_halfWayAtOneHalf() {
    LrSchedule s = over("cosine", 100);
    assertThat(LrSchedules.factor(s, 0)).isEqualTo(1.0);
    assertThat(LrSchedules.factor(s, 25)).isCloseTo((1 + Math.sqrt(0.5)) / 2, within(1e-12));
    assertThat(LrSchedules.factor(s, 50)).isCloseTo(0.5, within(1e-12));
    assertThat(LrSchedules.factor(s, 75)).isCloseTo((1 - Math.sqrt(0.5)) / 2, within(1e-12));
    assertThat(LrSchedules.factor(s, 100)).isCloseTo(0, within(1e-12));
    // Past the horizon (joiners, a longer run): the final value.
    assertThat(LrSchedules.factor(s, 250)).isCloseTo(0, within(1e-12));
    // A local worker's fractional version.
    assertThat(LrSchedules.factor(s, 49.5)).isGreaterThan(0.5).isLessThan(0.52);
    assertThat(LrSchedules.at(s, 0.002f, 50)).isEqualTo(0.001f);
  }

  @Test
  void cosine_withAFinalFraction_endsThere() {
    LrSchedule s = over("cosine:0.1", 10);
    assertThat(s.getFinalFraction()).isEqualTo(0.1f);
    assertThat(LrSchedules.factor(s, 0)).isCloseTo(1, within(1e-7));
    assertThat(LrSchedules.factor(s, 5)).isCloseTo(0.1f + 0.9f * 0.5, within(1e-7));
    assertThat(LrSchedules.factor(s, 10)).isCloseTo(0.1f, within(1e-7));
  }

  @Test
  void step_multipliesByTheFactorAtEachMilestone() {
    LrSchedule s = over("step:0.5,0.75:0.1", 200);
    assertThat(s.getMilestonesList()).containsExactly(0.5f, 0.75f);
    assertThat(LrSchedules.factor(s, 0)).isEqualTo(1.0);
    assertThat(LrSchedules.factor(s, 99)).isEqualTo(1.0);
    assertThat(LrSchedules.factor(s, 100)).isCloseTo(0.1, within(1e-7));
    assertThat(LrSchedules.factor(s, 149)).isCloseTo(0.1, within(1e-7));
    assertThat(LrSchedules.factor(s, 150)).isCloseTo(0.01, within(1e-8));
    assertThat(LrSchedules.factor(s, 10_000)).isCloseTo(0.01, within(1e-8));
    // 12 of 15 is the milestone 0.8, though the float 0.8 is above the double 0.8.
    LrSchedule f = over("step:0.8:0.5", 15);
    assertThat(LrSchedules.factor(f, 11)).isEqualTo(1.0);
    assertThat(LrSchedules.factor(f, 12)).isEqualTo(0.5);
  }

  @Test
  void parse_andFormat_roundTrip() {
    for (String t : new String[] {"constant", "cosine", "cosine:0.05", "step:0.5:0.1",
        "step:0.3,0.6,0.9:0.5"}) {
      assertThat(LrSchedules.format(LrSchedules.parse(t, FLAG))).isEqualTo(t);
    }
    assertThat(LrSchedules.parse(" Cosine ", FLAG).getKind())
        .isEqualTo(LrScheduleKind.LR_SCHEDULE_COSINE);
    assertThat(LrSchedules.parse("constant", FLAG)).isEqualTo(LrSchedule.getDefaultInstance());
  }

  @Test
  void parse_refusesBadSchedules_namingTheFlag() {
    for (String t : new String[] {"", "linear", "constant:1", "cosine:1", "cosine:-0.1",
        "cosine:0.1:2", "step", "step:0.5", "step:0.5:0", "step:0.5:1.5", "step:0:0.1",
        "step:1.5:0.1", "step:0.6,0.4:0.1", "step:x:0.1", "step:0.5:NaN"}) {
      assertThatThrownBy(() -> LrSchedules.parse(t, FLAG)).as(t)
          .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith(FLAG);
    }
  }

  @Test
  void problems_needAHorizonAndValidParameters() {
    assertThat(LrSchedules.problems(LrSchedule.getDefaultInstance())).isEmpty();
    assertThat(LrSchedules.problems(over("cosine", 5))).isEmpty();
    assertThat(LrSchedules.problems(over("cosine", 0))).singleElement().asString()
        .contains("horizon");
    assertThat(LrSchedules.problems(over("step:0.5:0.1", 5).toBuilder().setFactor(2).build()))
        .singleElement().asString().contains("factor");
    assertThat(LrSchedules.problems(over("step:0.5:0.1", 5).toBuilder().clearMilestones()
        .build())).singleElement().asString().contains("milestones");
    assertThat(LrSchedules.problems(LrSchedule.newBuilder().setKindValue(9).setHorizon(3)
        .build())).singleElement().asString().contains("unknown");
  }
}
