package io.parasol.client;

import io.grpc.ClientCall;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import io.parasol.common.BlockLayout;
import io.parasol.common.PushFrame;
import io.parasol.common.ReceivedReply;
import io.parasol.proto.v1.BlockRead;
import io.parasol.proto.v1.PushHeader;
import io.parasol.proto.v1.PushKind;
import io.parasol.proto.v1.PushMessage;
import io.parasol.proto.v1.PushResponse;
import io.parasol.proto.v1.ShardGrpc;
import io.parasol.proto.v1.ValueEncoding;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The push half of {@link PsClient}: per shard, one client-streaming call of a header and the
 * chunks of the shard's blocks, written only while the transport is ready; a retried push keeps
 * its (worker, sequence).
 */
final class PushPath {
  /**
   * Push, as {@link PushFrame}s: chunk values are read from the worker's array or off-heap
   * vector when gRPC serialises them, with no intermediate copy of the chunk.
   */
  private static final MethodDescriptor<PushFrame, PushResponse> PUSH_METHOD =
      ShardGrpc.getPushMethod().toBuilder(PushFrame.marshaller(),
          ShardGrpc.getPushMethod().getResponseMarshaller()).build();

  /** PushPull: pushed as Push is; replies parsed as {@link ReceivedReply}s. */
  private static final MethodDescriptor<PushFrame, ReceivedReply> PUSH_PULL_METHOD =
      ShardGrpc.getPushPullMethod().toBuilder(PushFrame.marshaller(),
          ReceivedReply.marshaller()).build();

  /** Values to push: the flat vector, as an array or as (off-heap) float memory. */
  @FunctionalInterface
  interface Source {
    /** Block {@code b}'s values {@code [off, off+n)} as a chunk frame in {@code e}. */
    PushFrame chunk(BlockLayout.Block b, int off, int n, ValueEncoding e);
  }

  private final BlockLayout layout;
  private final ShardCalls calls;
  private final Incarnations incarnations;
  private final Duration rpcTimeout;
  private final int chunkFloats;
  private final ValueEncoding encoding;
  private final List<List<BlockLayout.Block>> blocksOf;
  private final AtomicLong[] sequences;

  PushPath(BlockLayout layout, ShardCalls calls, Incarnations incarnations,
      Duration rpcTimeout, int chunkFloats, ValueEncoding encoding) {
    this.layout = layout;
    this.incarnations = incarnations;
    this.calls = calls;
    this.rpcTimeout = rpcTimeout;
    this.chunkFloats = chunkFloats;
    this.encoding = encoding;
    this.blocksOf = new ArrayList<>(calls.numShards());
    this.sequences = new AtomicLong[calls.numShards()];
    for (int s = 0; s < calls.numShards(); s++) {
      blocksOf.add(layout.blocksOf(s));
      // Sequences start from the wall clock (in thousandths of a millisecond), so a worker
      // that restarts never reuses a sequence its previous incarnation had the shard remember.
      sequences[s] = new AtomicLong(System.currentTimeMillis() * 1000);
    }
  }

  /** A {@code float[]} source. */
  static Source arraySource(float[] values) {
    return (b, off, n, e) -> PushFrame.chunk(b.id(), off, e, values, b.offset() + off, n);
  }

  /** An off-heap source: native-order float32 bytes, read in place when sent. */
  static Source bufferSource(java.nio.ByteBuffer raw) {
    return (b, off, n, e) -> PushFrame.chunk(b.id(), off, e, raw, b.offset() + off, n);
  }

  /**
   * Pushes {@code values} for the blocks in {@code blockIds} (null: every block) to every shard
   * that owns some of them, concurrently; one outcome per such shard, null for the others.
   * Never completes exceptionally for a shard's refusal.
   */
  CompletableFuture<PsClient.ShardOutcome[]> pushEach(int worker, long[] steps, PushKind kind,
      Source values, long[] versionsRead, int[] blockIds, float loss) {
    int shards = calls.numShards();
    List<CompletableFuture<PsClient.ShardOutcome>> pending = new ArrayList<>(shards);
    for (int s = 0; s < shards; s++) {
      List<BlockLayout.Block> mine = selected(s, blockIds);
      if (mine.isEmpty()) {
        continue;
      }
      PushHeader header = header(worker, s, steps[s], kind, mine, versionsRead, loss).build();
      List<PushFrame> chunks = chunks(values, mine);
      final int shard = s;
      pending.add(calls.withRetries("Push", s, () -> send(shard, header, chunks))
          .handle((r, err) -> outcome(shard, r, err)));
    }
    return outcomes(pending, shards);
  }

