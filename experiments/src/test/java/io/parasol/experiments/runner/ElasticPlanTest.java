package io.parasol.experiments.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ElasticPlanTest {

  @Test
  void parse_readsCountAndStep_andRefusesAnythingElse() {
    assertThat(ElasticPlan.Change.parse(true, "2@10"))
        .isEqualTo(new ElasticPlan.Change(true, 2, 10));
    for (String bad : List.of("2", "@10", "0@10", "2@0", "x@1", "2@-1", "2@1.5")) {
      assertThatThrownBy(() -> ElasticPlan.Change.parse(false, bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("--leave takes K@STEP").hasMessageContaining(bad);
    }
  }

  @Test
  void resolve_joinersTakeTheNextIndices_leaversTheHighestLiveOnes() {
    ElasticPlan p = ElasticPlan.parse(List.of("1@20", "2@10"), List.of("2@30", "1@15"));
    assertThat(p.resolve(2, 5, 100)).containsExactly(
        new ElasticPlan.Worker(0, 0, -1),
        new ElasticPlan.Worker(1, 0, -1),
        new ElasticPlan.Worker(2, 10, 30),
        new ElasticPlan.Worker(3, 10, 15),
        new ElasticPlan.Worker(4, 20, 30));
  }

  @Test
  void workerSteps_roundsCountTheVersion_asyncCountsFromTheJoin() {
    ElasticPlan.Worker w = new ElasticPlan.Worker(3, 10, 15);
    assertThat(w.steps(100, true)).isEqualTo(15);
    assertThat(w.steps(100, false)).isEqualTo(5);
    assertThat(new ElasticPlan.Worker(2, 10, -1).steps(100, false)).isEqualTo(90);
  }

  @Test
  void resolve_refusesWhatCannotHappen() {
    assertThatThrownBy(() -> ElasticPlan.parse(List.of("3@10"), null).resolve(2, 4, 100))
        .hasMessageContaining("--join 3@10: --max-workers 4 leaves room for 2 joiners");
    assertThatThrownBy(() -> ElasticPlan.parse(List.of("1@100"), null).resolve(2, 4, 100))
        .hasMessageContaining("below the run's 100 steps");
    assertThatThrownBy(() -> ElasticPlan.parse(null, List.of("2@10")).resolve(2, 2, 100))
        .hasMessageContaining("--leave 2@10: only 1 workers besides worker 0 are live");
    // A joiner counts as live only after the step it joins at.
    assertThatThrownBy(() -> ElasticPlan.parse(List.of("1@10"), List.of("2@10"))
        .resolve(2, 3, 100)).hasMessageContaining("only 1 workers");
  }
}
