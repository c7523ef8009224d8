package io.parasol.client;

import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.grpc.MetricCollectingClientInterceptor;
import io.parasol.common.BlockLayout;
import io.parasol.common.FloatCodec;
import io.parasol.common.PushFrame;
import io.parasol.common.ReceivedPull;
import io.parasol.proto.v1.HeartbeatRequest;
import io.parasol.proto.v1.HeartbeatResponse;
import io.parasol.proto.v1.InitRequest;
import io.parasol.proto.v1.InitResponse;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.PushKind;
import io.parasol.proto.v1.PushResponse;
import io.parasol.proto.v1.StatusRequest;
import io.parasol.proto.v1.StatusResponse;
import io.parasol.proto.v1.ValueEncoding;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

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
  private final BlockLayout layout;
  private final ShardCalls calls;
  private final Incarnations incarnations;
  private final RollbackLosses losses;
  private final PullPath pulls;
  private final PushPath pushes;
  private final Duration rpcTimeout;
  /** A PushPull's deadline: the longer of a push's and a pull's (which may wait at a barrier). */
  private final Duration pushPullTimeout;
  /** The spec last declared with {@link #init}, for {@link #redeclare}; null if none. */
  private volatile JobSpec declared;

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
    this.calls = new ShardCalls(channels, retry, token, ownsChannels,
        FloatCodec.streamReadyBytes(transport.chunkFloats()));
    this.incarnations = new Incarnations(layout);
    this.pulls = new PullPath(layout, calls, incarnations, pullTimeout, transport.encoding());
    this.pushes = new PushPath(layout, calls, incarnations, rpcTimeout,
        transport.chunkFloats(), transport.encoding());
    this.rpcTimeout = rpcTimeout;
    this.pushPullTimeout = pullTimeout.compareTo(rpcTimeout) > 0 ? pullTimeout : rpcTimeout;
    this.losses = new RollbackLosses(calls, rpcTimeout);
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
    return calls.fingerprint();
  }

  /** Calls tried again so far. */
  public long retries() {
    return calls.retries();
  }

  /**
   * Stops retrying a call once {@code budget} has passed since it began: a retry that would
   * start later fails the call with the last attempt's status instead. Unlimited by default.
   */
  void retryBudget(Duration budget) {
    calls.retryBudget(budget);
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
    calls.connectTimeout(d);
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
    declared = spec;
    this.calls.jobName(spec.getJobName());
    List<CompletableFuture<InitResponse>> calls = new ArrayList<>();
    for (int s = 0; s < this.calls.numShards(); s++) {
      final int shard = s;
      InitRequest req = InitRequest.newBuilder().setSpec(spec).setShard(shard).build();
      calls.add(this.calls.reach(shard, () -> ShardCalls.unary(obs -> this.calls.stub(shard,
          rpcTimeout).init(req, obs))));
    }
    String fp = null;
    List<InitResponse> answers = Futures.awaitAll(calls);
    for (int s = 0; s < answers.size(); s++) {
      incarnations.observe(s, answers.get(s).getIncarnation());
    }
    for (InitResponse r : answers) {
      if (fp != null && !fp.equals(r.getFingerprint())) {
        throw new StatusRuntimeException(Status.FAILED_PRECONDITION.withDescription(
            "shards disagree on the job fingerprint: " + fp + " vs " + r.getFingerprint()));
      }
      fp = r.getFingerprint();
    }
    this.calls.fingerprint(fp);
    return fp;
  }

  /**
   * Declares the job again with the spec last given to {@link #init}: what a worker does when a
   * shard lost its job ({@link ShardRollback.Kind#JOB_LOST}). FAILED_PRECONDITION, with a
   * description, when this client never declared the job (it joined with
   * {@link #useFingerprint}) and so cannot.
   */
  public String redeclare() {
    JobSpec spec = declared;
    if (spec == null) {
      throw Status.FAILED_PRECONDITION.withDescription("a shard lost its job and this worker"
          + " cannot declare it again (it joined with a fingerprint, not a spec)")
          .asRuntimeException();
    }
    return init(spec);
  }

  /**
   * The shard rollbacks noticed since the last call, oldest first: each change of a shard's
   * incarnation once, seen on any response or refusal (see {@link ShardRollback}), each with
   * the updates it lost worked out: this call asks each rolled-back shard's Status (one call,
   * bounded by the RPC timeout) for the versions it restored; the loss stays
   * {@link ShardRollback#UNKNOWN} where the shard cannot say.
   */
  public List<ShardRollback> drainRollbacks() {
    List<ShardRollback> out = new ArrayList<>();
    for (ShardRollback r : incarnations.drain()) {
      out.add(losses.resolve(r));
    }
    return out;
  }

  /** Shard rollbacks noticed so far. */
  public long rollbacks() {
    return incarnations.total();
  }

  /** Uses a fingerprint obtained elsewhere (a worker joining a job someone else declared). */
  public void useFingerprint(String fp) {
    calls.fingerprint(fp);
  }

  /**
   * Joins job {@code jobName} (its spec's job_name) with a fingerprint obtained elsewhere:
   * every call names the job and carries the fingerprint.
   */
  public void useJob(String jobName, String fp) {
    calls.jobName(jobName);
    calls.fingerprint(fp);
  }

  /** The job every call names (empty: the shards' default job). */
  public String jobName() {
    return calls.jobName();
  }

  /**
   * Ends the job on every shard (the Delete call): its blocks, optimizer state and counters
   * are released. Idempotent; returns each shard's answer.
   */
  public List<io.parasol.proto.v1.DeleteResponse> delete() {
    io.parasol.proto.v1.DeleteRequest req = io.parasol.proto.v1.DeleteRequest.newBuilder()
        .setJobName(calls.jobName()).setFingerprint(calls.fingerprint()).build();
    List<CompletableFuture<io.parasol.proto.v1.DeleteResponse>> out = new ArrayList<>();
    for (int s = 0; s < calls.numShards(); s++) {
      final int shard = s;
      out.add(calls.withRetries("Delete", s, () -> ShardCalls.unary(obs -> calls.stub(shard,
          rpcTimeout).delete(req, obs))));
    }
    return Futures.awaitAll(out);
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
    List<CompletableFuture<Status>> out = new ArrayList<>();
    HeartbeatRequest req = HeartbeatRequest.newBuilder().setFingerprint(calls.fingerprint())
        .setJobName(calls.jobName()).setWorker(worker).setClock(clock).setLeaving(leaving).build();
    for (int s = 0; s < calls.numShards(); s++) {
      final int shard = s;
      out.add(ShardCalls.<HeartbeatResponse>unary(
              obs -> calls.stub(shard, rpcTimeout).heartbeat(req, obs))
          .handle((r, err) -> {
            if (err != null) {
              return Status.fromThrowable(incarnations.classify(shard, err));
            }
            incarnations.observe(shard, r.getIncarnation());
            return Status.OK;
          }));
    }
    return Futures.awaitAll(out);
  }

  /** Every shard's status. */
  public List<StatusResponse> status() {
    List<CompletableFuture<StatusResponse>> out = new ArrayList<>();
    for (int s = 0; s < calls.numShards(); s++) {
      final int shard = s;
      out.add(calls.withRetries("Status", s, () -> ShardCalls.unary(obs -> calls.stub(shard,
          rpcTimeout).status(StatusRequest.newBuilder().setFingerprint(calls.fingerprint())
              .setJobName(calls.jobName()).build(), obs))));
    }
    List<StatusResponse> answers = Futures.awaitAll(out);
    for (int s = 0; s < answers.size(); s++) {
      incarnations.observe(s, answers.get(s).getIncarnation());
    }
    return answers;
  }

  // ---------------------------------------------------------------------------------------
  // Pull

  /**
   * Pulls every block into {@code dst} (flat layout) once each is at version
   * {@code >= minVersion}; returns the version read of each block, by block id.
   */
  public long[] pull(int worker, float[] dst, long minVersion, long clock) {
    return Futures.await(pullAsync(worker, dst, minVersion, clock));
  }

  /**
   * As {@link #pull(int, float[], long, long)}, into a float vector of length d (off-heap
   * memory; decoded in place without an intermediate array).
   */
  public long[] pull(int worker, ByteBuffer dst, long minVersion, long clock) {
    return Futures.await(pullAsync(worker, dst, minVersion, clock));
  }

  /**
   * Starts a pull into {@code dst}; the future completes with the versions read (or a
   * {@link StatusRuntimeException}). {@code dst} must not be read until then.
   */
  public CompletableFuture<long[]> pullAsync(int worker, float[] dst, long minVersion,
      long clock) {
    checkLength(dst.length);
    return pulls.pull(worker, (values, e, at) -> values.decodeTo(e, dst, at, false),
        minVersion, clock);
  }

  /**
   * A pipelined sync pull: as {@link #pullAsync(int, float[], long, long)}, sent while (or
   * right after) this worker's push to the round before {@code minVersion} is on its way. The
   * shards wait for {@code minVersion} even if that push has not reached them yet, where a
   * plain pull from a worker that has not contributed to the open round answers at once with
   * the current version. Use it only after starting that push: if the push is refused (late,
   * rolled back), the round may still complete without it, or the pull waits until its
   * deadline; a rolled-back shard answers at once.
   */
  public CompletableFuture<long[]> pullAfterPushAsync(int worker, float[] dst, long minVersion,
      long clock) {
    checkLength(dst.length);
    return pulls.pull(worker, (values, e, at) -> values.decodeTo(e, dst, at, false),
        minVersion, clock, true);
  }

  /** What {@link #pushThenPullAsync} starts: the pushes' outcomes and the pull's versions. */
  public record PushedAndPulled(CompletableFuture<ShardOutcome[]> pushed,
      CompletableFuture<long[]> pulled) {}

  /**
   * {@link #pushEachAsync} and then a pull into {@code dst}, in one PushPull call per shard
   * instead of a Push and a Pull (a shard with blocks but none to push gets a plain Pull). Each
   * shard takes the push before it starts the pull, so the pull reads what a pull sent after the
   * push's answer reads; {@code afterPush} (see {@link #pullAfterPushAsync}) matters only where
   * a call fails over to a plain Pull. The futures behave as those of the two calls do.
   * {@code values} must not change until {@code pushed} completes.
   */
  public PushedAndPulled pushThenPullAsync(int worker, long[] steps, PushKind kind,
      float[] values, long[] versionsRead, int[] blockIds, float loss, float[] dst,
      long minVersion, long clock, boolean afterPush) {
    checkLength(values.length);
    checkLength(dst.length);
    PullPath.Pull p = pulls.begin(worker, (v, e, at) -> v.decodeTo(e, dst, at, false),
        minVersion, clock, afterPush);
    return pushes.pushThenPull(worker, steps, kind, PushPath.arraySource(values), versionsRead,
        blockIds, loss, p, pushPullTimeout, pulls::hasBlocks);
  }

  /** As {@link #pullAsync(int, float[], long, long)}, into an off-heap float vector. */
  public CompletableFuture<long[]> pullAsync(int worker, ByteBuffer dst, long minVersion,
      long clock) {
    FloatBuffer out = bytesOf(dst).asFloatBuffer();
    return pulls.pull(worker, (values, e, at) -> values.decodeTo(e, out, at), minVersion,
        clock);
  }

  /**
   * Waits for a future this client returned ({@link #pullAsync}, {@link #pushEachAsync}); its
   * failure is rethrown as the {@link StatusRuntimeException} the blocking call would throw
   * (a {@link ShardRolledBackException} for a rollback).
   */
  public static <T> T await(CompletableFuture<T> f) {
    return Futures.await(f);
  }

  /** How long the last pull waited at the slowest shard (barrier, ssp bound), microseconds. */
  public long lastPullWaitMicros() {
    return pulls.lastPullWaitMicros();
  }

  // ---------------------------------------------------------------------------------------
  // Push

  /**
   * One shard's answer to a push: a response, or the status it failed with; {@code rollback}
   * is set when the shard refused the push because it rolled back (pull again, then push).
   */
  public record ShardOutcome(int shard, PushResponse response, Status status,
      ShardRollback rollback) {
    public ShardOutcome(int shard, PushResponse response, Status status) {
      this(shard, response, status, null);
    }

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
    return Futures.await(pushEachAsync(worker, steps, kind, values, versionsRead, blockIds, loss));
  }

  /**
   * As {@link #pushEach(int, long[], PushKind, float[], long[], int[], float)} for a float
   * vector of length d in off-heap memory (an ND4J gradient), whose chunks wrap that memory in
   * float32.
   */
  public ShardOutcome[] pushEach(int worker, long[] steps, PushKind kind, ByteBuffer values,
      long[] versionsRead, int[] blockIds, float loss) {
    return Futures.await(pushEachAsync(worker, steps, kind, values, versionsRead, blockIds, loss));
  }

  /**
   * Starts {@link #pushEach}; {@code values} must not change until the future completes. The
   * future never completes exceptionally for a shard's refusal (see {@link ShardOutcome}).
   */
  public CompletableFuture<ShardOutcome[]> pushEachAsync(int worker, long[] steps,
      PushKind kind, float[] values, long[] versionsRead, int[] blockIds, float loss) {
    checkLength(values.length);
    return pushes.pushEach(worker, steps, kind, PushPath.arraySource(values), versionsRead,
        blockIds, loss);
  }

  /**
   * As {@link #pushEachAsync(int, long[], PushKind, float[], long[], int[], float)} for a float
   * vector of length d in off-heap memory (an ND4J gradient): in float32 its chunks wrap that
   * memory, which must not change until the future completes.
   */
  public CompletableFuture<ShardOutcome[]> pushEachAsync(int worker, long[] steps,
      PushKind kind, ByteBuffer values, long[] versionsRead, int[] blockIds, float loss) {
    return pushes.pushEach(worker, steps, kind, PushPath.bufferSource(bytesOf(values)),
        versionsRead, blockIds, loss);
  }

  /**
   * As {@link #pushEach} with one step for every shard; throws the first shard's failure.
   * Returns one response per shard that had blocks to push (null for the others).
   */
  public PushResponse[] push(int worker, long step, PushKind kind, float[] values,
      long[] versionsRead, int[] blockIds, float loss) {
    long[] steps = new long[layout.numShards()];
    java.util.Arrays.fill(steps, step);
    return responses(pushEach(worker, steps, kind, values, versionsRead, blockIds, loss));
  }

  /** As {@link #push(int, long, PushKind, float[], long[], int[], float)}, from off-heap. */
  public PushResponse[] push(int worker, long step, PushKind kind, ByteBuffer values,
      long[] versionsRead, int[] blockIds, float loss) {
    long[] steps = new long[layout.numShards()];
    java.util.Arrays.fill(steps, step);
    return responses(Futures.await(pushEachAsync(worker, steps, kind, values, versionsRead,
        blockIds, loss)));
  }

  private PushResponse[] responses(ShardOutcome[] outcomes) {
    PushResponse[] out = new PushResponse[layout.numShards()];
    for (ShardOutcome o : outcomes) {
      if (o == null) {
        continue;
      }
      if (!o.ok()) {
        throw o.rollback() != null ? new ShardRolledBackException(o.status(), o.rollback())
            : o.status().asRuntimeException();
      }
      out[o.shard()] = o.response();
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------
  // Plumbing

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

  @Override
  public void close() {
    calls.close();
  }
}