  /**
   * {@link #pushEach}, and then {@code pull} of every block, in one PushPull call per shard
   * that has blocks to push (ps-lite's PushPull: one call per shard and step instead of a Push
   * and a Pull); a shard with blocks but none to push gets a plain Pull. Where a PushPull fails
   * before the shard answered the push, the push is sent again as a Push (same sequence, so a
   * push the shard did take is not applied twice) when the failure is transient, and the pull
   * goes as a Pull; where it fails after, the pull goes as a Pull.
   *
   * @param pullTimeout the deadline of each call (it includes the pull's wait)
   * @return the pushes' outcomes (never exceptional for a refusal) and the pull's versions
   */
  PsClient.PushedAndPulled pushThenPull(int worker, long[] steps, PushKind kind, Source values,
      long[] versionsRead, int[] blockIds, float loss, PullPath.Pull pull, Duration pullTimeout,
      java.util.function.IntPredicate hasBlocks) {
    int shards = calls.numShards();
    List<CompletableFuture<PsClient.ShardOutcome>> pending = new ArrayList<>(shards);
    for (int s = 0; s < shards; s++) {
      List<BlockLayout.Block> mine = selected(s, blockIds);
      if (mine.isEmpty()) {
        if (hasBlocks.test(s)) {
          pull.add(s, pull.viaPull(s));
        }
        continue;
      }
      final int shard = s;
      PushHeader header = header(worker, s, steps[s], kind, mine, versionsRead, loss)
          .setThenPull(pull.request(shard)).build();
      List<PushFrame> chunks = chunks(values, mine);
      CompletableFuture<PushResponse> pushed = new CompletableFuture<>();
      CompletableFuture<Void> pulled = new CompletableFuture<>();
      sendThenPull(shard, header, chunks, pull, pullTimeout, pushed, pulled);
      pending.add(pushed.handle((r, err) -> outcome(shard, r, err)));
      pull.add(shard, pulled);
    }
    return new PsClient.PushedAndPulled(outcomes(pending, shards), pull.done());
  }

  /** One PushPull call; its failures fall back as {@link #pushThenPull} says. */
  private void sendThenPull(int shard, PushHeader header, List<PushFrame> chunks,
      PullPath.Pull pull, Duration timeout, CompletableFuture<PushResponse> pushed,
      CompletableFuture<Void> pulled) {
    ClientCall<PushFrame, ReceivedReply> call = calls.newCall(shard, timeout, PUSH_PULL_METHOD);
    CompletableFuture<Void> stream = new CompletableFuture<>();
    PullPath.PullReceiver receiver = pull.receiver(shard, stream);
    // No future to complete: this observer handles the replies itself.
    ClientCalls.asyncBidiStreamingCall(call, new Sender<ReceivedReply>(header, chunks, null) {
      @Override
      public void onNext(ReceivedReply r) {
        try {
          if (r.malformed() != null) {
            throw Status.INTERNAL.withDescription("shard sent a malformed PushPull reply: "
                + r.malformed()).asRuntimeException();
          } else if (r.pushed() != null) {
            pushed.complete(r.pushed());
          } else if (!pushed.isDone()) {
            throw Status.INTERNAL.withDescription("shard sent pull chunks before the push's"
                + " response").asRuntimeException();
          } else {
            receiver.take(r.pull());
          }
        } finally {
          r.release();
        }
      }

      @Override
      public void onError(Throwable t) {
        if (!pushed.isDone()) {
          // The shard did not answer the push: a transient failure sends it again as a Push
          // (the shard drops a copy it already took); a refusal is the push's outcome.
          if (RetryPolicy.retryable(Status.fromThrowable(t).getCode())) {
            PushHeader plain = header.toBuilder().clearThenPull().build();
            calls.withRetries("Push", shard, () -> send(shard, plain, chunks))
                .whenComplete((v, err) -> {
                  if (err == null) {
                    pushed.complete(v);
                  } else {
                    pushed.completeExceptionally(err);
                  }
                });
          } else {
            pushed.completeExceptionally(t);
          }
        }
        pull.viaPull(shard).whenComplete((v, err) -> {
          if (err == null) {
            pulled.complete(null);
          } else {
            pulled.completeExceptionally(err);
          }
        });
      }

      @Override
      public void onCompleted() {
        if (!pushed.isDone()) {
          onError(Status.INTERNAL.withDescription("PushPull ended without the push's response")
              .asRuntimeException());
          return;
        }
        receiver.onCompleted();
        pulled.complete(null);
      }
    });
  }

