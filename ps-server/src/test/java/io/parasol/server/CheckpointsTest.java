package io.parasol.server;

import io.parasol.server.core.ShardCore;
import io.parasol.server.core.ShardException;
import io.parasol.server.core.PushPlan;
import io.parasol.server.checkpoint.Checkpoints;

import static org.assertj.core.api.Assertions.assertThat;

import io.parasol.common.FloatCodec;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.OptimizerKind;
import io.parasol.proto.v1.OptimizerSpec;
import io.parasol.proto.v1.PushKind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints: atomic, checksummed, restored with optimizer state; torn files ignored. */
class CheckpointsTest {
  @TempDir
  Path dir;

  private static JobSpec spec() {
    return Specs.spec(Mode.MODE_ASYNC, 2, 0.1f, 3, 2)
        .setOptimizer(OptimizerSpec.newBuilder().setKind(OptimizerKind.OPTIMIZER_ADAM)).build();
  }

  private static void push(ShardCore core, JobSpec spec, long seq, int block, float... g)
      throws ShardException {
    PushPlan plan = core.preparePush(Specs.header(spec, 0, seq, seq,
        PushKind.PUSH_GRADIENT, block, core.blockVersion(block)));
    plan.accept(block, 0, FloatCodec.encode(g));
    core.push(plan);
  }

  /** A shard holding {@code spec} after three pushes: block 0 at version 2, block 1 at 1. */
  private static ShardCore afterThreePushes(JobSpec spec) throws Exception {
    ShardCore a = new ShardCore(0, null, Runnable::run);
    a.init(spec, 0);
    push(a, spec, 1, 0, 1f, -2f, 3f);
    push(a, spec, 2, 0, 0.5f, 0f, -1f);
    push(a, spec, 3, 1, 2f, 2f);
    return a;
  }

  @Test
  void restore_bringsBackValuesVersionsAndOptimizerState() throws Exception {
    JobSpec spec = spec();
    ShardCore a = afterThreePushes(spec);
    Checkpoints cp = new Checkpoints(dir, 0);
    cp.write(a.snapshot());

    ShardCore b = new ShardCore(0, null, Runnable::run);
    b.restore(cp.load(), "test");
    assertThat(b.status().getFingerprint()).isEqualTo(a.status().getFingerprint());
    for (int id = 0; id < 2; id++) {
      assertThat(b.blockValues(id)).isEqualTo(a.blockValues(id));
      assertThat(b.blockVersion(id)).isEqualTo(a.blockVersion(id));
    }
    // Same optimizer state: the next identical update lands on identical values.
    push(a, spec, 4, 0, 1f, 1f, 1f);
    push(b, spec, 4, 0, 1f, 1f, 1f);
    assertThat(b.blockValues(0)).isEqualTo(a.blockValues(0));
    // Init with the same spec is idempotent on the restored shard.
    assertThat(b.init(spec, 0).getCreated()).isFalse();
  }

