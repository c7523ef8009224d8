package io.parasol.client;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.parasol.common.BlockLayout;
import io.parasol.common.JobSpecs;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.PushKind;
import io.parasol.proto.v1.PushResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One worker's handle on a Parasol job, for a user's own training loop: the equivalent of
 * ps-lite's {@code KVWorker}. The model is one flat float32 vector of length
 * {@link #dimension()} (the job's tensors in order), split into coordinate blocks held by the
 * shards. A loop pulls the vector, computes a gradient of the same length, and pushes it with the
 * {@link Versions} it read:
 *
 * <pre>{@code
 * try (ParasolClient ps = ParasolClient.connect(List.of("10.0.0.1:7070"), job)) {
 *   float[] x = new float[ps.dimension()];
 *   for (int step = 0; step < steps; step++) {
 *     Versions read = ps.pull(x, 0).await();
 *     float[] g = myGradient(x);
 *     ps.push(g, read).await();
 *   }
 * }
 * }</pre>
 *
 * <p><b>Calls.</b> Pulls and pushes return a {@link Handle} at once and run in the background,
 * every shard concurrently; a handle completes with the result or a
 * {@link StatusRuntimeException} whose code the caller branches on. Each operation has a
 * deadline ({@link ParasolClientBuilder#deadline}; {@link ParasolClientBuilder#pullDeadline}
 * for pulls, which may wait at a barrier): when it passes, the handle fails with DEADLINE_EXCEEDED. Within the deadline, a
 * shard's call that fails with a transient status (UNAVAILABLE, RESOURCE_EXHAUSTED,
 * DEADLINE_EXCEEDED of one attempt, UNKNOWN from a reset connection) is tried again under the
 * {@link RetryPolicy}'s exponential backoff; no retry starts after the deadline. A retried push
 * keeps its (worker, sequence), so a shard applies it once however often it arrives. Other
 * statuses surface at once: INVALID_ARGUMENT (bad input, checked here before anything is sent,
 * or by the shard: NaN/Inf values; nothing is changed), FAILED_PRECONDITION (another job on the
 * shard, or a job this client's spec does not match), UNAUTHENTICATED and PERMISSION_DENIED
 * (token, TLS), CANCELLED (the client was closed). A push that failed with DEADLINE_EXCEEDED or
 * UNAVAILABLE may or may not have been applied.
 *
 * <p><b>Lease.</b> A background heartbeat keeps this worker live on every shard (once every
 * quarter of the job's lease, by default) while the user's loop computes or waits; it stops, and
 * the worker leaves the job, on {@link #leave()} or {@link #close()}.
 *
 * <p>Thread-safe. Buffers passed to a pull or push belong to the operation until its handle
 * completes.
 */
public final class ParasolClient implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ParasolClient.class);

  private final PsClient client;
  private final JobSpec spec;
  private final BlockLayout layout;
  private final int worker;
  private final Duration deadline;
  private final Duration pullDeadline;
  private final boolean sync;
  /** Steps (successful pushes) this worker has completed: its clock for ssp and heartbeats. */
  private final AtomicLong clock = new AtomicLong();
  private final AtomicLong heartbeatFailures = new AtomicLong();
  private final AtomicBoolean left = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Ticker.Ticking heartbeats;

  ParasolClient(PsClient client, JobSpec spec, int worker, Duration deadline,
      Duration pullDeadline, Ticker ticker, Duration heartbeatPeriod) {
    this.client = client;
    this.spec = spec;
    this.layout = client.layout();
    this.worker = worker;
    this.deadline = deadline;
    this.pullDeadline = pullDeadline;
    this.sync = spec.getMode() == Mode.MODE_SYNC;
    Duration period = heartbeatPeriod != null ? heartbeatPeriod
        : Duration.ofMillis(Math.max(50, JobSpecs.leaseMillis(spec) / 4));
    this.heartbeats = ticker == null ? null : ticker.every(period, this::heartbeat);
  }

  /** Connects to {@code servers} (one per shard, in shard order) and declares {@code job}. */
  public static ParasolClient connect(List<String> servers, Job job) {
    return builder().servers(servers).job(job).build();
  }

  public static ParasolClientBuilder builder() {
    return new ParasolClientBuilder();
  }

  /** The job's spec as the shards hold it (for a job joined by name: as far as they tell). */
  public JobSpec spec() {
    return spec;
  }

  /** The blocks of the flat vector and the shard of each. */
  public BlockLayout layout() {
    return layout;
  }

  /** The length d of the flat parameter vector: the size of every pull and push. */
  public int dimension() {
    return layout.dimension();
  }

  public int numBlocks() {
    return layout.numBlocks();
  }

  /** This worker's index k. */
  public int worker() {
    return worker;
  }

  /** The job's fingerprint, which every call carries. */
  public String fingerprint() {
    return client.fingerprint();
  }

  /** Steps completed: pushes that every shard accepted. */
  public long clock() {
    return clock.get();
  }

  /** Calls tried again so far (all shards, all operations). */
  public long retries() {
    return client.retries();
  }

  /** Heartbeats that some shard did not answer with OK. */
  public long heartbeatFailures() {
    return heartbeatFailures.get();
  }

  // ---------------------------------------------------------------------------------------
  // Pull

  /**
   * Pulls the whole model into {@code into} (length d) once every block is at version
   * {@code >= minVersion} (0: at once; in sync mode, step t pulls with t, which waits at the
   * barrier until step t−1 is complete). In ssp mode a shard also holds the pull while this
   * worker leads the slowest by more than the bound. The handle completes with the versions
   * read, the argument of the next {@link #push}. Retries and deadline as in the class comment;
   * a barrier that is not reached within {@link ParasolClientBuilder#pullDeadline} fails it with
   * DEADLINE_EXCEEDED. A wrong length fails it with INVALID_ARGUMENT.
   */
  public Handle<Versions> pull(float[] into, long minVersion) {
    if (into.length != dimension()) {
      return invalid("pull into " + into.length + " floats; the model has " + dimension());
    }
    return pulled(client.pullAsync(worker, into, checkMin(minVersion), clock.get()));
  }

  /**
   * As {@link #pull(float[], long)}, into float32 memory: {@code into} holds exactly d floats
   * from its position in native byte order (a direct buffer, for example an ND4J array's data);
   * they are decoded into it in place.
   */
  public Handle<Versions> pull(ByteBuffer into, long minVersion) {
    if (into.remaining() != (long) dimension() * Float.BYTES) {
      return invalid("pull into " + into.remaining() + " bytes; the model has "
          + dimension() + " floats (" + (long) dimension() * Float.BYTES + " bytes)");
    }
    return pulled(client.pullAsync(worker, into, checkMin(minVersion), clock.get()));
  }

  private Handle<Versions> pulled(CompletableFuture<long[]> f) {
    return within(f.thenApply(Versions::wrap), pullDeadline, "pull");
  }

  private static long checkMin(long minVersion) {
    if (minVersion < 0) {
      throw new IllegalArgumentException("minVersion must be >= 0, got " + minVersion);
    }
    return minVersion;
  }

  // ---------------------------------------------------------------------------------------
  // Push

  /**
   * Pushes a gradient of every block: {@code gradient} (length d) computed from the model read
   * at {@code read}. The handle completes when every shard answered: async and ssp shards apply
   * it on arrival (x ← x − η·g through the job's optimizer); sync shards add it to step
   * {@code read}'s sum and apply the mean when the step is complete. The worker's clock then
   * advances by one. Retries, deadline and statuses as in the class comment; a wrong length or
   * a {@code read} of another layout fails it with INVALID_ARGUMENT before anything is sent, and
   * a gradient with NaN or infinite values is refused by the shards (INVALID_ARGUMENT), which
   * change nothing.
   */
  public Handle<PushResult> push(float[] gradient, Versions read) {
    return push(gradient, read, null, Float.NaN);
  }

  /**
   * Pushes the gradient of the blocks {@code blockIds} only (coordinate-wise SGD, DASGD: a
   * worker updates the blocks it owns and reads the others as they are); null means every
   * block. {@code loss} is this step's training loss for the shards' metrics (NaN: none).
   * Otherwise as {@link #push(float[], Versions)}; an unknown block id is INVALID_ARGUMENT.
   */
  public Handle<PushResult> push(float[] gradient, Versions read, int[] blockIds, float loss) {
    String bad = gradientProblem(gradient, read, blockIds);
    if (bad != null) {
      return invalid(bad);
    }
    return pushed(client.pushEachAsync(worker, steps(read, blockIds), PushKind.PUSH_GRADIENT,
        gradient, read.array(), blockIds, loss));
  }

  /**
   * As {@link #push(float[], Versions, int[], float)} from float32 memory: exactly d floats from
   * {@code gradient}'s position, native byte order, read in place while the push is sent.
   */
  public Handle<PushResult> push(ByteBuffer gradient, Versions read, int[] blockIds,
      float loss) {
    if (gradient.remaining() != (long) dimension() * Float.BYTES) {
      return invalid("a gradient of " + gradient.remaining() + " bytes; the model has "
          + dimension() + " floats (" + (long) dimension() * Float.BYTES + " bytes)");
    }
    String bad = check(read, blockIds);
    if (bad == null) {
      bad = nonFinite(gradient.slice(gradient.position(), gradient.remaining())
          .order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer(), blockIds);
    }
    if (bad != null) {
      return invalid(bad);
    }
    return pushed(client.pushEachAsync(worker, steps(read, blockIds), PushKind.PUSH_GRADIENT,
        gradient, read.array(), blockIds, loss));
  }

  /**
   * Pushes {@code gradient} and then pulls the model into {@code into} at version
   * {@code >= minVersion}: one handle for a whole step's communication, one PushPull call per
   * shard (each shard takes the push, answers it, then serves the pull on the same call, so the
   * pull reads what a {@link #pull} after the {@link #push} reads, one round trip sooner). If a
   * shard refuses the push, the handle fails with the push's status. The push part and the pull
   * part have their own deadlines. Bad arguments fail it as {@link #push} and {@link #pull} do,
   * before anything is sent.
   */
  public Handle<Versions> pushPull(float[] gradient, Versions read, float[] into,
      long minVersion) {
    String bad = into.length != dimension()
        ? "pull into " + into.length + " floats; the model has " + dimension()
        : gradientProblem(gradient, read, null);
    if (bad != null) {
      return invalid(bad);
    }
    PsClient.PushedAndPulled both = client.pushThenPullAsync(worker, steps(read, null),
        PushKind.PUSH_GRADIENT, gradient, read.array(), null, Float.NaN, into,
        checkMin(minVersion), clock.get() + 1, false);
    CompletableFuture<Versions> pull = pulled(both.pulled()).future();
    // The handle ends only once the pull has ended too, so nothing writes into `into` after it
    // (a shard that refused the push still has its part pulled by a plain Pull).
    return new Handle<>(pushed(both.pushed()).future().handle((r, err) -> err)
        .thenCombine(pull.handle((v, err) -> v), (pushErr, v) -> pushErr)
        .thenCompose(pushErr -> pushErr != null
            ? CompletableFuture.<Versions>failedFuture(Handle.statusOf(pushErr)) : pull));
  }

  private Handle<PushResult> pushed(CompletableFuture<PsClient.ShardOutcome[]> f) {
    return within(f.thenApply(outcomes -> {
      List<PushResponse> responses = new ArrayList<>();
      for (PsClient.ShardOutcome o : outcomes) {
        if (o == null) {
          continue;
        }
        if (!o.ok()) {
          throw o.status().asRuntimeException();
        }
        responses.add(o.response());
      }
      clock.incrementAndGet();
      return new PushResult(responses);
    }), deadline, "push");
  }

  /** What is wrong with pushing {@code gradient} for {@code read}, or null. */
  private String gradientProblem(float[] gradient, Versions read, int[] blockIds) {
    if (gradient.length != dimension()) {
      return "a gradient of " + gradient.length + " floats; the model has " + dimension();
    }
    String bad = check(read, blockIds);
    return bad != null ? bad : nonFinite(java.nio.FloatBuffer.wrap(gradient), blockIds);
  }

  private String check(Versions read, int[] blockIds) {
    if (read.size() != numBlocks()) {
      return "versions of " + read.size() + " blocks; the model has " + numBlocks();
    }
    if (blockIds != null) {
      if (blockIds.length == 0) {
        return "a push of no blocks";
      }
      for (int id : blockIds) {
        if (id < 0 || id >= numBlocks()) {
          return "unknown block " + id + ": the model has " + numBlocks() + " blocks";
        }
      }
    }
    return null;
  }

  /**
   * Where the pushed blocks hold a NaN or an infinity, or null. Checked here because each shard
   * validates only its own blocks: the others would apply their part of a bad gradient.
   */
  private String nonFinite(java.nio.FloatBuffer g, int[] blockIds) {
    for (BlockLayout.Block b : layout.blocks()) {
      if (blockIds != null && Arrays.stream(blockIds).noneMatch(id -> id == b.id())) {
        continue;
      }
      for (int i = b.offset(), end = b.offset() + b.length(); i < end; i++) {
        if (!Float.isFinite(g.get(i))) {
          return "the gradient holds " + g.get(i) + " at index " + i + " (block " + b.id()
              + " " + b.name() + "); nothing was pushed";
        }
      }
    }
    return null;
  }

  /**
   * The step each shard's push is tagged with: sync, the version of the shard's blocks that was
   * read (they agree within a shard unless backup workers left this worker behind); otherwise
   * this worker's clock.
   */
  private long[] steps(Versions read, int[] blockIds) {
    long[] steps = new long[layout.numShards()];
    if (!sync) {
      Arrays.fill(steps, clock.get());
      return steps;
    }
    Arrays.fill(steps, Long.MAX_VALUE);
    for (BlockLayout.Block b : layout.blocks()) {
      steps[b.shard()] = Math.min(steps[b.shard()], read.get(b.id()));
    }
    for (int s = 0; s < steps.length; s++) {
      if (steps[s] == Long.MAX_VALUE) {
        steps[s] = 0;
      }
    }
    return steps;
  }

  // ---------------------------------------------------------------------------------------
  // Status, lease, close

  /**
   * Every shard's status (versions, live workers, counters), retried within the deadline.
   *
   * @throws StatusRuntimeException as the class comment says
   */
  public JobStatus status() {
    return new JobStatus(client.status());
  }

  /** One heartbeat to every shard now; failures are counted, not thrown. */
  public void heartbeat() {
    if (left.get()) {
      return;
    }
    for (Status s : client.heartbeat(worker, clock.get())) {
      if (!s.isOk()) {
        heartbeatFailures.incrementAndGet();
        log.debug("heartbeat of worker {} failed: {}", worker, s);
      }
    }
  }

  /**
   * Stops the background heartbeat and tells every shard that this worker finished, so sync
   * rounds and ssp bounds stop counting it now rather than when its lease expires. Idempotent;
   * a later pull or push brings the worker back (without heartbeats). Failures are logged, not
   * thrown.
   */
  public void leave() {
    if (!left.compareAndSet(false, true)) {
      return;
    }
    if (heartbeats != null) {
      heartbeats.stop(); // no heartbeat may land after the leave: it would bring us back
    }
    for (Status s : client.leave(worker, clock.get())) {
      if (!s.isOk()) {
        log.debug("leave of worker {} failed: {}", worker, s);
      }
    }
  }

  /** Leaves the job and closes the channels; operations still in flight fail (CANCELLED). */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      leave();
    } finally {
      client.close();
    }
  }

  // ---------------------------------------------------------------------------------------
  // Plumbing

  /** Fails the operation with DEADLINE_EXCEEDED if it has not ended {@code d} from now. */
  private static <T> Handle<T> within(CompletableFuture<T> f, Duration d, String what) {
    CompletableFuture<T> out = f.orTimeout(d.toNanos(), TimeUnit.NANOSECONDS)
        .handle((v, err) -> {
          if (err == null) {
            return v;
          }
          Throwable c = err instanceof java.util.concurrent.CompletionException
              && err.getCause() != null ? err.getCause() : err;
          if (c instanceof TimeoutException) {
            throw Status.DEADLINE_EXCEEDED.withDescription(what + " did not complete within "
                + d).asRuntimeException();
          }
          throw Handle.statusOf(c);
        });
    return new Handle<>(out);
  }

  private static <T> Handle<T> invalid(String description) {
    return new Handle<>(CompletableFuture.failedFuture(
        Status.INVALID_ARGUMENT.withDescription(description).asRuntimeException()));
  }
}