  private List<PushFrame> chunks(Source values, List<BlockLayout.Block> mine) {
    List<PushFrame> chunks = new ArrayList<>();
    for (BlockLayout.Block b : mine) {
      for (int off = 0; off < b.length(); off += chunkFloats) {
        chunks.add(values.chunk(b, off, Math.min(chunkFloats, b.length() - off), encoding));
      }
    }
    return chunks;
  }

  private static CompletableFuture<PsClient.ShardOutcome[]> outcomes(
      List<CompletableFuture<PsClient.ShardOutcome>> pending, int shards) {
    return Futures.allOf(pending).thenApply(v -> {
      PsClient.ShardOutcome[] out = new PsClient.ShardOutcome[shards];
      for (CompletableFuture<PsClient.ShardOutcome> c : pending) {
        PsClient.ShardOutcome o = c.join();
        out[o.shard()] = o;
      }
      return out;
    });
  }

  private PsClient.ShardOutcome outcome(int shard, PushResponse r, Throwable err) {
    if (err == null) {
      incarnations.acked(shard, r);
      return new PsClient.ShardOutcome(shard, r, null);
    }
    Throwable t = incarnations.classify(shard, err);
    return new PsClient.ShardOutcome(shard, null, Status.fromThrowable(t),
        t instanceof ShardRolledBackException rb ? rb.rollback() : null);
  }

  private PushHeader.Builder header(int worker, int shard, long step, PushKind kind,
      List<BlockLayout.Block> mine, long[] versionsRead, float loss) {
    PushHeader.Builder h = PushHeader.newBuilder().setFingerprint(calls.fingerprint())
        .setJobName(calls.jobName())
        .setWorker(worker).setSequence(sequences[shard].incrementAndGet()).setStep(step)
        .setKind(kind).setLoss(loss).setIncarnation(incarnations.read(shard));
    boolean[] pushed = new boolean[layout.numBlocks()];
    for (BlockLayout.Block b : mine) {
      h.addBlocks(BlockRead.newBuilder().setBlockId(b.id()).setVersion(versionsRead[b.id()]));
      pushed[b.id()] = true;
    }
    // The versions read of every other block: the shard measures Age of Information with them.
    for (int id = 0; id < pushed.length; id++) {
      if (!pushed[id]) {
        h.addSeen(BlockRead.newBuilder().setBlockId(id).setVersion(versionsRead[id]));
      }
    }
    return h;
  }

  /** One Push call: the header, then the chunks ({@link Sender}). */
  private CompletableFuture<PushResponse> send(int shard, PushHeader header,
      List<PushFrame> chunks) {
    CompletableFuture<PushResponse> done = new CompletableFuture<>();
    ClientCall<PushFrame, PushResponse> call = calls.newCall(shard, rpcTimeout, PUSH_METHOD);
    ClientCalls.asyncClientStreamingCall(call, new Sender<>(header, chunks, done));
    return done;
  }

  /**
   * Writes a push stream: the header, then the chunks, each only while the transport is ready
   * for more (gRPC's flow control), so only a bounded part of the push sits in the transport's
   * buffers at a time instead of all of it. Completes {@code done} with the last reply (Push's
   * response); PushPull's observer overrides the replies' handling.
   */
  private static class Sender<R> extends Futures.LastValue<R>
      implements ClientResponseObserver<PushFrame, R> {
    private final PushHeader header;
    private final List<PushFrame> chunks;
    private ClientCallStreamObserver<PushFrame> req;
    private int next = -1;

    Sender(PushHeader header, List<PushFrame> chunks, CompletableFuture<R> done) {
      super(done);
      this.header = header;
      this.chunks = chunks;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<PushFrame> r) {
      req = r;
      req.setOnReadyHandler(this::pump);
    }

    /** Runs on the call's serialised executor: when started, and when ready again. */
    private void pump() {
      try {
        while (next < chunks.size() && req.isReady()) {
          req.onNext(next < 0 ? PushFrame.of(PushMessage.newBuilder().setHeader(header)
              .build()) : chunks.get(next));
          next++;
        }
        if (next == chunks.size()) {
          next++;
          req.onCompleted();
        }
      } catch (RuntimeException e) {
        next = chunks.size() + 1;
        req.onError(e);
        onError(e);
      }
    }
  }

  private List<BlockLayout.Block> selected(int shard, int[] blockIds) {
    List<BlockLayout.Block> all = blocksOf.get(shard);
    if (blockIds == null) {
      return all;
    }
    List<BlockLayout.Block> out = new ArrayList<>();
    for (BlockLayout.Block b : all) {
      for (int id : blockIds) {
        if (id == b.id()) {
          out.add(b);
          break;
        }
      }
    }
    return out;
  }
}
