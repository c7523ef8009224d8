package io.parasol.worker.client;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.grpc.MetricCollectingClientInterceptor;
import io.parasol.common.BlockLayout;
import io.parasol.common.FloatCodec;
import io.parasol.proto.v1.BlockChunk;
import io.parasol.proto.v1.BlockRead;
import io.parasol.proto.v1.InitRequest;
import io.parasol.proto.v1.InitResponse;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.PullChunk;
import io.parasol.proto.v1.PullRequest;
import io.parasol.proto.v1.PushHeader;
import io.parasol.proto.v1.PushKind;
import io.parasol.proto.v1.PushMessage;
import io.parasol.proto.v1.PushResponse;
import io.parasol.proto.v1.ShardGrpc;
import io.parasol.proto.v1.StatusRequest;
import io.parasol.proto.v1.StatusResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A worker's view of the sharded model: pulls and pushes the flat parameter vector block by
 * block, talking to every shard concurrently over one channel per shard. Every call has a
 * deadline.
 *
 * <p>Failures surface as {@link StatusRuntimeException}s with the shard's status; callers branch
 * on the code.
 */
public final class PsClient implements AutoCloseable {
  private final BlockLayout layout;
  private final List<ManagedChannel> channels;
  private final List<ShardGrpc.ShardStub> stubs;
  private final List<ShardGrpc.ShardBlockingStub> blocking;
  private final List<List<BlockLayout.Block>> blocksOf;
  private final AtomicLong[] sequences;
  private final Duration rpcTimeout;
  private final Duration pullTimeout;
  private final int chunkFloats;
  private final boolean ownsChannels;
  private volatile String fingerprint = "";
  private final AtomicLong lastPullWaitMicros = new AtomicLong();

  /**
   * @param channels one per shard, in shard order
   * @param rpcTimeout deadline of init, push and status calls
   * @param pullTimeout deadline of pulls, which may wait at a barrier
   */
  public PsClient(List<ManagedChannel> channels, BlockLayout layout, Duration rpcTimeout,
      Duration pullTimeout, boolean ownsChannels) {
    if (channels.size() != layout.numShards()) {
      throw new IllegalArgumentException(
          channels.size() + " shard addresses for a layout of " + layout.numShards() + " shards");
    }
    this.layout = layout;
    this.channels = List.copyOf(channels);
    this.stubs = new ArrayList<>();
    this.blocking = new ArrayList<>();
    this.blocksOf = new ArrayList<>();
    this.sequences = new AtomicLong[channels.size()];
    for (int s = 0; s < channels.size(); s++) {
      stubs.add(ShardGrpc.newStub(channels.get(s)));
      blocking.add(ShardGrpc.newBlockingStub(channels.get(s)));
      blocksOf.add(layout.blocksOf(s));
      sequences[s] = new AtomicLong();
    }
    this.rpcTimeout = rpcTimeout;
    this.pullTimeout = pullTimeout;
    this.chunkFloats = FloatCodec.DEFAULT_CHUNK_FLOATS;
    this.ownsChannels = ownsChannels;
  }

  /** Opens plaintext channels to {@code host:port} addresses (one per shard, in order). */
  public static PsClient connect(List<String> addresses, BlockLayout layout, Duration rpcTimeout,
      Duration pullTimeout) {
    return connect(addresses, layout, rpcTimeout, pullTimeout, null);
  }

  /** As {@link #connect}, with gRPC client metrics on {@code registry} (may be null). */
  public static PsClient connect(List<String> addresses, BlockLayout layout, Duration rpcTimeout,
      Duration pullTimeout, MeterRegistry registry) {
    List<ManagedChannel> channels = new ArrayList<>();
    for (String a : addresses) {
      NettyChannelBuilder b = NettyChannelBuilder.forTarget(a).usePlaintext()
          .maxInboundMessageSize(16 * 1024 * 1024);
      if (registry != null) {
        b.intercept(new MetricCollectingClientInterceptor(registry));
      }
      channels.add(b.build());
    }
    return new PsClient(channels, layout, rpcTimeout, pullTimeout, true);
  }

