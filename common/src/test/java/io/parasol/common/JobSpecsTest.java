package io.parasol.common;

import static org.assertj.core.api.Assertions.assertThat;

import io.parasol.proto.v1.BlockSpec;
import io.parasol.proto.v1.InitKind;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.LrSchedule;
import io.parasol.proto.v1.LrScheduleKind;
import io.parasol.proto.v1.Mode;
import org.junit.jupiter.api.Test;

class JobSpecsTest {
  private static JobSpec spec() {
    return JobSpec.newBuilder().setJobName("j").setMode(Mode.MODE_ASYNC).setNumShards(1)
        .setNumWorkers(2).setLearningRate(0.1f).setSeed(1)
        .addBlocks(BlockSpec.newBuilder().setId(0).setLength(4).setShard(0)).build();
  }

  @Test
  void fingerprint_isStableAndSensitiveToEveryField() {
    assertThat(JobSpecs.fingerprint(spec())).isEqualTo(JobSpecs.fingerprint(spec()));
    assertThat(JobSpecs.fingerprint(spec().toBuilder().setSeed(2).build()))
        .isNotEqualTo(JobSpecs.fingerprint(spec()));
    assertThat(JobSpecs.fingerprint(spec().toBuilder().setLearningRate(0.2f).build()))
        .isNotEqualTo(JobSpecs.fingerprint(spec()));
    assertThat(JobSpecs.fingerprint(spec().toBuilder()
        .setBlocks(0, spec().getBlocks(0).toBuilder().setInit(InitKind.INIT_NORMAL)).build()))
        .isNotEqualTo(JobSpecs.fingerprint(spec()));
  }

  @Test
  void fingerprint_changesWithEveryTopLevelField() {
    // Walk the descriptor: set each field to a non-default value; each must move the digest.
    String base = JobSpecs.fingerprint(spec());
    for (var f : JobSpec.getDescriptor().getFields()) {
      JobSpec.Builder b = spec().toBuilder();
      switch (f.getJavaType()) {
        case STRING -> b.setField(f, "other");
        case INT -> b.setField(f, 77);
        case LONG -> b.setField(f, 77L);
        case FLOAT -> b.setField(f, 0.77f);
        case BOOLEAN -> b.setField(f, true);
        case ENUM -> b.setField(f, f.getEnumType().getValues()
            .get(f.getEnumType().getValues().size() - 1));
        case MESSAGE -> {
          if (f.isRepeated()) {
            b.addRepeatedField(f, spec().getBlocks(0).toBuilder().setId(1).build());
          } else {
            var sub = b.newBuilderForField(f);
            var first = sub.getDescriptorForType().getFields().get(0);
            sub.setField(first, first.getJavaType() == com.google.protobuf.Descriptors
                .FieldDescriptor.JavaType.ENUM ? first.getEnumType().getValues()
                .get(first.getEnumType().getValues().size() - 1) : (Object) 0.5f);
            b.setField(f, sub.build());
          }
        }
        default -> throw new AssertionError("unhandled field type of " + f.getName());
      }
      assertThat(JobSpecs.fingerprint(b.build())).as(f.getName()).isNotEqualTo(base);
    }
  }

  @Test
  void maxWorkers_equalToNumWorkersIsTheDefault_andIsValidatedAgainstIt() {
    JobSpec same = spec().toBuilder().setMaxWorkers(2).build();
    assertThat(JobSpecs.fingerprint(same)).isEqualTo(JobSpecs.fingerprint(spec()));
    assertThat(JobSpecs.differences(spec(), same)).isEmpty();
    assertThat(JobSpecs.maxWorkers(spec())).isEqualTo(2);
    JobSpec elastic = spec().toBuilder().setMaxWorkers(5).build();
    assertThat(JobSpecs.maxWorkers(elastic)).isEqualTo(5);
    assertThat(JobSpecs.fingerprint(elastic)).isNotEqualTo(JobSpecs.fingerprint(spec()));
    assertThat(JobSpecs.differences(spec(), elastic)).containsExactly("max-workers 2 vs 5");
    assertThat(JobSpecs.problems(elastic)).isEmpty();
    assertThat(JobSpecs.problems(spec().toBuilder().setMaxWorkers(1).build()))
        .singleElement().asString().contains("max_workers must be 0 (= num_workers) or in");
  }

  @Test
  void differences_namesEachDifferingFlagWithBothValues() {
    JobSpec offered = spec().toBuilder().setLearningRate(0.2f).setMode(Mode.MODE_SYNC).build();
    assertThat(JobSpecs.differences(spec(), offered))
        .containsExactly("mode mode_async vs mode_sync", "lr 0.1 vs 0.2");
    assertThat(JobSpecs.differences(spec(), spec())).isEmpty();
    JobSpec otherLayout = spec().toBuilder()
        .setBlocks(0, spec().getBlocks(0).toBuilder().setLength(8)).build();
    assertThat(JobSpecs.differences(spec(), otherLayout)).singleElement().asString()
        .startsWith("model layout").contains("4 floats").contains("8 floats");
  }

  @Test
  void problems_listsEachDefect() {
    assertThat(JobSpecs.problems(spec())).isEmpty();
    JobSpec bad = spec().toBuilder().setMode(Mode.MODE_UNSPECIFIED).setNumWorkers(0)
        .setQuorum(3).setBlocks(0, BlockSpec.newBuilder().setId(1).setLength(0).setShard(4))
        .build();
    assertThat(JobSpecs.problems(bad)).anyMatch(p -> p.contains("mode"))
        .anyMatch(p -> p.contains("num_workers"))
        .anyMatch(p -> p.contains("quorum"))
        .anyMatch(p -> p.contains("ids must be"))
        .anyMatch(p -> p.contains("length"))
        .anyMatch(p -> p.contains("shard 4"));
  }

  @Test
  void initializer_isAPureFunctionOfSeedAndBlock() {
    float[] a = new float[8];
    float[] b = new float[8];
    Initializer.fill(5, 2, InitKind.INIT_NORMAL, 0.5f, a, 0, 8);
    Initializer.fill(5, 2, InitKind.INIT_NORMAL, 0.5f, b, 0, 8);
    assertThat(a).isEqualTo(b);
    Initializer.fill(5, 3, InitKind.INIT_NORMAL, 0.5f, b, 0, 8);
    assertThat(a).isNotEqualTo(b);
    Initializer.fill(5, 3, InitKind.INIT_UNIFORM, 0.5f, b, 0, 8);
    for (float v : b) {
      assertThat(Math.abs(v)).isLessThanOrEqualTo(0.5f);
    }
  }
}
