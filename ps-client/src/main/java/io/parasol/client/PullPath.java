package io.parasol.client;

import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.parasol.common.BlockLayout;
import io.parasol.common.ChunkValues;
import io.parasol.common.FloatCodec;
import io.parasol.common.ReceivedChunk;
import io.parasol.common.ReceivedPull;
import io.parasol.proto.v1.PullRequest;
import io.parasol.proto.v1.ShardGrpc;
import io.parasol.proto.v1.ValueEncoding;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The pull half of {@link PsClient}: one server-streaming call per shard, whose chunks are
 * decoded from the transport's receive buffers straight into the destination.
 */
final class PullPath {
  /**
   * Pull, with chunks parsed by {@link ReceivedPull#marshaller()}: their values stay in the
   * transport's receive buffers until {@link PullReceiver#onNext} decodes them straight into
   * the destination and releases them.
   */
  private static final MethodDescriptor<PullRequest, ReceivedPull> PULL_METHOD =
      ShardGrpc.getPullMethod().toBuilder(ShardGrpc.getPullMethod().getRequestMarshaller(),
          ReceivedPull.marshaller()).build();

  /** Where pulled values go: the flat vector, as an array or as (off-heap) float memory. */
  @FunctionalInterface
  interface Sink {
    /** Decodes {@code values} (in {@code e}) to the flat vector from index {@code at}. */
    void put(ChunkValues values, ValueEncoding e, int at);
  }

  private final BlockLayout layout;
  private final ShardCalls calls;
  private final Incarnations incarnations;
  private final Duration pullTimeout;
  private final ValueEncoding encoding;
  private final AtomicLong lastPullWaitMicros = new AtomicLong();
  /** Per shard: whether it owns any block (a shard without blocks is not asked). */
  private final boolean[] hasBlocks;

  PullPath(BlockLayout layout, ShardCalls calls, Incarnations incarnations,
      Duration pullTimeout, ValueEncoding encoding) {
    this.layout = layout;
    this.incarnations = incarnations;
    this.hasBlocks = new boolean[calls.numShards()];
    for (int s = 0; s < hasBlocks.length; s++) {
      hasBlocks[s] = !layout.blocksOf(s).isEmpty();
    }
    this.calls = calls;
    this.pullTimeout = pullTimeout;
    this.encoding = encoding;
  }

  /** How long the last pull waited at the slowest shard (barrier, ssp bound), microseconds. */
  long lastPullWaitMicros() {
    return lastPullWaitMicros.get();
  }

  /** Pulls every block into {@code sink}; completes with the versions read, by block id. */
  CompletableFuture<long[]> pull(int worker, Sink sink, long minVersion, long clock) {
    return pull(worker, sink, minVersion, clock, false);
  }

  /** As above; {@code afterPush}: see {@code PullRequest.after_push}. */
  CompletableFuture<long[]> pull(int worker, Sink sink, long minVersion, long clock,
      boolean afterPush) {
    Pull p = begin(worker, sink, minVersion, clock, afterPush);
    for (int s = 0; s < calls.numShards(); s++) {
      if (hasBlocks[s]) {
        p.add(s, p.viaPull(s));
      }
    }
    return p.done();
  }

  /** Whether shard {@code s} owns any block (a shard without blocks is not asked). */
  boolean hasBlocks(int s) {
    return hasBlocks[s];
  }

  /** Starts a pull whose shards the caller adds ({@link Pull#add}). */
  Pull begin(int worker, Sink sink, long minVersion, long clock, boolean afterPush) {
    lastPullWaitMicros.set(0);
    return new Pull(sink, PullRequest.newBuilder().setFingerprint(calls.fingerprint())
        .setJobName(calls.jobName())
        .setWorker(worker).setMinVersion(minVersion).setClock(clock).setEncoding(encoding)
        .setAfterPush(afterPush).build());
  }

  /** One pull of every block, shard by shard: by Pull calls, or inside other calls. */
  final class Pull {
    private final Sink sink;
    private final PullRequest req;
    private final long[] versions = new long[layout.numBlocks()];
    private final List<CompletableFuture<Void>> shards = new ArrayList<>();