  public BlockLayout layout() {
    return layout;
  }

  public String fingerprint() {
    return fingerprint;
  }

  /** Declares the job on every shard (idempotent) and checks they agree on its fingerprint. */
  public String init(JobSpec spec) {
    String fp = null;
    for (int s = 0; s < stubs.size(); s++) {
      InitResponse r = blocking.get(s).withDeadlineAfter(rpcTimeout.toMillis(),
          TimeUnit.MILLISECONDS).init(InitRequest.newBuilder().setSpec(spec).setShard(s).build());
      if (fp != null && !fp.equals(r.getFingerprint())) {
        throw new StatusRuntimeException(Status.FAILED_PRECONDITION.withDescription(
            "shards disagree on the job fingerprint: " + fp + " vs " + r.getFingerprint()));
      }
      fp = r.getFingerprint();
    }
    fingerprint = fp;
    return fp;
  }

  /** Uses a fingerprint obtained elsewhere (a worker joining a job someone else declared). */
  public void useFingerprint(String fp) {
    this.fingerprint = fp;
  }

  /**
   * Pulls every block into {@code dst} (flat layout) once each is at version
   * {@code >= minVersion}; returns the version read of each block, by block id.
   */
  public long[] pull(int worker, float[] dst, long minVersion, long clock) {
    long[] versions = new long[layout.numBlocks()];
    lastPullWaitMicros.set(0);
    List<CompletableFuture<Void>> calls = new ArrayList<>(stubs.size());
    for (int s = 0; s < stubs.size(); s++) {
      if (blocksOf.get(s).isEmpty()) {
        continue;
      }
      CompletableFuture<Void> done = new CompletableFuture<>();
      PullRequest req = PullRequest.newBuilder().setFingerprint(fingerprint).setWorker(worker)
          .setMinVersion(minVersion).setClock(clock).build();
      stubs.get(s).withDeadlineAfter(pullTimeout.toMillis(), TimeUnit.MILLISECONDS)
          .pull(req, new PullReceiver(dst, versions, done));
      calls.add(done);
    }
    awaitAll(calls);
    return versions;
  }

  private final class PullReceiver implements StreamObserver<PullChunk> {
    private final float[] dst;
    private final long[] versions;
    private final CompletableFuture<Void> done;

    PullReceiver(float[] dst, long[] versions, CompletableFuture<Void> done) {
      this.dst = dst;
      this.versions = versions;
      this.done = done;
    }

    @Override
    public void onNext(PullChunk c) {
      BlockChunk chunk = c.getChunk();
      int id = chunk.getBlockId();
      if (id >= layout.numBlocks()) {
        throw Status.INTERNAL.withDescription("shard sent unknown block " + id)
            .asRuntimeException();
      }
      BlockLayout.Block b = layout.block(id);
      int n = FloatCodec.floatCount(chunk.getValues());
      if ((long) chunk.getOffset() + n > b.length()) {
        throw Status.INTERNAL.withDescription("shard sent a chunk past the end of block " + id)
            .asRuntimeException();
      }
      FloatCodec.decode(chunk.getValues(), dst, b.offset() + chunk.getOffset());
      versions[id] = c.getVersion();
      if (c.getWaitedMicros() > 0) {
        lastPullWaitMicros.accumulateAndGet(c.getWaitedMicros(), Math::max);
      }
    }

    @Override
    public void onError(Throwable t) {
      done.completeExceptionally(t);
    }

    @Override
    public void onCompleted() {
      done.complete(null);
    }
  }

