package io.parasol.worker.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.parasol.common.JobSpecs;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.LrScheduleKind;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.StalenessLr;
import io.parasol.worker.model.Model;
import io.parasol.worker.model.Models;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JobKeysTest {

  /** Values each setting must refuse; --block-lr is checked against a model's blocks instead. */
  private static final Map<Setting<?>, List<String>> REFUSED = Map.ofEntries(
      Map.entry(JobKeys.MODE, List.of("eventual")),
      Map.entry(JobKeys.SHARDS, List.of("0", "-3", "two")),
      Map.entry(JobKeys.WORKERS, List.of("0")),
      Map.entry(JobKeys.MAX_WORKERS, List.of("-1", "4097")),
      Map.entry(JobKeys.LR, List.of("0", "-0.1", "NaN", "Infinity")),
      Map.entry(JobKeys.SEED, List.of("1.5")),
      Map.entry(JobKeys.QUORUM, List.of("-1")),
      Map.entry(JobKeys.STALENESS_BOUND, List.of("-1")),
      Map.entry(JobKeys.LOCAL_STEPS, List.of("0")),
      Map.entry(JobKeys.PARTICIPATION, List.of("0", "1.01", "-1")),
      Map.entry(JobKeys.UPDATE_BLOCKS, List.of("some")),
      Map.entry(JobKeys.PARTITION, List.of("random", "label-skew:0", "label-skew:x")),
      Map.entry(JobKeys.MAX_STALENESS, List.of("-1")),
      Map.entry(JobKeys.STALENESS_LR, List.of("linear")),
      Map.entry(JobKeys.LR_SCHEDULE, List.of("linear", "cosine:1", "step:0.5:2", "step:1.5:0.1")),
      Map.entry(JobKeys.OPTIMIZER, List.of("rmsprop")),
      Map.entry(JobKeys.MAX_BLOCK_SIZE, List.of("-1")),
      Map.entry(JobKeys.LEASE, List.of("50ms", "61m", "10", "soon")),
      Map.entry(JobKeys.BATCH_SIZE, List.of("0")),
      Map.entry(JobKeys.EPOCHS, List.of("-1")),
      Map.entry(JobKeys.STEPS, List.of("-1")),
      Map.entry(JobKeys.EVAL_EVERY, List.of("-1")),
      Map.entry(JobKeys.RPC_TIMEOUT, List.of("0ms", "2h")),
      Map.entry(JobKeys.PULL_TIMEOUT, List.of("0s", "-1s")));

  @Test
  void everyDefault_passesItsOwnValidation() {
    for (Setting<?> s : JobKeys.ALL) {
      if (s.defaultText() != null) {
        assertThat(s.defaultValue()).as(s.flag()).isNotNull();
      }
      assertThat(s.flag()).startsWith("--");
      assertThat(s.description()).as(s.flag()).isNotBlank();
    }
  }

  @Test
  void outOfBoundsValues_areRefusedNamingTheFlag() {
    for (Setting<?> s : JobKeys.ALL) {
      if (s == JobKeys.BLOCK_LR) {
        continue;
      }
      assertThat(REFUSED).as("refused values of " + s.flag()).containsKey(s);
      for (String bad : REFUSED.get(s)) {
        assertThatThrownBy(() -> s.parse(bad)).as(s.flag() + " " + bad)
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining(s.flag());
      }
    }
  }

  @Test
  void boundsMessage_saysWhatIsAllowed() {
    assertThatThrownBy(() -> JobKeys.SHARDS.parse("0"))
        .hasMessage("--shards must be at least 1, got 0");
    assertThatThrownBy(() -> JobKeys.PARTICIPATION.parse("2"))
        .hasMessage("--participation must be in (0, 1], got 2.0");
    assertThatThrownBy(() -> JobKeys.LEASE.parse("50ms"))
        .hasMessage("--lease must be between 100ms and 60m, got 50ms");
  }

  @Test
  void leaseDefault_isTheShardsDefault() {
    assertThat(JobKeys.LEASE.defaultValue())
        .isEqualTo(io.parasol.common.JobSpecs.DEFAULT_LEASE_MILLIS);
  }

  @Test
  void builder_startsFromTheDeclaredDefaults() {
    JobSettings js = JobSettings.builder(Mode.MODE_ASYNC, 2, 4, 0.5f).build();
    assertThat(js.seed()).isEqualTo(JobKeys.SEED.defaultValue());
    assertThat(js.stalenessBound()).isEqualTo(JobKeys.STALENESS_BOUND.defaultValue());
    assertThat(js.localSteps()).isEqualTo(JobKeys.LOCAL_STEPS.defaultValue());
    assertThat(js.stalenessLr()).isEqualTo(StalenessLr.STALENESS_LR_CONSTANT);
    assertThat(js.partition()).isEqualTo("iid");
    assertThat(js.lrSchedule().getKind()).isEqualTo(LrScheduleKind.LR_SCHEDULE_CONSTANT);
    assertThat(js.leaseMillis()).isEqualTo(JobKeys.LEASE.defaultValue());
    assertThat(js.toBuilder().build()).isEqualTo(js);
    assertThat(JobSettings.builder(Mode.MODE_ASYNC, 2, 4, 0.5f).updateBlocks("round-robin")
        .build().partition()).isEqualTo("shared");
  }

  @Test
  void builder_refusesOutOfBoundsValuesNamingTheFlag() {
    assertThatThrownBy(() -> JobSettings.builder(Mode.MODE_SYNC, 0, 4, 0.5f).build())
        .hasMessageContaining("--shards");
    assertThatThrownBy(() -> JobSettings.builder(Mode.MODE_SYNC, 2, 4, 0.5f).quorum(5).build())
        .hasMessage("--quorum must be in 0..4, got 5");
    assertThatThrownBy(() -> JobSettings.builder(Mode.MODE_SYNC, 2, 4, Float.NaN).build())
        .hasMessageContaining("--lr");
    assertThatThrownBy(() -> JobSettings.builder(Mode.MODE_LOCAL, 2, 4, 0.5f)
        .participation(0).build()).hasMessageContaining("--participation");
    assertThatThrownBy(() -> JobSettings.builder(Mode.MODE_ASYNC, 2, 4, 0.5f)
        .partition("label-skew:-1").build()).hasMessageContaining("--partition");
    assertThatThrownBy(() -> JobSettings.builder(Mode.MODE_ASYNC, 2, 4, 0.5f)
        .leaseMillis(10).build()).hasMessageContaining("--lease");
    assertThatThrownBy(() -> JobSettings.builder(Mode.MODE_ASYNC, 2, 4, 0.5f)
        .maxWorkers(3).build()).hasMessage("--max-workers must be 0 or at least --workers (4),"
        + " got 3");
  }

  @Test
  void lrHorizon_isTheUpdatesEachBlockTakesInTheMode() {
    JobSettings.Builder b = JobSettings.builder(Mode.MODE_SYNC, 2, 4, 0.5f).localSteps(4);
    assertThat(b.build().lrHorizon(469)).isEqualTo(469);
    assertThat(b.mode(Mode.MODE_ASYNC).build().lrHorizon(469)).isEqualTo(4 * 469);
    assertThat(b.mode(Mode.MODE_SSP).build().lrHorizon(469)).isEqualTo(4 * 469);
    assertThat(b.mode(Mode.MODE_ASYNC).updateBlocks("round-robin").build().lrHorizon(469))
        .as("each block has one owner").isEqualTo(469);
    assertThat(b.mode(Mode.MODE_LOCAL).updateBlocks("all").build().lrHorizon(469))
        .as("rounds").isEqualTo(118);
  }

  @Test
  void spec_carriesTheScheduleWithItsHorizon_onlyWhenNotConstant() {
    Model model = Models.create("softmax", 4, 3);
    JobSettings constant = JobSettings.builder(Mode.MODE_SYNC, 1, 2, 0.5f).build();
    JobSpec plain = constant.spec("j", model, constant.layout(model), 100);
    assertThat(plain.hasLrSchedule()).isFalse();
    assertThat(constant.spec("j", model, constant.layout(model))).isEqualTo(plain);

    JobSettings cosine = constant.toBuilder().lrSchedule(JobKeys.LR_SCHEDULE.parse("cosine"))
        .build();
    JobSpec spec = cosine.spec("j", model, cosine.layout(model), 100);
    assertThat(spec.getLrSchedule().getKind()).isEqualTo(LrScheduleKind.LR_SCHEDULE_COSINE);
    assertThat(spec.getLrSchedule().getHorizon()).isEqualTo(100);
    assertThat(JobSpecs.differences(spec, cosine.spec("j", model, cosine.layout(model), 200)))
        .singleElement().asString().startsWith("lr-schedule");
    assertThatThrownBy(() -> cosine.spec("j", model, cosine.layout(model)))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("--lr-schedule cosine");
    assertThatThrownBy(() -> cosine.spec("j", model, cosine.layout(model), 0))
        .hasMessageContaining("--lr-schedule");
    assertThat(Models.defaultLrSchedule("cnn")).isEqualTo(Models.CNN_LR_SCHEDULE);
    assertThat(Models.defaultLrSchedule("cnn:8,16")).isEqualTo(Models.CNN_LR_SCHEDULE);
    assertThat(Models.defaultLrSchedule("mlp")).isEqualTo("constant");
  }

  @Test
  void maxWorkers_joinersTakeThePartAndBlocksOfIndexKModM() {
    JobSettings plain = JobSettings.builder(Mode.MODE_SYNC, 1, 4, 0.5f).build();
    assertThat(plain.workerCapacity()).isEqualTo(4);
    assertThat(JobSettings.builder(Mode.MODE_SYNC, 1, 4, 0.5f).maxWorkers(4).build())
        .as("max-workers = workers is the default").isEqualTo(plain);
    JobSettings elastic = JobSettings.builder(Mode.MODE_ASYNC, 1, 2, 0.5f).maxWorkers(5)
        .updateBlocks("round-robin").build();
    assertThat(elastic.workerCapacity()).isEqualTo(5);
    assertThat(elastic.toBuilder().build()).isEqualTo(elastic);
    assertThat(JobSettings.partOf(2, 0)).isZero();
    assertThat(JobSettings.partOf(2, 3)).isEqualTo(1);
    assertThat(JobSettings.partOf(2, 4)).isZero();
    io.parasol.common.BlockLayout layout = io.parasol.common.BlockLayout.of(
        List.of(new io.parasol.common.BlockLayout.Tensor("w", 4,
                io.parasol.proto.v1.InitKind.INIT_ZEROS, 0f),
            new io.parasol.common.BlockLayout.Tensor("b", 4,
                io.parasol.proto.v1.InitKind.INIT_ZEROS, 0f)), 1, 4);
    assertThat(elastic.updateBlocksFor(3, layout)).containsExactly(1);
    assertThat(elastic.updateBlocksFor(4, layout)).containsExactly(0);
  }
}
