package io.parasol.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.parasol.common.FloatCodec;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.PullRequest;
import io.parasol.proto.v1.PushKind;
import io.parasol.server.core.EncodedBlock;
import io.parasol.server.core.PullPlan;
import io.parasol.server.core.PushPlan;
import io.parasol.server.core.ShardCore;
import io.parasol.server.core.ShardException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The shard's push and pull buffers stay within what {@code --max-bytes} leaves beside the
 * job: a request whose buffer would pass it is RESOURCE_EXHAUSTED and changes nothing, and
 * once buffers come back the same request goes through. Blocks of 64 Ki floats: arrays of
 * 256 KiB, below half of any G1 region, so each takes its header and data, A bytes.
 */
class BufferLimitTest {
  private static final int N = 1 << 16;
  /** Heap of one float array of N (or byte array of 4N): 16-byte header and data. */
  private static final long A = 16 + 4L * N;

  private final JobSpec spec = Specs.spec(Mode.MODE_ASYNC, 4, 0.1f, N).build();
  private final float[] gradient = new float[N];

  {
    Arrays.fill(gradient, 0.5f);
  }

  /**
   * A shard whose limit is what the job needs and no more: the block (A), a push's staging
   * (A) and a pull's snapshot (2A), so its buffers may take 3A.
   */
  private ShardCore core() throws ShardException {
    ShardCore core = new ShardCore(0, null, Runnable::run);
    core.maxBytes(4 * A);
    core.init(spec, 0);
    return core;
  }

  private PushPlan staged(ShardCore core, int worker, long seq) throws ShardException {
    PushPlan plan = core.preparePush(
        Specs.header(spec, worker, seq, 0, PushKind.PUSH_GRADIENT, 0, 0));
    try {
      plan.accept(0, 0, FloatCodec.encode(gradient));
    } catch (ShardException e) {
      plan.release();
      throw e;
    }
    return plan;
  }

  private PullPlan pull(ShardCore core, int worker) throws ShardException {
    return core.preparePull(PullRequest.newBuilder().setFingerprint(Specs.fp(spec))
        .setWorker(worker).addBlockIds(0).build());
  }

  @Test
  void init_oneByteLessThanTheJobAndOneRequestNeed_resourceExhausted() {
    ShardCore core = new ShardCore(0, null, Runnable::run);
    core.maxBytes(4 * A - 1);
    assertThatThrownBy(() -> core.init(spec, 0)).isInstanceOfSatisfying(ShardException.class,
        e -> assertThat(e.code()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
  }

  @Test
  void push_pastTheBufferLimit_resourceExhaustedUntilAnotherPushIsDone() throws Exception {
    ShardCore core = core();
    float[] before = core.blockValues(0);
    PushPlan p0 = staged(core, 0, 1);
    PushPlan p1 = staged(core, 1, 1);
    PushPlan p2 = staged(core, 2, 1);
    assertThatThrownBy(() -> staged(core, 3, 1)).isInstanceOfSatisfying(ShardException.class,
        e -> {
          assertThat(e.code()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
          assertThat(e.getMessage()).contains("retry later");
        });
    assertThat(core.blockValues(0)).isEqualTo(before);
    assertThat(core.blockVersion(0)).isZero();

    core.push(p0);
    assertThat(core.blockVersion(0)).isEqualTo(1);
    // p0's staging is back in the pool: the retry takes it and allocates nothing.
    core.push(staged(core, 3, 1));
    core.push(p1);
    core.push(p2);
    assertThat(core.blockVersion(0)).isEqualTo(4);
  }

  @Test
  void pull_pastTheBufferLimit_resourceExhaustedThenServedFromDroppedPools() throws Exception {
    ShardCore core = core();
    PushPlan[] staged = {staged(core, 0, 1), staged(core, 1, 1), staged(core, 2, 1)};
    PullPlan full = pull(core, 3);
    assertThatThrownBy(() -> full.encode(0, N)).isInstanceOfSatisfying(ShardException.class,
        e -> assertThat(e.code()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
    full.release();
    for (PushPlan p : staged) {
      core.push(p);
    }
    // The pool now holds three staging buffers (3A, the limit): the snapshot's byte buffer
    // is another length, so the pools are emptied for it.
    PullPlan plan = pull(core, 3);
    EncodedBlock block = plan.encode(0, N);
    assertThat(block.version()).isEqualTo(3);
    block.release();
    plan.release();
  }
}