  /**
   * Pushes {@code values} (flat layout: a gradient or a model) for the blocks in
   * {@code blockIds} (null: every block), with the versions read, to every shard concurrently.
   * Returns one response per shard that had blocks to push (null for the others).
   */
  public PushResponse[] push(int worker, long step, PushKind kind, float[] values,
      long[] versionsRead, int[] blockIds, float loss) {
    PushResponse[] out = new PushResponse[stubs.size()];
    List<CompletableFuture<Void>> calls = new ArrayList<>(stubs.size());
    for (int s = 0; s < stubs.size(); s++) {
      List<BlockLayout.Block> mine = selected(s, blockIds);
      if (mine.isEmpty()) {
        continue;
      }
      PushHeader.Builder h = PushHeader.newBuilder().setFingerprint(fingerprint)
          .setWorker(worker).setSequence(sequences[s].incrementAndGet()).setStep(step)
          .setKind(kind).setLoss(loss);
      boolean[] pushed = new boolean[layout.numBlocks()];
      for (BlockLayout.Block b : mine) {
        h.addBlocks(BlockRead.newBuilder().setBlockId(b.id()).setVersion(versionsRead[b.id()]));
        pushed[b.id()] = true;
      }
      // The versions read of every other block: the shard measures Age of Information with
      // them.
      for (int id = 0; id < pushed.length; id++) {
        if (!pushed[id]) {
          h.addSeen(BlockRead.newBuilder().setBlockId(id).setVersion(versionsRead[id]));
        }
      }
      final int shard = s;
      CompletableFuture<Void> done = new CompletableFuture<>();
      StreamObserver<PushMessage> req = stubs.get(s)
          .withDeadlineAfter(rpcTimeout.toMillis(), TimeUnit.MILLISECONDS)
          .push(new StreamObserver<>() {
            @Override
            public void onNext(PushResponse r) {
              out[shard] = r;
            }

            @Override
            public void onError(Throwable t) {
              done.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
              done.complete(null);
            }
          });
      try {
        req.onNext(PushMessage.newBuilder().setHeader(h).build());
        for (BlockLayout.Block b : mine) {
          for (int off = 0; off < b.length(); off += chunkFloats) {
            int n = Math.min(chunkFloats, b.length() - off);
            req.onNext(PushMessage.newBuilder().setChunk(BlockChunk.newBuilder()
                .setBlockId(b.id()).setOffset(off)
                .setValues(FloatCodec.encode(values, b.offset() + off, n))).build());
          }
        }
        req.onCompleted();
      } catch (RuntimeException e) {
        req.onError(e);
        throw e;
      }
      calls.add(done);
    }
    awaitAll(calls);
    return out;
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

  /** How long the last pull waited at the slowest shard (barrier, ssp bound), microseconds. */
  public long lastPullWaitMicros() {
    return lastPullWaitMicros.get();
  }

  /** Every shard's status. */
  public List<StatusResponse> status() {
    List<StatusResponse> out = new ArrayList<>();
    for (ShardGrpc.ShardBlockingStub s : blocking) {
      out.add(s.withDeadlineAfter(rpcTimeout.toMillis(), TimeUnit.MILLISECONDS)
          .status(StatusRequest.newBuilder().setFingerprint(fingerprint).build()));
    }
    return out;
  }

  /** Waits for every call; the first failure (a StatusRuntimeException) is rethrown. */
  private static void awaitAll(List<CompletableFuture<Void>> calls) {
    try {
      CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
    } catch (ExecutionException e) {
      throw unwrap(e.getCause());
    }
  }

  private static RuntimeException unwrap(Throwable t) {
    while (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof StatusRuntimeException sre) {
      return sre;
    }
    return Status.fromThrowable(t).asRuntimeException();
  }

  @Override
  public void close() {
    if (!ownsChannels) {
      return;
    }
    for (ManagedChannel c : channels) {
      c.shutdown();
    }
    for (ManagedChannel c : channels) {
      try {
        if (!c.awaitTermination(5, TimeUnit.SECONDS)) {
          c.shutdownNow();
        }
      } catch (InterruptedException e) {
        c.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
  }
}
