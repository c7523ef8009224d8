package io.parasol.server;

import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.grpc.MetricCollectingServerInterceptor;
import io.parasol.common.FloatCodec;
import io.parasol.proto.v1.ShardGrpc;
import io.parasol.server.checkpoint.Checkpoints;
import io.parasol.server.checkpoint.JobCheckpoints;
import io.parasol.server.clock.Ticker;
import io.parasol.server.core.Lifecycle;
import io.parasol.server.core.ShardCore;
import io.parasol.server.core.ShardException;
import io.parasol.server.rpc.ClientErrorLogs;
import io.parasol.server.rpc.ConnectionTracker;
import io.parasol.server.rpc.LenientParsing;
import io.parasol.server.rpc.RefusalInterceptor;
import io.parasol.server.rpc.RefusalLog;
import io.parasol.server.rpc.ShardService;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A shard process's gRPC server: the Shard service, gRPC health and server reflection.
 *
 * <p>Built from a {@link ServerBuilder} so tests can bind an ephemeral port on 127.0.0.1. Its
 * {@link #lifecycle()} goes NEW → STARTING → SERVING → STOPPING → STOPPED; {@link #start()}
 * and {@link #stop} check their transitions. Time (leases, waits, checkpoint timings) is read
 * from one injected {@link Ticker}.
 */
public final class ShardServer {
  private static final Logger log = LoggerFactory.getLogger(ShardServer.class);

  /** Largest inbound message: a chunk of a few MiB plus framing. */
  public static final int MAX_INBOUND_MESSAGE_BYTES = 16 * 1024 * 1024;

  private final ShardCore core;
  private final ExecutorService callbacks;
  private final ScheduledExecutorService timer;
  private final HealthStatusManager health = new HealthStatusManager();
  private final Server server;
  private final Ticker ticker;
  private final Lifecycle.State lifecycle;
  /** The shard's own event loops; null on gRPC's shared ones. */
  private final ShardIo eventLoops;
  private final RefusalLog refusals;

  /** Refused calls are logged at most once per method and status this often, with a count. */
  static final long REFUSAL_LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

  /** A server built on {@code builder}; {@code registry} may be null. */
  public ShardServer(ServerBuilder<?> builder, int shardIndex, MeterRegistry registry) {
    this(builder, shardIndex, 0, registry);
  }

  /**
   * A server built on {@code builder} for a job of {@code expectedShards} shards (0: any);
   * {@code registry} may be null.
   */
  public ShardServer(ServerBuilder<?> builder, int shardIndex, int expectedShards,
      MeterRegistry registry) {
    this(builder, shardIndex, expectedShards, registry, Ticker.system());
  }

  /** As above, with the clock the shard reads time from (tests inject a fake one). */
  public ShardServer(ServerBuilder<?> builder, int shardIndex, int expectedShards,
      MeterRegistry registry, Ticker ticker) {
    this(builder, shardIndex, expectedShards, registry, ticker, null);
  }

  /**
   * As above, with the executor that runs the shard's timers: lease checks, checkpoints and a
   * waiting pull's deadline answer (tests inject one that captures the deadline task and run
   * it themselves, so no test races two clocks); null for the shard's own.
   */
  public ShardServer(ServerBuilder<?> builder, int shardIndex, int expectedShards,
      MeterRegistry registry, Ticker ticker, ScheduledThreadPoolExecutor timerExecutor) {
    this(builder, shardIndex, expectedShards, registry, ticker, timerExecutor,
        ShardIo.defaultThreads());
  }

  /**
   * As above, with {@code ioThreads} event loops of the shard's own (see {@link ShardIo}; 0
   * leaves a Netty builder on gRPC's shared default loops; other builders always are).
   */
  public ShardServer(ServerBuilder<?> builder, int shardIndex, int expectedShards,
      MeterRegistry registry, Ticker ticker, ScheduledThreadPoolExecutor timerExecutor,
      int ioThreads) {
    this.ticker = ticker;
    this.eventLoops = ShardIo.attach(builder, "shard-" + shardIndex, ioThreads);
    this.lifecycle = new Lifecycle.State("shard " + shardIndex);
    this.callbacks = Executors.newCachedThreadPool(daemonThreads("shard-" + shardIndex + "-pull"));
    ClientErrorLogs.install();
    // The handlers never block (a push decodes and applies its chunks; a pull that waits is
    // parked in PullWaiters and answered later), so they run on the transport's event loop,
    // and a pull released by a round's last push is sent from that push's thread: a call then
    // wakes no executor thread, which on a busy few-core machine costs a scheduler wait each
    // (bench train, sync: about a third less CPU per step, measured in README's Performance
    // section). -Dparasol.server.directExecutor=false restores gRPC's default cached thread
    // pool for the handlers and the shard's own pool for released pulls.
    boolean direct = directExecutor();
    this.core = new ShardCore(shardIndex, expectedShards, registry,
        direct ? Runnable::run : callbacks, ticker);
    if (direct) {
      builder.directExecutor();
    }
    ScheduledThreadPoolExecutor t = timerExecutor != null ? timerExecutor
        : new ScheduledThreadPoolExecutor(1, daemonThreads("shard-" + shardIndex + "-timer"));
    t.setRemoveOnCancelPolicy(true);
    this.timer = t;
    if (registry != null) {
      builder.intercept(new MetricCollectingServerInterceptor(registry));
    }
    // Added last, so it runs first and sees every other interceptor's refusals too.
    this.refusals = new RefusalLog(ticker, REFUSAL_LOG_INTERVAL_NANOS,
        line -> log.info("shard {}: {}", shardIndex, line));
    builder.intercept(new RefusalInterceptor(shardIndex, registry, refusals, core::heldJob));
    ConnectionTracker connections = new ConnectionTracker(
        m -> core.connectionLost(m.job(), m.worker()));
    core.onJobEnded(this::jobEnded);
    this.server = builder
        .addTransportFilter(connections)
        .addService(LenientParsing.wrap(ServerInterceptors.intercept(
            new ShardService(core, FloatCodec.DEFAULT_CHUNK_FLOATS, timer), connections)))
        .addService(LenientParsing.wrap(health.getHealthService().bindService()))
        .addService(LenientParsing.wrap(ProtoReflectionServiceV1.newInstance().bindService()))
        .maxInboundMessageSize(MAX_INBOUND_MESSAGE_BYTES)
        .build();
  }

  /** Whether handlers run on the transport's threads ({@code parasol.server.directExecutor}). */
  static boolean directExecutor() {
    return Boolean.parseBoolean(System.getProperty("parasol.server.directExecutor", "true"));
  }

  /** A server on {@code host:port} (port 0 picks an ephemeral port). */
  public static ShardServer forAddress(String host, int port, int shardIndex,
      MeterRegistry registry) {
    return new ShardServer(NettyServerBuilder.forAddress(new InetSocketAddress(host, port)),
        shardIndex, registry);
  }

  /** How often leases (and the update-count checkpoint trigger) are checked. */
  static final long LEASE_CHECK_MILLIS = 200;

  private JobCheckpoints checkpoints;
  private long checkpointEveryUpdates;
  /** Per job, its update count at its latest checkpoint. */
  private final java.util.Map<String, Long> updatesAtCheckpoint =
      new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * Checkpoints every job into {@code cp}'s directory (see {@link JobCheckpoints}: the job
   * {@code default} in {@code cp} itself, every other job in a sub-directory) every
   * {@code interval} (when anything changed), every {@code everyUpdates} block updates of a job
   * (0: no count trigger), and on stop; on start, restores the newest valid checkpoint of every
   * job found. Call before {@link #start}.
   */
  public ShardServer checkpointing(Checkpoints cp, java.time.Duration interval,
      long everyUpdates) {
    this.checkpoints = new JobCheckpoints(cp);
    this.checkpointEveryUpdates = everyUpdates;
    timer.scheduleWithFixedDelay(this::checkpointIfChanged, interval.toMillis(),
        interval.toMillis(), TimeUnit.MILLISECONDS);
    return this;
  }

  /**
   * Writes a checkpoint of every job whose state changed since its last one; false if none
   * was taken.
   */
  public synchronized boolean checkpointIfChanged() {
    boolean any = false;
    for (String job : core.jobNames()) {
      any |= checkpointIfChanged(job, 0);
    }
    return any;
  }

  /** Checkpoints {@code job} if it changed by more than {@code minUpdates} updates. */
  private synchronized boolean checkpointIfChanged(String job, long minUpdates) {
    if (checkpoints == null) {
      return false;
    }
    long updates = core.updatesApplied(job);
    long at = updatesAtCheckpoint.getOrDefault(job, -1L);
    if (updates < 0 || updates == at || updates - Math.max(at, 0) < minUpdates) {
      return false;
    }
    Checkpoints.Snapshot snap = core.snapshot(job);
    if (snap == null) {
      return false;
    }
    Checkpoints cp = checkpoints.of(job);
    long t0 = ticker.nanoTime();
    try {
      long bytes = cp.write(snap);
      updatesAtCheckpoint.put(job, updates);
      core.checkpointed(job, ticker.nanoTime() - t0, bytes);
      return true;
    } catch (IOException e) {
      log.error("shard {}: checkpoint of job '{}' to {} failed", core.shardIndex(), job,
          cp.newest(), e);
      return false;
    }
  }

  /** A job ended: its checkpoints go too, so that a restart does not bring it back. */
  private synchronized void jobEnded(String job) {
    updatesAtCheckpoint.remove(job);
    if (checkpoints == null) {
      return;
    }
    try {
      checkpoints.delete(job);
    } catch (IOException e) {
      log.error("shard {}: cannot remove the checkpoints of ended job '{}' under {}",
          core.shardIndex(), job, checkpoints.dir(), e);
    }
  }

  /**
   * Restores the newest checkpoint (when checkpointing), binds the port and starts serving.
   * Only from NEW; a failed start leaves the server STOPPED.
   */
  public ShardServer start() throws IOException {
    lifecycle.transition(Lifecycle.STARTING);
    try {
      restoreCheckpoint();
      server.start();
    } catch (IOException | RuntimeException e) {
      lifecycle.transition(Lifecycle.STOPPING);
      callbacks.shutdownNow();
      closeIo();
      timer.shutdownNow();
      lifecycle.transition(Lifecycle.STOPPED);
      throw e;
    }
    timer.scheduleWithFixedDelay(() -> {
      try {
        core.expireLeases();
        core.expireJobs();
        refusals.flush();
        if (checkpoints != null && checkpointEveryUpdates > 0) {
          for (String job : core.jobNames()) {
            checkpointIfChanged(job, checkpointEveryUpdates);
          }
        }
      } catch (RuntimeException e) {
        log.error("shard {}: lease check failed", core.shardIndex(), e);
      }
    }, LEASE_CHECK_MILLIS, LEASE_CHECK_MILLIS, TimeUnit.MILLISECONDS);
    health.setStatus("", ServingStatus.SERVING);
    health.setStatus(ShardGrpc.SERVICE_NAME, ServingStatus.SERVING);
    lifecycle.transition(Lifecycle.SERVING);
    log.info("shard {} listening on port {}", core.shardIndex(), port());
    return this;
  }

  private void restoreCheckpoint() throws IOException {
    if (checkpoints == null) {
      return;
    }
    for (Checkpoints.Snapshot snap : checkpoints.loadAll()) {
      String job = snap.spec().getJobName().isEmpty() ? JobCheckpoints.TOP_LEVEL_JOB
          : snap.spec().getJobName();
      try {
        core.restore(snap, checkpoints.of(job).dir().toString());
        updatesAtCheckpoint.put(job, core.updatesApplied(job));
      } catch (ShardException e) {
        throw new IOException("cannot restore job '" + job + "' from "
            + checkpoints.of(job).dir() + ": " + e.getMessage(), e);
      }
    }
  }

  /** Where the server is in its life. */
  public Lifecycle lifecycle() {
    return lifecycle.get();
  }

  public int port() {
    return server.getPort();
  }

  public ShardCore core() {
    return core;
  }

  /**
   * Stops accepting calls, lets in-flight calls finish for up to {@code grace}, writes a last
   * checkpoint (when checkpointing), then stops.
   */
  public void stop(long grace, TimeUnit unit) throws InterruptedException {
    if (lifecycle.compareAndTransition(Lifecycle.NEW, Lifecycle.STOPPED)) {
      callbacks.shutdownNow();
      closeIo();
      timer.shutdownNow();
      return;
    }
    if (!lifecycle.compareAndTransition(Lifecycle.SERVING, Lifecycle.STOPPING)) {
      return; // already stopping or stopped (or a start that failed stopped it)
    }
    health.enterTerminalState();
    server.shutdown();
    if (!server.awaitTermination(grace, unit)) {
      server.shutdownNow();
      server.awaitTermination(grace, unit);
    }
    checkpointIfChanged();
    callbacks.shutdownNow();
    timer.shutdownNow();
    closeIo();
    lifecycle.transition(Lifecycle.STOPPED);
  }

  /**
   * Stops at once, as a killed process would: calls in flight fail, and no last checkpoint is
   * written (a restart restores the newest one written before). For fault tests.
   */
  public void halt() throws InterruptedException {
    if (lifecycle.compareAndTransition(Lifecycle.NEW, Lifecycle.STOPPED)) {
      callbacks.shutdownNow();
      closeIo();
      timer.shutdownNow();
      return;
    }
    if (!lifecycle.compareAndTransition(Lifecycle.SERVING, Lifecycle.STOPPING)) {
      return;
    }
    health.enterTerminalState();
    timer.shutdownNow();
    server.shutdownNow();
    server.awaitTermination(5, TimeUnit.SECONDS);
    callbacks.shutdownNow();
    closeIo();
    lifecycle.transition(Lifecycle.STOPPED);
  }

  public void blockUntilShutdown() throws InterruptedException {
    server.awaitTermination();
  }

  private void closeIo() {
    if (eventLoops != null) {
      eventLoops.close();
    }
  }

  static ThreadFactory daemonThreads(String prefix) {
    return io.parasol.common.Threads.daemon(prefix);
  }
}
