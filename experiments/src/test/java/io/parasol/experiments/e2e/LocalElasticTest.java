package io.parasol.experiments.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.parasol.common.MetricNames;
import io.parasol.experiments.runner.ElasticPlan;
import io.parasol.experiments.runner.LocalRunner;
import io.parasol.proto.v1.Mode;
import io.parasol.worker.train.JobSettings;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code parasol local} with elastic workers, on two embedded shards over loopback gRPC: a job
 * started with 2 workers and room for 4, where 2 join at worker 0's step 10 and 1 leaves at step
 * 20 of 40. Worker 0 waits at step 10 until both joiners have completed a step, so the join
 * lands there however loaded the machine.
 */
@Tag("slow")
class LocalElasticTest {
  private static final long STEPS = 40;
  private static final ElasticPlan PLAN = ElasticPlan.parse(List.of("2@10"), List.of("1@20"));

  private static LocalRunner.Summary run(JobSettings js, SimpleMeterRegistry registry)
      throws Exception {
    LocalRunner.Options o = LocalRunner.Options.builder(js, "softmax", Jobs.digits())
        .batchSize(32).steps(STEPS).evalEvery(0)
        .timeouts(Duration.ofSeconds(30), Duration.ofSeconds(60)).elastic(PLAN).build();
    LocalRunner.Summary s = LocalRunner.run(o, registry, null);
    System.out.print(LocalRunner.table(s));
    return s;
  }

  @SuppressWarnings("unchecked")
  private static List<Long> workerSteps(LocalRunner.Summary s) {
    return (List<Long>) s.toMap().get("worker_steps");
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> membership(LocalRunner.Summary s) {
    return (List<Map<String, Object>>) s.toMap().get("membership");
  }

  /** Every shard counted both joins, and every worker (the leaver too) left by finishing. */
  private static void assertLeases(SimpleMeterRegistry registry) {
    assertThat(registry.get(MetricNames.SHARD_LEASES).tag("event", "joined").counters())
        .hasSize(2).allSatisfy(c -> assertThat(c.count()).isEqualTo(2));
    assertThat(registry.get(MetricNames.SHARD_LEASES).tag("event", "left").counters())
        .hasSize(2).allSatisfy(c -> assertThat(c.count()).isEqualTo(4));
  }

  @Test
  void sync_twoJoinAtTen_oneLeavesAtTwenty_theJobEndsAtTheLastVersion() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    LocalRunner.Summary s = run(Jobs.builder(Mode.MODE_SYNC, 2, 2, 0.5f).maxWorkers(4).build(),
        registry);
    // Every block reached version STEPS: one update per block per step, whoever was live.
    assertThat(s.updatesApplied()).isEqualTo(STEPS * s.blocks());
    List<Long> steps = workerSteps(s);
    assertThat(steps.subList(0, 2)).containsExactly(STEPS, STEPS);
    // Worker 3 (the highest index live before step 20) trained from the version it joined at
    // (10, or 9 if its first gradient came while step 9 was still open) to 20; worker 2 to the
    // end. Each joiner's every step pushed a gradient; all of them are counted, late or not.
    assertThat(steps.get(2)).isBetween(STEPS - 10, STEPS - 9);
    assertThat(steps.get(3)).isBetween(10L, 11L);
    long sum = steps.stream().mapToLong(Long::longValue).sum();
    assertThat(s.pushesApplied()).as("each step of each worker reached both shards, but late")
        .isBetween(2 * (sum - s.latePushes()), 2 * sum);
    assertThat(membership(s)).containsExactly(
        Map.of("step", 0L, "joined", List.of(0, 1), "live", 2),
        Map.of("step", 10L, "joined", List.of(2, 3), "live", 4, "live_on_shards", 4),
        Map.of("step", 20L, "left", List.of(3), "live", 3));
    assertThat(s.toMap()).containsEntry("max_workers", 4);
    assertLeases(registry);
  }

  @Test
  void async_twoJoinAtTen_oneLeavesAtTwenty_everyPushIsAnUpdate() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    LocalRunner.Summary s = run(Jobs.builder(Mode.MODE_ASYNC, 2, 2, 0.5f).maxWorkers(4).build(),
        registry);
    // async: each worker makes its own budget of pushes, from the step it joined at to the
    // step it leaves at or the end; every push updates every block once.
    assertThat(workerSteps(s)).containsExactly(STEPS, STEPS, STEPS - 10, 10L);
    long pushes = 2 * STEPS + (STEPS - 10) + 10;
    assertThat(s.toMap()).containsEntry("iterations", pushes);
    assertThat(s.updatesApplied()).isEqualTo(pushes * s.blocks());
    assertThat(s.pushesApplied()).isEqualTo(2 * pushes);
    List<Map<String, Object>> m = membership(s);
    assertThat(m).hasSize(3);
    assertThat(m.get(1)).containsEntry("step", 10L).containsEntry("joined", List.of(2, 3))
        .containsEntry("live", 4);
    // Worker 1 makes its own 40 pushes and may be done before worker 0 reaches step 10.
    assertThat((int) m.get(1).get("live_on_shards")).isBetween(3, 4);
    assertThat(m.get(2)).isEqualTo(Map.of("step", 20L, "left", List.of(3), "live", 3));
    assertLeases(registry);
  }
}
