package io.parasol.client;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.parasol.common.BlockLayout;
import io.parasol.proto.v1.BlockChunk;
import io.parasol.proto.v1.BlockRead;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.PullRequest;
import io.parasol.proto.v1.PushHeader;
import io.parasol.proto.v1.PushKind;
import io.parasol.proto.v1.PushMessage;
import io.parasol.proto.v1.PushOutcome;
import io.parasol.proto.v1.PushPullReply;
import io.parasol.proto.v1.PushResponse;
import io.parasol.proto.v1.ShardGrpc;
import io.parasol.server.ShardServer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * PushPull over real gRPC on 127.0.0.1: a push and the next pull in one call per shard read
 * exactly what a Push followed by a Pull reads, and the shard refuses a then_pull that is not
 * the pushing worker's (or one sent with a plain Push) without applying anything.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PushPullTest {
  private final List<ShardServer> shards = new ArrayList<>();
  private final List<AutoCloseable> closing = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closing) {
      c.close();
    }
    for (ShardServer s : shards) {
      s.stop(1, TimeUnit.SECONDS);
    }
  }

  private static Job job(Mode mode, int workers) {
    return Job.builder("pushpull").tensor("w", Job.Init.zeros(), 4, 3).mode(mode)
        .learningRate(0.5f).maxBlockSize(4).workers(workers).build();
  }

  private List<String> startShards(int n) throws Exception {
    List<String> addresses = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ShardServer s = ShardServer.forAddress("127.0.0.1", 0, i, null).start();
      shards.add(s);
      addresses.add("127.0.0.1:" + s.port());
    }
    return addresses;
  }

  private PsClient connect(List<String> addresses, BlockLayout layout) {
    PsClient c = PsClient.connect(addresses, layout, Duration.ofSeconds(20),
        Duration.ofSeconds(20));
    closing.add(c);
    return c;
  }

  private static float[] filled(int n, float v) {
    float[] g = new float[n];
    Arrays.fill(g, v);
    return g;
  }

  /**
   * Two sync workers on two shards, three steps: each step's PushPull answers the push, then
   * the round's new values and versions, the same as the two calls give on a second cluster.
   */
  @Test
  void sync_pushThenPull_readsWhatPushThenPullCallsRead() throws Exception {
    Job job = job(Mode.MODE_SYNC, 2);
    BlockLayout layout = job.layout(2);
    int d = layout.dimension();
    List<String> first = startShards(2);
    List<PsClient> combined = List.of(connect(first, layout), connect(first, layout));
    List<String> ref = startShards(2);
    List<PsClient> separate = List.of(connect(ref, layout), connect(ref, layout));
    for (List<PsClient> ws : List.of(combined, separate)) {
      ws.get(0).init(job.spec(2));
      ws.get(1).init(job.spec(2));
    }
    // combined: worker w uses client w of the first cluster; separate: of the second.
    float[][] xa = {new float[d], new float[d]};
    float[][] xb = {new float[d], new float[d]};
    long[][] read = new long[2][];
    for (int w = 0; w < 2; w++) {
      read[w] = combined.get(w).pull(w, xa[w], 0, 0);
      separate.get(w).pull(w, xb[w], 0, 0);
    }
    for (int t = 0; t < 3; t++) {
      List<PsClient.PushedAndPulled> both = new ArrayList<>();
      List<CompletableFuture<PsClient.ShardOutcome[]>> pushes = new ArrayList<>();
      List<CompletableFuture<long[]>> pulls = new ArrayList<>();
      float[][] nextA = {new float[d], new float[d]};
      float[][] nextB = {new float[d], new float[d]};
      for (int w = 0; w < 2; w++) {
        float[] g = filled(d, (w + 1) * (t + 1));
        long[] steps = {t, t};
        both.add(combined.get(w).pushThenPullAsync(w, steps, PushKind.PUSH_GRADIENT, g,
            read[w], null, 1f, nextA[w], t + 1, t + 1, true));
        pushes.add(separate.get(w).pushEachAsync(w, steps, PushKind.PUSH_GRADIENT, g, read[w],
            null, 1f));
        pulls.add(separate.get(w).pullAfterPushAsync(w, nextB[w], t + 1, t + 1));
      }
      // Per shard, the push that completes the round is APPLIED and the other ACCEPTED (which
      // worker's comes last is a race), on both clusters.
      List<List<PushOutcome>> outcomesA = List.of(new ArrayList<>(), new ArrayList<>());
      List<List<PushOutcome>> outcomesB = List.of(new ArrayList<>(), new ArrayList<>());
      for (int w = 0; w < 2; w++) {
        PsClient.ShardOutcome[] a = PsClient.await(both.get(w).pushed());
        PsClient.ShardOutcome[] b = PsClient.await(pushes.get(w));
        for (int s = 0; s < 2; s++) {
          assertThat(a[s].ok()).as("step %d worker %d shard %d", t, w, s).isTrue();
          outcomesA.get(s).add(a[s].response().getOutcome());
          outcomesB.get(s).add(b[s].response().getOutcome());
        }
      }
      for (int s = 0; s < 2; s++) {
        assertThat(outcomesA.get(s)).containsExactlyInAnyOrder(PushOutcome.PUSH_ACCEPTED,
            PushOutcome.PUSH_APPLIED).containsExactlyInAnyOrderElementsOf(outcomesB.get(s));
      }
      for (int w = 0; w < 2; w++) {
        long[] va = PsClient.await(both.get(w).pulled());
        long[] vb = PsClient.await(pulls.get(w));
        assertThat(va).containsOnly(t + 1L).isEqualTo(vb);
        assertThat(nextA[w]).isEqualTo(nextB[w]);
        // Sync SGD: x -= 0.5 * mean(1(t+1), 2(t+1)) per step.
        float expected = 0f;
        for (int k = 0; k <= t; k++) {
          expected -= 0.5f * 1.5f * (k + 1);
        }
        assertThat(nextA[w]).containsOnly(expected);
        read[w] = va;
      }
    }
    assertThat(shards.get(0).core().blockVersion(0)).isEqualTo(3);
  }

  /** A shard with blocks but none to push is pulled with a plain Pull in the same step. */
  @Test
  void async_shardWithNothingToPush_isPulledAlone() throws Exception {
    Job job = job(Mode.MODE_ASYNC, 1);
    BlockLayout layout = job.layout(2);
    int d = layout.dimension();
    PsClient c = connect(startShards(2), layout);
    c.init(job.spec(2));
    float[] x = new float[d];
    long[] read = c.pull(0, x, 0, 0);
    int[] shard0 = layout.blocksOf(0).stream().mapToInt(BlockLayout.Block::id).toArray();
    float[] next = filled(d, 7f);
    PsClient.PushedAndPulled both = c.pushThenPullAsync(0, new long[] {0, 0},
        PushKind.PUSH_GRADIENT, filled(d, 2f), read, shard0, 1f, next, 0, 1, false);
    PsClient.ShardOutcome[] out = PsClient.await(both.pushed());
    assertThat(out[0].ok()).isTrue();
    assertThat(out[1]).as("nothing pushed to shard 1").isNull();
    long[] versions = PsClient.await(both.pulled());
    for (BlockLayout.Block b : layout.blocks()) {
      long want = b.shard() == 0 ? 1 : 0;
      assertThat(versions[b.id()]).as("block %d", b.id()).isEqualTo(want);
      for (int i = 0; i < b.length(); i++) {
        assertThat(next[b.offset() + i]).isEqualTo(b.shard() == 0 ? -1f : 0f);
      }
    }
  }

  /**
   * A shard restarted from a checkpoint refuses the push (rolled back): the outcome says so,
   * and the pull still ends (as a plain Pull), so a worker abandons it and re-pulls.
   */
  @Test
  void pushRefusedAsRolledBack_outcomeCarriesTheRollback_andThePullEnds(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    Job job = job(Mode.MODE_ASYNC, 1);
    BlockLayout layout = job.layout(1);
    ShardServer s = ShardServer.forAddress("127.0.0.1", 0, 0, null);
    s.checkpointing(new io.parasol.server.checkpoint.Checkpoints(dir, 0), Duration.ofHours(1),
        0);
    shards.add(s.start());
    PsClient c = connect(List.of("127.0.0.1:" + s.port()), layout);
    c.init(job.spec(1));
    int d = layout.dimension();
    float[] x = new float[d];
    long[] read = c.pull(0, x, 0, 0);
    c.push(0, 0, PushKind.PUSH_GRADIENT, filled(d, 1f), read, null, Float.NaN);
    assertThat(s.checkpointIfChanged()).isTrue(); // at version 1
    read = c.pull(0, x, 0, 0);
    c.push(0, 1, PushKind.PUSH_GRADIENT, filled(d, 1f), read, null, Float.NaN);
    read = c.pull(0, x, 0, 0); // version 2, lost with the restart
    int port = s.port();
    s.halt();
    shards.clear();
    ShardServer restarted = ShardServer.forAddress("127.0.0.1", port, 0, null);
    restarted.checkpointing(new io.parasol.server.checkpoint.Checkpoints(dir, 0),
        Duration.ofHours(1), 0);
    shards.add(restarted.start());

    PsClient.PushedAndPulled both = c.pushThenPullAsync(0, new long[] {2},
        PushKind.PUSH_GRADIENT, filled(d, 1f), read, null, 1f, new float[d], 0, 3, false);
    PsClient.ShardOutcome[] out = PsClient.await(both.pushed());
    assertThat(out[0].ok()).isFalse();
    assertThat(out[0].rollback()).isNotNull();
    assertThat(both.pulled().handle((v, e) -> "ended").get(30, TimeUnit.SECONDS))
        .isEqualTo("ended");
    assertThat(restarted.core().blockVersion(0)).as("nothing applied").isEqualTo(1);
  }

  /** Raw PushPull calls on one shard, their replies and final status. */
  private static final class Replies implements StreamObserver<PushPullReply> {
    final List<PushPullReply> got = new ArrayList<>();
    final CompletableFuture<Status> done = new CompletableFuture<>();

    @Override
    public synchronized void onNext(PushPullReply r) {
      got.add(r);
    }

    @Override
    public void onError(Throwable t) {
      done.complete(Status.fromThrowable(t));
    }

    @Override
    public void onCompleted() {
      done.complete(Status.OK);
    }
  }

  private static ByteString floats(int n, float v) {
    ByteBuffer b = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      b.putFloat(v);
    }
    return ByteString.copyFrom(b.array());
  }

  /** Sends one push of 1s for every block of shard 0, with {@code thenPull}, on {@code rpc}. */
  private static Replies send(ManagedChannel ch, PsClient c, BlockLayout layout,
      PullRequest thenPull, boolean plainPush) throws Exception {
    PushHeader.Builder h = PushHeader.newBuilder().setFingerprint(c.fingerprint())
        .setJobName("pushpull").setWorker(0).setSequence(1).setStep(0)
        .setKind(PushKind.PUSH_GRADIENT).setLoss(1f);
    for (BlockLayout.Block b : layout.blocksOf(0)) {
      h.addBlocks(BlockRead.newBuilder().setBlockId(b.id()).setVersion(0));
    }
    if (thenPull != null) {
      h.setThenPull(thenPull);
    }
    Replies replies = new Replies();
    ShardGrpc.ShardStub stub = ShardGrpc.newStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS);
    StreamObserver<PushMessage> req;
    if (plainPush) {
      req = stub.push(new StreamObserver<PushResponse>() {
        @Override
        public void onNext(PushResponse r) {
          replies.onNext(PushPullReply.newBuilder().setPushed(r).build());
        }

        @Override
        public void onError(Throwable t) {
          replies.onError(t);
        }

        @Override
        public void onCompleted() {
          replies.onCompleted();
        }
      });
    } else {
      req = stub.pushPull(replies);
    }
    req.onNext(PushMessage.newBuilder().setHeader(h).build());
    for (BlockLayout.Block b : layout.blocksOf(0)) {
      req.onNext(PushMessage.newBuilder().setChunk(BlockChunk.newBuilder().setBlockId(b.id())
          .setOffset(0).setValues(floats(b.length(), 1f))).build());
    }
    req.onCompleted();
    replies.done.get(30, TimeUnit.SECONDS);
    return replies;
  }

  @Test
  void rawPushPull_answersThePushThenThePullsChunks_andRefusesAnotherWorkersPull()
      throws Exception {
    Job job = job(Mode.MODE_ASYNC, 2);
    BlockLayout layout = job.layout(1);
    List<String> addresses = startShards(1);
    PsClient c = connect(addresses, layout);
    c.init(job.spec(1));
    ManagedChannel ch = ManagedChannelBuilder.forTarget(addresses.get(0)).usePlaintext().build();
    closing.add(() -> ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    PullRequest pull = PullRequest.newBuilder().setFingerprint(c.fingerprint())
        .setJobName("pushpull").setWorker(0).build();
    ShardServer shard = shards.get(0);

    // then_pull for another worker, and then_pull on a plain Push: refused, nothing applied.
    Replies other = send(ch, c, layout, pull.toBuilder().setWorker(1).build(), false);
    assertThat(other.done.get().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(other.done.get().getDescription()).contains("then_pull", "worker 1");
    assertThat(other.got).isEmpty();
    Replies plain = send(ch, c, layout, pull, true);
    assertThat(plain.done.get().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(plain.done.get().getDescription()).contains("then_pull");
    assertThat(shard.core().blockVersion(0)).isZero();

    // A then_pull in an encoding the shard does not know: refused before the push is applied.
    Replies badEncoding = send(ch, c, layout, pull.toBuilder().setEncodingValue(9).build(),
        false);
    assertThat(badEncoding.done.get().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(badEncoding.done.get().getDescription()).contains("encoding 9");
    assertThat(badEncoding.got).isEmpty();
    assertThat(shard.core().blockVersion(0)).isZero();

    Replies ok = send(ch, c, layout, pull, false);
    assertThat(ok.done.get().getCode()).isEqualTo(Status.Code.OK);
    assertThat(ok.got.get(0).hasPushed()).isTrue();
    assertThat(ok.got.get(0).getPushed().getOutcome()).isEqualTo(PushOutcome.PUSH_APPLIED);
    List<PushPullReply> chunks = ok.got.subList(1, ok.got.size());
    assertThat(chunks).isNotEmpty().allMatch(PushPullReply::hasChunk);
    int floats = 0;
    for (PushPullReply r : chunks) {
      assertThat(r.getChunk().getVersion()).isEqualTo(1);
      ByteBuffer v = r.getChunk().getChunk().getValues().asReadOnlyByteBuffer()
          .order(ByteOrder.LITTLE_ENDIAN);
      while (v.hasRemaining()) {
        assertThat(v.getFloat()).isEqualTo(-0.5f);
        floats++;
      }
    }
    assertThat(floats).isEqualTo(layout.dimension());
    assertThat(shard.core().blockVersion(0)).isEqualTo(1);
  }
}