    private Pull(Sink sink, PullRequest req) {
      this.sink = sink;
      this.req = req;
    }

    /** Shard {@code shard}'s request (with the incarnation its versions refer to). */
    PullRequest request(int shard) {
      return req.toBuilder().setIncarnation(incarnations.read(shard)).build();
    }

    /** Shard {@code shard}'s blocks by a Pull call, retried as every call is. */
    CompletableFuture<Void> viaPull(int shard) {
      PullRequest mine = request(shard);
      return calls.withRetries("Pull", shard, () -> {
        CompletableFuture<Void> done = new CompletableFuture<>();
        ClientCalls.asyncServerStreamingCall(calls.newCall(shard, pullTimeout, PULL_METHOD),
            mine, receiver(shard, done));
        return done;
      });
    }

    /**
     * Takes shard {@code shard}'s chunks (from any call) into the destination; completes
     * {@code done} when the shard's stream completes.
     */
    PullReceiver receiver(int shard, CompletableFuture<Void> done) {
      return new PullReceiver(shard, sink, versions, done);
    }

    /** Counts {@code f} (shard {@code shard}'s part) in the pull; its failure is classified. */
    void add(int shard, CompletableFuture<Void> f) {
      shards.add(f.handle((v, err) -> {
        if (err != null) {
          throw Futures.asStatusException(incarnations.classify(shard,
              Futures.asStatusException(err)));
        }
        return v;
      }));
    }

    /** Completes with the versions read, by block id, once every shard's part has. */
    CompletableFuture<long[]> done() {
      return Futures.allOf(shards).thenApply(v -> versions);
    }
  }

  /** Decodes one shard's chunks into the destination. */
  final class PullReceiver implements StreamObserver<ReceivedPull> {
    private final int shard;
    private final Sink sink;
    private final long[] versions;
    private final CompletableFuture<Void> done;

    private long incarnation;

    PullReceiver(int shard, Sink sink, long[] versions, CompletableFuture<Void> done) {
      this.shard = shard;
      this.sink = sink;
      this.versions = versions;
      this.done = done;
    }

    /** Decodes the chunk into the destination, then gives its receive buffers back. */
    @Override
    public void onNext(ReceivedPull c) {
      try {
        take(c);
      } finally {
        c.release();
      }
    }

    /** Decodes one chunk (the caller releases it). */
    void take(ReceivedPull c) {
      if (c.malformed() != null) {
        throw Status.INTERNAL.withDescription("shard sent a malformed chunk: " + c.malformed())
            .asRuntimeException();
      }
      ReceivedChunk chunk = c.chunk();
      int id = chunk.blockId();
      if (id < 0 || id >= layout.numBlocks()) {
        throw Status.INTERNAL.withDescription("shard sent unknown block "
            + Integer.toUnsignedString(id)).asRuntimeException();
      }
      BlockLayout.Block b = layout.block(id);
      ValueEncoding e = chunk.encoding();
      int n;
      try {
        n = FloatCodec.valueCount(chunk.values().size(), e);
      } catch (IllegalArgumentException ex) {
        throw Status.INTERNAL.withDescription("shard sent a bad chunk for block " + id + ": "
            + ex.getMessage()).asRuntimeException();
      }
      if (chunk.offset() < 0 || (long) chunk.offset() + n > b.length()) {
        throw Status.INTERNAL.withDescription("shard sent a chunk past the end of block " + id)
            .asRuntimeException();
      }
      incarnation = c.incarnation();
      sink.put(chunk.values(), e, b.offset() + chunk.offset());
      versions[id] = c.version();
      if (c.waitedMicros() > 0) {
        lastPullWaitMicros.accumulateAndGet(c.waitedMicros(), Math::max);
      }
    }

    @Override
    public void onError(Throwable t) {
      done.completeExceptionally(t);
    }

    @Override
    public void onCompleted() {
      // Only a complete pull counts: its values and versions are all of the new incarnation.
      incarnations.pulled(shard, incarnation, versions);
      done.complete(null);
    }
  }
}