  @Test
  void restore_isReportedInStatusAndMetrics() throws Exception {
    JobSpec spec = spec();
    ShardCore a = afterThreePushes(spec);
    assertThat(a.status().hasRestore()).as("a declared job has no restore record").isFalse();
    Checkpoints cp = new Checkpoints(dir, 0);
    cp.write(a.snapshot());

    io.micrometer.core.instrument.simple.SimpleMeterRegistry registry =
        new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    ShardCore b = new ShardCore(0, registry, Runnable::run);
    b.restore(cp.load(), "ckpt-dir");
    io.parasol.proto.v1.RestoreRecord r = b.status(spec.getJobName()).getRestore();
    assertThat(r.getCheckpoint()).isEqualTo("ckpt-dir");
    assertThat(r.getUnixMillis()).isPositive();
    assertThat(r.getBlocksList()).extracting(io.parasol.proto.v1.RestoredBlock::getBlockId,
            io.parasol.proto.v1.RestoredBlock::getVersion)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(0, 2L),
            org.assertj.core.groups.Tuple.tuple(1, 1L));
    String job = spec.getJobName();
    assertThat(registry.get(io.parasol.common.MetricNames.SHARD_RESTORES)
        .tag(io.parasol.common.MetricNames.JOB_TAG, job).counter().count()).isEqualTo(1.0);
    assertThat(registry.get(io.parasol.common.MetricNames.SHARD_RESTORED_VERSION)
        .tag(io.parasol.common.MetricNames.JOB_TAG, job).tag("block", "0").gauge().value())
        .isEqualTo(2.0);
    // Updates after the restore move the version, not the restored version.
    push(b, spec, 4, 0, 1f, 1f, 1f);
    assertThat(registry.get(io.parasol.common.MetricNames.SHARD_RESTORED_VERSION)
        .tag("block", "0").gauge().value()).isEqualTo(2.0);
    assertThat(b.status(job).getRestore()).isEqualTo(r);
  }

  @Test
  void load_ignoresATornNewestFileAndFallsBackToThePrevious() throws Exception {
    JobSpec spec = spec();
    ShardCore a = new ShardCore(0, null, Runnable::run);
    a.init(spec, 0);
    push(a, spec, 1, 0, 1f, 1f, 1f);
    Checkpoints cp = new Checkpoints(dir, 0);
    cp.write(a.snapshot());
    long v1 = a.blockVersion(0);
    push(a, spec, 2, 0, 1f, 1f, 1f);
    cp.write(a.snapshot());
    // Tear the newest file: cut its last bytes.
    byte[] bytes = Files.readAllBytes(cp.newest());
    Files.write(cp.newest(), java.util.Arrays.copyOf(bytes, bytes.length - 5),
        StandardOpenOption.TRUNCATE_EXISTING);
    Checkpoints.Snapshot snap = cp.load();
    assertThat(snap).isNotNull();
    assertThat(snap.blocks().get(0).version()).isEqualTo(v1);
  }

  @Test
  void load_rejectsAFlippedByteAndReturnsNullWithoutValidFiles() throws Exception {
    JobSpec spec = spec();
    ShardCore a = new ShardCore(0, null, Runnable::run);
    a.init(spec, 0);
    Checkpoints cp = new Checkpoints(dir, 0);
    cp.write(a.snapshot());
    byte[] bytes = Files.readAllBytes(cp.newest());
    bytes[bytes.length / 2] ^= 0x40;
    Files.write(cp.newest(), bytes);
    assertThat(cp.load()).isNull();
    assertThat(new Checkpoints(dir.resolve("none"), 0).load()).isNull();
  }

  @Test
  void shardServer_restoresOnStartAndCheckpointsOnStop() throws Exception {
    JobSpec spec = spec();
    Checkpoints cp = new Checkpoints(dir, 0);
    ShardServer first = ShardServer.forAddress("127.0.0.1", 0, 0, null)
        .checkpointing(cp, java.time.Duration.ofHours(1), 0).start();
    first.core().init(spec, 0);
    push(first.core(), spec, 1, 1, 4f, 4f);
    float[] values = first.core().blockValues(1);
    first.stop(5, java.util.concurrent.TimeUnit.SECONDS);
    // A job other than "default" keeps its files in its own sub-directory.
    assertThat(Files.exists(new io.parasol.server.checkpoint.JobCheckpoints(cp)
        .of(spec.getJobName()).newest())).isTrue();

    ShardServer second = ShardServer.forAddress("127.0.0.1", 0, 0, null)
        .checkpointing(cp, java.time.Duration.ofHours(1), 0).start();
    try {
      assertThat(second.core().blockValues(1)).isEqualTo(values);
      assertThat(second.core().blockVersion(1)).isEqualTo(1);
      assertThat(second.core().status().getRestore().getCheckpoint()).isEqualTo(
          new io.parasol.server.checkpoint.JobCheckpoints(cp).of(spec.getJobName()).dir()
              .toString());
    } finally {
      second.stop(5, java.util.concurrent.TimeUnit.SECONDS);
    }
  }
}
