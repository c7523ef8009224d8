package io.parasol.client;

import io.grpc.CallCredentials;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.grpc.MetricCollectingClientInterceptor;
import io.parasol.common.BlockLayout;
import io.parasol.common.ChunkValues;
import io.parasol.common.FloatCodec;
import io.parasol.common.PushFrame;
import io.parasol.common.ReceivedChunk;
import io.parasol.common.ReceivedPull;
import io.parasol.proto.v1.BlockRead;
import io.parasol.proto.v1.HeartbeatRequest;
import io.parasol.proto.v1.InitRequest;
import io.parasol.proto.v1.InitResponse;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.PullRequest;
import io.parasol.proto.v1.PushHeader;
import io.parasol.proto.v1.PushKind;
import io.parasol.proto.v1.PushMessage;
import io.parasol.proto.v1.PushResponse;
import io.parasol.proto.v1.ShardGrpc;
import io.parasol.proto.v1.StatusRequest;
import io.parasol.proto.v1.StatusResponse;
import io.parasol.proto.v1.ValueEncoding;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
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
 * <p>The data path copies as little as it can. Pushed chunks are {@link PushFrame}s that read
 * the values from the worker's own memory, a {@link ByteBuffer} of float32 values (for example an
 * ND4J array's off-heap buffer) or a
 * {@code float[]}, when gRPC serialises them, straight into the transport's buffers. Pulled
 * chunks ({@link ReceivedPull}) are decoded from the transport's receive buffers straight into
 * the destination, an array or off-heap memory. Both directions write only while the stream is
 * ready (flow control), so a push or pull never piles up in the transport. Chunk size, the
 * HTTP/2 flow-control window and the wire precision come from {@link Transport}.
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
  private final ValueEncoding encoding;
  /** A push stream takes another chunk while less than this many bytes wait to be sent. */
  private final int readyBytes;
  private final boolean ownsChannels;
  private final ScheduledExecutorService timer;
  private final SplittableRandom jitter = new SplittableRandom();
  private final AtomicLong lastPullWaitMicros = new AtomicLong();
  private final AtomicLong retries = new AtomicLong();
  private volatile String fingerprint = "";
  private volatile Duration connectTimeout = Duration.ofSeconds(5);
  /** No retry starts later than this after its call began (see {@link #retryBudget}). */
  private volatile long retryBudgetNanos = Long.MAX_VALUE;

  /**
   * Transport settings of the data path.
   *
   * @param chunkFloats values per chunk message (default {@link FloatCodec#DEFAULT_CHUNK_FLOATS})
   * @param flowControlWindow the channels' HTTP/2 flow-control window in bytes; 0 keeps gRPC's
   *     default (1 MiB, grown by bandwidth-delay probing)
   * @param encoding wire precision of pushed and pulled values
   */
  public record Transport(int chunkFloats, int flowControlWindow, ValueEncoding encoding) {
    /** The window {@link #DEFAULT} uses: 16 MiB (see the README's Performance section). */
    public static final int DEFAULT_WINDOW = 16 * 1024 * 1024;

    public static final Transport DEFAULT = new Transport(FloatCodec.DEFAULT_CHUNK_FLOATS,
        DEFAULT_WINDOW, ValueEncoding.VALUE_ENCODING_FP32);

    public Transport {
      if (chunkFloats <= 0) {
        throw new IllegalArgumentException("chunk size must be positive, got " + chunkFloats);
      }
      if (flowControlWindow < 0) {
        throw new IllegalArgumentException("flow-control window must be >= 0, got "
            + flowControlWindow);
      }
      FloatCodec.bytesPerValue(encoding);
    }

    public Transport withEncoding(ValueEncoding e) {
      return new Transport(chunkFloats, flowControlWindow, e);
    }

    public Transport withChunkFloats(int n) {
      return new Transport(n, flowControlWindow, encoding);
    }

    public Transport withFlowControlWindow(int w) {
      return new Transport(chunkFloats, w, encoding);
    }
  }

  /**
   * Pull, with chunks parsed by {@link ReceivedPull#marshaller()}: their values stay in the
   * transport's receive buffers until {@link PullReceiver#onNext} decodes them straight into
   * the destination and releases them.
   */
  private static final MethodDescriptor<PullRequest, ReceivedPull> PULL_METHOD =
      ShardGrpc.getPullMethod().toBuilder(ShardGrpc.getPullMethod().getRequestMarshaller(),
          ReceivedPull.marshaller()).build();

  /**
   * Push, as {@link PushFrame}s: chunk values are read from the worker's array or off-heap
   * vector when gRPC serialises them, with no intermediate copy of the chunk.
   */
  private static final MethodDescriptor<PushFrame, PushResponse> PUSH_METHOD =
      ShardGrpc.getPushMethod().toBuilder(PushFrame.marshaller(),
          ShardGrpc.getPushMethod().getResponseMarshaller()).build();

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
    this(channels, layout, rpcTimeout, pullTimeout, retry, token, ownsChannels,
        Transport.DEFAULT);
  }

  /** As above, with the data path's chunk size and wire precision from {@code transport}. */
  public PsClient(List<ManagedChannel> channels, BlockLayout layout, Duration rpcTimeout,
      Duration pullTimeout, RetryPolicy retry, CallCredentials token, boolean ownsChannels,
      Transport transport) {
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
    this.chunkFloats = transport.chunkFloats();
    this.encoding = transport.encoding();
    this.readyBytes = FloatCodec.streamReadyBytes(chunkFloats);
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
    return connect(conn, layout, rpcTimeout, pullTimeout, registry, Transport.DEFAULT);
  }

  /** As above, with the data path's settings from {@code transport}. */
  public static PsClient connect(Connection conn, BlockLayout layout, Duration rpcTimeout,
      Duration pullTimeout, MeterRegistry registry, Transport transport) {
    List<ManagedChannel> channels = new ArrayList<>();
    for (String a : conn.addresses()) {
      NettyChannelBuilder b = conn.credentials() == null
          ? NettyChannelBuilder.forTarget(a).usePlaintext()
          : NettyChannelBuilder.forTarget(a, conn.credentials());
      if (conn.authority() != null) {
        b.overrideAuthority(conn.authority());
      }
      b.maxInboundMessageSize(16 * 1024 * 1024);
      if (transport.flowControlWindow() > 0) {
        b.flowControlWindow(transport.flowControlWindow());
      }
      // Callbacks (decoding a pulled chunk, writing the next push chunk, completing a future)
      // never block, so they run on the channel's event loop: a call then wakes no executor
      // thread on its way back, which on a busy 2-core machine costs a scheduler wait each.
      // -Dparasol.directExecutor=false restores gRPC's default cached thread pool.
      if (Boolean.parseBoolean(System.getProperty("parasol.directExecutor", "true"))) {
        b.directExecutor();
      }
      if (registry != null) {
        b.intercept(new MetricCollectingClientInterceptor(registry));
      }
      channels.add(b.build());
    }
    return new PsClient(channels, layout, rpcTimeout, pullTimeout, RetryPolicy.DEFAULT,
        conn.token(), true, transport);
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

  /**
   * Stops retrying a call once {@code budget} has passed since it began: a retry that would
   * start later fails the call with the last attempt's status instead. Unlimited by default.
   */
  void retryBudget(Duration budget) {
    retryBudgetNanos = budget.toNanos();
  }

  /** Runs {@code attempt} until it succeeds, fails for good, or the policy gives up. */
  private <T> CompletableFuture<T> withRetries(String what, int shard, Attempt<T> attempt) {
    CompletableFuture<T> result = new CompletableFuture<>();
    long budget = retryBudgetNanos;
    long start = System.nanoTime();
    long giveUpAt = budget >= Long.MAX_VALUE / 2 ? Long.MAX_VALUE : start + budget;
    run(what, shard, attempt, 1, result, giveUpAt);
    return result;
  }

  private <T> void run(String what, int shard, Attempt<T> attempt, int n,
      CompletableFuture<T> result, long giveUpAt) {
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
      if (giveUpAt != Long.MAX_VALUE && System.nanoTime() + pause - giveUpAt >= 0) {
        result.completeExceptionally(st.asRuntimeException());
        return;
      }
      retries.incrementAndGet();
      log.debug("{} on shard {} failed ({}); attempt {} in {} ms", what, shard, st.getCode(),
          n + 1, pause / 1_000_000);
      timer.schedule(() -> run(what, shard, attempt, n + 1, result, giveUpAt), pause,
          TimeUnit.NANOSECONDS);
    });
  }

  // ---------------------------------------------------------------------------------------
  // Init, heartbeat, status

  /**
   * How long {@link #init} keeps trying to reach a shard that does not answer (refused,
   * unresolvable, TLS handshake failing) before it gives up; default 5 s. Shards that are still
   * starting get this long.
   */
  public void connectTimeout(Duration d) {
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException("connect timeout must be positive, got " + d);
    }
    this.connectTimeout = d;
  }

  /**
   * Declares the job on every shard (idempotent) and checks they agree on its fingerprint.
   *
   * <p>Each shard is tried with backoff for at most {@link #connectTimeout}; a shard that cannot
   * be reached in that time fails the call with UNAVAILABLE and a description naming the shard,
   * its address, what happened (the transport's cause: connection refused, unknown host, TLS
   * handshake) and what to check. Any other refusal (a different job's spec: FAILED_PRECONDITION;
   * a bad spec: INVALID_ARGUMENT; a token refused: UNAUTHENTICATED) surfaces as the shard said.
   */
  public String init(JobSpec spec) {
    List<CompletableFuture<InitResponse>> calls = new ArrayList<>();
    for (int s = 0; s < stubs.size(); s++) {
      final int shard = s;
      InitRequest req = InitRequest.newBuilder().setSpec(spec).setShard(shard).build();
      calls.add(reach(shard, () -> unary(obs -> deadline(stubs.get(shard), rpcTimeout)
          .init(req, obs))));
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

  /**
   * A first call on a shard: tried with backoff while the shard is unreachable, for at most the
   * connect timeout; then UNAVAILABLE naming the shard, the address and the cause.
   */
  private <T> CompletableFuture<T> reach(int shard, Attempt<T> attempt) {
    CompletableFuture<T> result = new CompletableFuture<>();
    long giveUp = System.nanoTime() + connectTimeout.toNanos();
    reachAttempt(shard, attempt, 1, giveUp, result);
    return result;
  }

  private <T> void reachAttempt(int shard, Attempt<T> attempt, int n, long giveUp,
      CompletableFuture<T> result) {
    attempt.start().whenComplete((v, err) -> {
      if (err == null) {
        result.complete(v);
        return;
      }
      Status st = Status.fromThrowable(err);
      long pause;
      synchronized (jitter) {
        pause = Math.min(retry.backoffNanos(n + 1, jitter), 1_000_000_000L);
      }
      boolean transport = st.getCode() == Status.Code.UNAVAILABLE
          || st.getCode() == Status.Code.DEADLINE_EXCEEDED;
      if (!transport) {
        result.completeExceptionally(st.asRuntimeException());
        return;
      }
      if (System.nanoTime() + pause > giveUp) {
        result.completeExceptionally(unreachable(shard, st, n).asRuntimeException());
        return;
      }
      retries.incrementAndGet();
      timer.schedule(() -> reachAttempt(shard, attempt, n + 1, giveUp, result), pause,
          TimeUnit.NANOSECONDS);
    });
  }

  /** UNAVAILABLE: which shard, where, what the transport said, what to check. */
  private Status unreachable(int shard, Status last, int attempts) {
    String address = channels.get(shard).authority();
    Throwable cause = last.getCause();
    while (cause != null && cause.getCause() != null) {
      cause = cause.getCause();
    }
    String why = cause != null && cause.getMessage() != null ? cause.getMessage()
        : last.getCode() + (last.getDescription() == null ? "" : ": " + last.getDescription());
    String hint = why.toLowerCase(java.util.Locale.ROOT).contains("ssl")
        || why.toLowerCase(java.util.Locale.ROOT).contains("handshake")
        || why.toLowerCase(java.util.Locale.ROOT).contains("certificate")
        ? "check the TLS settings (--tls, --tls-ca, --tls-authority) against the shard's"
        : "check that `parasol server --shard " + shard + "` runs there and listens on that"
            + " address, or give shards that are still starting more --connect-timeout";
    return Status.UNAVAILABLE.withDescription("cannot reach shard " + shard + " at " + address
        + " (" + attempts + " attempts in " + connectTimeout.toMillis() / 1000.0 + " s): " + why
        + "; " + hint);
  }

  /** Uses a fingerprint obtained elsewhere (a worker joining a job someone else declared). */
  public void useFingerprint(String fp) {
    this.fingerprint = fp;
  }

  /** Renews this worker's lease on every shard; failures are returned, not thrown. */
  public List<Status> heartbeat(int worker, long clock) {
    return heartbeat(worker, clock, false);
  }

  /**
   * Tells every shard that this worker finished, so that it leaves their live sets now rather
   * than when its lease expires; failures are returned, not thrown.
   */
  public List<Status> leave(int worker, long clock) {
    return heartbeat(worker, clock, true);
  }

  private List<Status> heartbeat(int worker, long clock, boolean leaving) {
    List<CompletableFuture<Status>> calls = new ArrayList<>();
    HeartbeatRequest req = HeartbeatRequest.newBuilder().setFingerprint(fingerprint)
        .setWorker(worker).setClock(clock).setLeaving(leaving).build();
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

  /** Where pulled values go: the flat vector, as an array or as (off-heap) float memory. */
  @FunctionalInterface
  private interface Sink {
    /** Decodes {@code values} (in {@code e}) to the flat vector from index {@code at}. */
    void put(ChunkValues values, ValueEncoding e, int at);
  }

  /**
   * Pulls every block into {@code dst} (flat layout) once each is at version
   * {@code >= minVersion}; returns the version read of each block, by block id.
   */
  public long[] pull(int worker, float[] dst, long minVersion, long clock) {
    return await(pullAsync(worker, dst, minVersion, clock));
  }

  /**
   * As {@link #pull(int, float[], long, long)}, into a float vector of length d (off-heap
   * memory; decoded in place without an intermediate array).
   */
  public long[] pull(int worker, ByteBuffer dst, long minVersion, long clock) {
    return await(pullAsync(worker, dst, minVersion, clock));
  }

  /**
   * Starts a pull into {@code dst}; the future completes with the versions read (or a
   * {@link StatusRuntimeException}). {@code dst} must not be read until then.
   */
  public CompletableFuture<long[]> pullAsync(int worker, float[] dst, long minVersion,
      long clock) {
    checkLength(dst.length);
    return pullAsync(worker, (values, e, at) -> values.decodeTo(e, dst, at, false), minVersion,
        clock);
  }

  /** As {@link #pullAsync(int, float[], long, long)}, into an off-heap float vector. */
  public CompletableFuture<long[]> pullAsync(int worker, ByteBuffer dst, long minVersion,
      long clock) {
    FloatBuffer out = bytesOf(dst).asFloatBuffer();
    return pullAsync(worker, (values, e, at) -> values.decodeTo(e, out, at), minVersion, clock);
  }

  private CompletableFuture<long[]> pullAsync(int worker, Sink sink, long minVersion,
      long clock) {
    long[] versions = new long[layout.numBlocks()];
    lastPullWaitMicros.set(0);
    List<CompletableFuture<Void>> calls = new ArrayList<>(stubs.size());
    PullRequest req = PullRequest.newBuilder().setFingerprint(fingerprint).setWorker(worker)
        .setMinVersion(minVersion).setClock(clock).setEncoding(encoding).build();
    for (int s = 0; s < stubs.size(); s++) {
      if (blocksOf.get(s).isEmpty()) {
        continue;
      }
      final int shard = s;
      calls.add(withRetries("Pull", s, () -> {
        CompletableFuture<Void> done = new CompletableFuture<>();
        ClientCalls.asyncServerStreamingCall(newCall(shard, pullTimeout, PULL_METHOD), req,
            new PullReceiver(sink, versions, done));
        return done;
      }));
    }
    return allOf(calls).thenApply(v -> versions);
  }

  /** How long the last pull waited at the slowest shard (barrier, ssp bound), microseconds. */
  public long lastPullWaitMicros() {
    return lastPullWaitMicros.get();
  }

  private final class PullReceiver implements StreamObserver<ReceivedPull> {
    private final Sink sink;
    private final long[] versions;
    private final CompletableFuture<Void> done;

    PullReceiver(Sink sink, long[] versions, CompletableFuture<Void> done) {
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

    private void take(ReceivedPull c) {
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

  /** Values to push: the flat vector, as an array or as (off-heap) float memory. */
  @FunctionalInterface
  private interface Source {
    /** Block {@code b}'s values {@code [off, off+n)} as a chunk frame in {@code e}. */
    PushFrame chunk(BlockLayout.Block b, int off, int n, ValueEncoding e);
  }

  /**
   * Pushes {@code values} (flat layout: a gradient or a model) for the blocks in
   * {@code blockIds} (null: every block) with the versions read, to every shard concurrently;
   * shard s's push is tagged with step {@code steps[s]}. Returns one outcome per shard that had
   * blocks to push (null for the others); nothing is thrown for a shard's refusal.
   */
  public ShardOutcome[] pushEach(int worker, long[] steps, PushKind kind, float[] values,
      long[] versionsRead, int[] blockIds, float loss) {
    return await(pushEachAsync(worker, steps, kind, values, versionsRead, blockIds, loss));
  }

  /**
   * As {@link #pushEach(int, long[], PushKind, float[], long[], int[], float)} for a float
   * vector of length d in off-heap memory (an ND4J gradient), whose chunks wrap that memory in
   * float32.
   */
  public ShardOutcome[] pushEach(int worker, long[] steps, PushKind kind, ByteBuffer values,
      long[] versionsRead, int[] blockIds, float loss) {
    return await(pushEachAsync(worker, steps, kind, values, versionsRead, blockIds, loss));
  }

  /**
   * Starts {@link #pushEach}; {@code values} must not change until the future completes. The
   * future never completes exceptionally for a shard's refusal (see {@link ShardOutcome}).
   */
  public CompletableFuture<ShardOutcome[]> pushEachAsync(int worker, long[] steps,
      PushKind kind, float[] values, long[] versionsRead, int[] blockIds, float loss) {
    checkLength(values.length);
    return pushEachAsync(worker, steps, kind, arraySource(values), versionsRead, blockIds, loss);
  }

  /**
   * As {@link #pushEachAsync(int, long[], PushKind, float[], long[], int[], float)} for a float
   * vector of length d in off-heap memory (an ND4J gradient): in float32 its chunks wrap that
   * memory, which must not change until the future completes.
   */
  public CompletableFuture<ShardOutcome[]> pushEachAsync(int worker, long[] steps,
      PushKind kind, ByteBuffer values, long[] versionsRead, int[] blockIds, float loss) {
    return pushEachAsync(worker, steps, kind, bufferSource(bytesOf(values)), versionsRead,
        blockIds, loss);
  }

  private CompletableFuture<ShardOutcome[]> pushEachAsync(int worker, long[] steps,
      PushKind kind, Source values, long[] versionsRead, int[] blockIds, float loss) {
    List<CompletableFuture<ShardOutcome>> calls = new ArrayList<>(stubs.size());
    for (int s = 0; s < stubs.size(); s++) {
      List<BlockLayout.Block> mine = selected(s, blockIds);
      if (mine.isEmpty()) {
        continue;
      }
      PushHeader header = header(worker, s, steps[s], kind, mine, versionsRead, loss);
      List<PushFrame> chunks = new ArrayList<>();
      for (BlockLayout.Block b : mine) {
        for (int off = 0; off < b.length(); off += chunkFloats) {
          chunks.add(values.chunk(b, off, Math.min(chunkFloats, b.length() - off), encoding));
        }
      }
      final int shard = s;
      calls.add(withRetries("Push", s, () -> sendPush(shard, header, chunks))
          .handle((r, err) -> err == null ? new ShardOutcome(shard, r, null)
              : new ShardOutcome(shard, null, Status.fromThrowable(err))));
    }
    return allOf(calls).thenApply(v -> {
      ShardOutcome[] out = new ShardOutcome[stubs.size()];
      for (CompletableFuture<ShardOutcome> c : calls) {
        ShardOutcome o = c.join();
        out[o.shard()] = o;
      }
      return out;
    });
  }

  /**
   * As {@link #pushEach} with one step for every shard; throws the first shard's failure.
   * Returns one response per shard that had blocks to push (null for the others).
   */
  public PushResponse[] push(int worker, long step, PushKind kind, float[] values,
      long[] versionsRead, int[] blockIds, float loss) {
    long[] steps = new long[stubs.size()];
    java.util.Arrays.fill(steps, step);
    return responses(pushEach(worker, steps, kind, values, versionsRead, blockIds, loss));
  }

  /** As {@link #push(int, long, PushKind, float[], long[], int[], float)}, from off-heap. */
  public PushResponse[] push(int worker, long step, PushKind kind, ByteBuffer values,
      long[] versionsRead, int[] blockIds, float loss) {
    long[] steps = new long[stubs.size()];
    java.util.Arrays.fill(steps, step);
    return responses(await(pushEachAsync(worker, steps, kind, values, versionsRead, blockIds,
        loss)));
  }

  private PushResponse[] responses(ShardOutcome[] outcomes) {
    PushResponse[] out = new PushResponse[stubs.size()];
    for (ShardOutcome o : outcomes) {
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

  /** A {@code float[]} source. */
  private static Source arraySource(float[] values) {
    return (b, off, n, e) -> PushFrame.chunk(b.id(), off, e, values, b.offset() + off, n);
  }

  /** An off-heap source: native-order float32 bytes, read in place when sent. */
  private static Source bufferSource(ByteBuffer raw) {
    return (b, off, n, e) -> PushFrame.chunk(b.id(), off, e, raw, b.offset() + off, n);
  }

  /**
   * One push stream: the header, then the chunks, each written only while the transport is
   * ready for more (gRPC's flow control), so at most about {@link #readyBytes} of the push sit
   * in the transport's buffers at a time instead of all of it.
   */
  private CompletableFuture<PushResponse> sendPush(int shard, PushHeader header,
      List<PushFrame> chunks) {
    CompletableFuture<PushResponse> done = new CompletableFuture<>();
    ClientCall<PushFrame, PushResponse> call = newCall(shard, rpcTimeout, PUSH_METHOD);
    ClientCalls.asyncClientStreamingCall(call,
        new ClientResponseObserver<PushFrame, PushResponse>() {
          private ClientCallStreamObserver<PushFrame> req;
          private int next = -1;
          private PushResponse resp;

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
              done.completeExceptionally(e);
            }
          }

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

  /**
   * A call of {@code method} on a shard, with the stub's credentials and a deadline; the call
   * is ready for more messages while less than {@link #readyBytes} wait in the transport.
   */
  private <Q, R> ClientCall<Q, R> newCall(int shard, Duration d, MethodDescriptor<Q, R> method) {
    ShardGrpc.ShardStub stub = deadline(stubs.get(shard), d);
    return stub.getChannel().newCall(method,
        stub.getCallOptions().withOnReadyThreshold(readyBytes));
  }

  private void checkLength(int n) {
    if (n < layout.dimension()) {
      throw new IllegalArgumentException("a vector of " + n + " values for a model of "
          + layout.dimension());
    }
  }

  /**
   * The first d float32 values of {@code raw} (native byte order, from its position on) as a
   * native-order slice; read and written in place.
   */
  private ByteBuffer bytesOf(ByteBuffer raw) {
    long need = (long) layout.dimension() * Float.BYTES;
    if (raw.remaining() < need) {
      throw new IllegalArgumentException("a buffer of " + raw.remaining() / Float.BYTES
          + " floats for a model of " + layout.dimension());
    }
    return raw.slice(raw.position(), (int) need).order(ByteOrder.nativeOrder());
  }

  /** Completes when every call did, exceptionally (a StatusRuntimeException) if one failed. */
  private static <T> CompletableFuture<Void> allOf(List<CompletableFuture<T>> calls) {
    return CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new));
  }

  /** Waits for a future; its failure is rethrown as a StatusRuntimeException. */
  private static <T> T await(CompletableFuture<T> f) {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
    } catch (ExecutionException e) {
      Throwable t = e.getCause();
      throw t instanceof StatusRuntimeException sre ? sre : Status.fromThrowable(t)
          .asRuntimeException();
    }
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
