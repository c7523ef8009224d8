package io.parasol.worker.client;

import io.grpc.CallCredentials;
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
import io.parasol.proto.v1.HeartbeatRequest;
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
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker's view of the sharded model: pulls and pushes the flat parameter vector block by
 * block, talking to every shard concurrently over one channel per shard.
 *
 * <p>Every call has a deadline. Calls that fail with a transient status (UNAVAILABLE,
 * DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED) are tried again under the {@link RetryPolicy}; a
 * retried push keeps its (worker, sequence) so the shard applies it once. Other failures
 * surface as {@link StatusRuntimeException}s with the shard's status; callers branch on the
 * code.
 */
public final class PsClient implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PsClient.class);

  private final BlockLayout layout;
  private final List<ManagedChannel> channels;
  private final List<ShardGrpc.ShardStub> stubs;
  private final List<List<BlockLayout.Block>> blocksOf;
  private final AtomicLong[] sequences;
  private final Duration rpcTimeout;
  private final Duration pullTimeout;
  private final RetryPolicy retry;
  private final int chunkFloats;
  private final boolean ownsChannels;
  private final ScheduledExecutorService timer;
  private final SplittableRandom jitter = new SplittableRandom();
  private final AtomicLong lastPullWaitMicros = new AtomicLong();
  private final AtomicLong retries = new AtomicLong();
  private volatile String fingerprint = "";

  /** How to reach the shards. */
  public record Connection(List<String> addresses, io.grpc.ChannelCredentials credentials,
      String authority, CallCredentials token) {
    public static Connection plaintext(List<String> addresses) {
      return new Connection(addresses, null, null, null);
    }
  }

  /**
   * @param channels one per shard, in shard order
   * @param rpcTimeout deadline of init, push and status calls
   * @param pullTimeout deadline of pulls, which may wait at a barrier
   */
  public PsClient(List<ManagedChannel> channels, BlockLayout layout, Duration rpcTimeout,
      Duration pullTimeout, RetryPolicy retry, CallCredentials token, boolean ownsChannels) {
    if (channels.size() != layout.numShards()) {
      throw new IllegalArgumentException(
          channels.size() + " shard addresses for a layout of " + layout.numShards() + " shards");
    }
    this.layout = layout;
    this.channels = List.copyOf(channels);
    this.stubs = new ArrayList<>();
    this.blocksOf = new ArrayList<>();
    this.sequences = new AtomicLong[channels.size()];
    for (int s = 0; s < channels.size(); s++) {
      ShardGrpc.ShardStub stub = ShardGrpc.newStub(channels.get(s));
      stubs.add(token == null ? stub : stub.withCallCredentials(token));
      blocksOf.add(layout.blocksOf(s));
      // Sequences start from the wall clock (in thousandths of a millisecond), so a worker
      // that restarts never reuses a sequence its previous incarnation had the shard remember.
      sequences[s] = new AtomicLong(System.currentTimeMillis() * 1000);
    }
    this.rpcTimeout = rpcTimeout;
    this.pullTimeout = pullTimeout;
    this.retry = retry;
    this.chunkFloats = FloatCodec.DEFAULT_CHUNK_FLOATS;
    this.ownsChannels = ownsChannels;
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "ps-client-retry");
      t.setDaemon(true);
      return t;
    });
  }

  /** Opens plaintext channels to {@code host:port} addresses (one per shard, in order). */
  public static PsClient connect(List<String> addresses, BlockLayout layout, Duration rpcTimeout,
      Duration pullTimeout) {
    return connect(Connection.plaintext(addresses), layout, rpcTimeout, pullTimeout, null);
  }

  /** As {@link #connect}, with gRPC client metrics on {@code registry} (may be null). */
  public static PsClient connect(List<String> addresses, BlockLayout layout, Duration rpcTimeout,
      Duration pullTimeout, MeterRegistry registry) {
    return connect(Connection.plaintext(addresses), layout, rpcTimeout, pullTimeout, registry);
  }

  /** Opens channels as {@code conn} says, with client metrics on {@code registry}. */
  public static PsClient connect(Connection conn, BlockLayout layout, Duration rpcTimeout,
      Duration pullTimeout, MeterRegistry registry) {
    List<ManagedChannel> channels = new ArrayList<>();
    for (String a : conn.addresses()) {
      NettyChannelBuilder b = conn.credentials() == null
          ? NettyChannelBuilder.forTarget(a).usePlaintext()
          : NettyChannelBuilder.forTarget(a, conn.credentials());
      if (conn.authority() != null) {
        b.overrideAuthority(conn.authority());
      }
      b.maxInboundMessageSize(16 * 1024 * 1024);
      if (registry != null) {
        b.intercept(new MetricCollectingClientInterceptor(registry));
      }
      channels.add(b.build());
    }
    return new PsClient(channels, layout, rpcTimeout, pullTimeout, RetryPolicy.DEFAULT,
        conn.token(), true);
  }

  public BlockLayout layout() {
    return layout;
  }

  public String fingerprint() {
    return fingerprint;
  }

  /** Calls tried again so far. */
  public long retries() {
    return retries.get();
  }

  // ---------------------------------------------------------------------------------------
  // Retrying calls

  /** One attempt of a call on one shard, completing its future with the result. */
  @FunctionalInterface
  private interface Attempt<T> {
    CompletableFuture<T> start();
  }

  /** Runs {@code attempt} until it succeeds, fails for good, or the policy gives up. */
  private <T> CompletableFuture<T> withRetries(String what, int shard, Attempt<T> attempt) {
    CompletableFuture<T> result = new CompletableFuture<>();
    run(what, shard, attempt, 1, result);
    return result;
  }

  private <T> void run(String what, int shard, Attempt<T> attempt, int n,
      CompletableFuture<T> result) {
    attempt.start().whenComplete((v, err) -> {
      if (err == null) {
        result.complete(v);
        return;
      }
      Status st = Status.fromThrowable(err);
      if (!RetryPolicy.retryable(st.getCode()) || n >= retry.maxAttempts()) {
        result.completeExceptionally(st.asRuntimeException());
        return;
      }
      long pause;
      synchronized (jitter) {
        pause = retry.backoffNanos(n + 1, jitter);
      }
      retries.incrementAndGet();
      log.debug("{} on shard {} failed ({}); attempt {} in {} ms", what, shard, st.getCode(),
          n + 1, pause / 1_000_000);
      timer.schedule(() -> run(what, shard, attempt, n + 1, result), pause,
          TimeUnit.NANOSECONDS);
    });
  }

  // ---------------------------------------------------------------------------------------
  // Init, heartbeat, status

  /** Declares the job on every shard (idempotent) and checks they agree on its fingerprint. */
  public String init(JobSpec spec) {
    List<CompletableFuture<InitResponse>> calls = new ArrayList<>();
    for (int s = 0; s < stubs.size(); s++) {
      final int shard = s;
      calls.add(withRetries("Init", s, () -> unary(obs -> deadline(stubs.get(shard), rpcTimeout)
          .init(InitRequest.newBuilder().setSpec(spec).setShard(shard).build(), obs))));
    }
    String fp = null;
    for (InitResponse r : awaitAll(calls)) {
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

  /** Renews this worker's lease on every shard; failures are returned, not thrown. */
  public List<Status> heartbeat(int worker, long clock) {
    List<CompletableFuture<Status>> calls = new ArrayList<>();
    HeartbeatRequest req = HeartbeatRequest.newBuilder().setFingerprint(fingerprint)
        .setWorker(worker).setClock(clock).build();
    for (int s = 0; s < stubs.size(); s++) {
      final int shard = s;
      calls.add(this.<io.parasol.proto.v1.HeartbeatResponse>unary(
              obs -> deadline(stubs.get(shard), rpcTimeout).heartbeat(req, obs))
          .handle((r, err) -> err == null ? Status.OK : Status.fromThrowable(err)));
    }
    return awaitAll(calls);
  }

  /** Every shard's status. */
  public List<StatusResponse> status() {
    List<CompletableFuture<StatusResponse>> calls = new ArrayList<>();
    for (int s = 0; s < stubs.size(); s++) {
      final int shard = s;
      calls.add(withRetries("Status", s, () -> unary(obs -> deadline(stubs.get(shard),
          rpcTimeout).status(StatusRequest.newBuilder().setFingerprint(fingerprint).build(),
              obs))));
    }
    return awaitAll(calls);
  }

  // ---------------------------------------------------------------------------------------
  // Pull

  /**
   * Pulls every block into {@code dst} (flat layout) once each is at version
   * {@code >= minVersion}; returns the version read of each block, by block id.
   */
  public long[] pull(int worker, float[] dst, long minVersion, long clock) {
    long[] versions = new long[layout.numBlocks()];
    lastPullWaitMicros.set(0);
    List<CompletableFuture<Void>> calls = new ArrayList<>(stubs.size());
    PullRequest req = PullRequest.newBuilder().setFingerprint(fingerprint).setWorker(worker)
        .setMinVersion(minVersion).setClock(clock).build();
    for (int s = 0; s < stubs.size(); s++) {
      if (blocksOf.get(s).isEmpty()) {
        continue;
      }
      final int shard = s;
      calls.add(withRetries("Pull", s, () -> {
        CompletableFuture<Void> done = new CompletableFuture<>();
        deadline(stubs.get(shard), pullTimeout).pull(req, new PullReceiver(dst, versions, done));
        return done;
      }));
    }
    awaitAll(calls);
    return versions;
  }

  /** How long the last pull waited at the slowest shard (barrier, ssp bound), microseconds. */
  public long lastPullWaitMicros() {
    return lastPullWaitMicros.get();
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

  // ---------------------------------------------------------------------------------------
  // Push

  /** One shard's answer to a push: a response, or the status it failed with. */
  public record ShardOutcome(int shard, PushResponse response, Status status) {
    public boolean ok() {
      return status == null || status.isOk();
    }
  }

  /**
   * Pushes {@code values} (flat layout: a gradient or a model) for the blocks in
   * {@code blockIds} (null: every block) with the versions read, to every shard concurrently;
   * shard s's push is tagged with step {@code steps[s]}. Returns one outcome per shard that had
   * blocks to push (null for the others); nothing is thrown for a shard's refusal.
   */
  public ShardOutcome[] pushEach(int worker, long[] steps, PushKind kind, float[] values,
      long[] versionsRead, int[] blockIds, float loss) {
    List<CompletableFuture<ShardOutcome>> calls = new ArrayList<>(stubs.size());
    for (int s = 0; s < stubs.size(); s++) {
      List<BlockLayout.Block> mine = selected(s, blockIds);
      if (mine.isEmpty()) {
        continue;
      }
      PushHeader header = header(worker, s, steps[s], kind, mine, versionsRead, loss);
      List<PushMessage> chunks = chunks(mine, values);
      final int shard = s;
      calls.add(withRetries("Push", s, () -> sendPush(shard, header, chunks))
          .handle((r, err) -> err == null ? new ShardOutcome(shard, r, null)
              : new ShardOutcome(shard, null, Status.fromThrowable(err))));
    }
    ShardOutcome[] out = new ShardOutcome[stubs.size()];
    for (ShardOutcome o : awaitAll(calls)) {
      out[o.shard()] = o;
    }
    return out;
  }

  /**
   * As {@link #pushEach} with one step for every shard; throws the first shard's failure.
   * Returns one response per shard that had blocks to push (null for the others).
   */
  public PushResponse[] push(int worker, long step, PushKind kind, float[] values,
      long[] versionsRead, int[] blockIds, float loss) {
    long[] steps = new long[stubs.size()];
    java.util.Arrays.fill(steps, step);
    PushResponse[] out = new PushResponse[stubs.size()];
    for (ShardOutcome o : pushEach(worker, steps, kind, values, versionsRead, blockIds, loss)) {
      if (o == null) {
        continue;
      }
      if (!o.ok()) {
        throw o.status().asRuntimeException();
      }
      out[o.shard()] = o.response();
    }
    return out;
  }

  private PushHeader header(int worker, int shard, long step, PushKind kind,
      List<BlockLayout.Block> mine, long[] versionsRead, float loss) {
    PushHeader.Builder h = PushHeader.newBuilder().setFingerprint(fingerprint)
        .setWorker(worker).setSequence(sequences[shard].incrementAndGet()).setStep(step)
        .setKind(kind).setLoss(loss);
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
    return h.build();
  }

  private List<PushMessage> chunks(List<BlockLayout.Block> mine, float[] values) {
    List<PushMessage> out = new ArrayList<>();
    for (BlockLayout.Block b : mine) {
      for (int off = 0; off < b.length(); off += chunkFloats) {
        int n = Math.min(chunkFloats, b.length() - off);
        out.add(PushMessage.newBuilder().setChunk(BlockChunk.newBuilder()
            .setBlockId(b.id()).setOffset(off)
            .setValues(FloatCodec.encode(values, b.offset() + off, n))).build());
      }
    }
    return out;
  }

  private CompletableFuture<PushResponse> sendPush(int shard, PushHeader header,
      List<PushMessage> chunks) {
    CompletableFuture<PushResponse> done = new CompletableFuture<>();
    StreamObserver<PushMessage> req = deadline(stubs.get(shard), rpcTimeout)
        .push(new StreamObserver<>() {
          private PushResponse resp;

          @Override
          public void onNext(PushResponse r) {
            resp = r;
          }

          @Override
          public void onError(Throwable t) {
            done.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {
            done.complete(resp);
          }
        });
    try {
      req.onNext(PushMessage.newBuilder().setHeader(header).build());
      for (PushMessage m : chunks) {
        req.onNext(m);
      }
      req.onCompleted();
    } catch (RuntimeException e) {
      req.onError(e);
      done.completeExceptionally(e);
    }
    return done;
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

  // ---------------------------------------------------------------------------------------
  // Plumbing

  private static ShardGrpc.ShardStub deadline(ShardGrpc.ShardStub stub, Duration d) {
    return stub.withDeadlineAfter(d.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Adapts a unary async call to a future. */
  private <T> CompletableFuture<T> unary(java.util.function.Consumer<StreamObserver<T>> call) {
    CompletableFuture<T> f = new CompletableFuture<>();
    call.accept(new StreamObserver<>() {
      private T value;

      @Override
      public void onNext(T v) {
        value = v;
      }

      @Override
      public void onError(Throwable t) {
        f.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        f.complete(value);
      }
    });
    return f;
  }

  /** Waits for every call; the first failure (a StatusRuntimeException) is rethrown. */
  private static <T> List<T> awaitAll(List<CompletableFuture<T>> calls) {
    try {
      CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get();
      List<T> out = new ArrayList<>(calls.size());
      for (CompletableFuture<T> c : calls) {
        out.add(c.get());
      }
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
    } catch (ExecutionException e) {
      Throwable t = e.getCause();
      throw t instanceof StatusRuntimeException sre ? sre : Status.fromThrowable(t)
          .asRuntimeException();
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
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
