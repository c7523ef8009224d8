package io.parasol.client;

import io.grpc.CallCredentials;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.parasol.proto.v1.ShardGrpc;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transport under {@link PsClient}: one channel and stub per shard, calls with deadlines,
 * and the retry machinery (transient failures under the {@link RetryPolicy}, first contact
 * under the connect timeout). Also holds the job's fingerprint every call carries.
 *
 * <p>Thread safety: every method may be called concurrently.
 */
final class ShardCalls implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PsClient.class);

  /** One attempt of a call on one shard, completing its future with the result. */
  @FunctionalInterface
  interface Attempt<T> {
    CompletableFuture<T> start();
  }

  private final List<ManagedChannel> channels;
  private final List<ShardGrpc.ShardStub> stubs;
  private final RetryPolicy retry;
  private final boolean ownsChannels;
  /** A stream takes another message while less than this many bytes wait to be sent. */
  private final int readyBytes;
  private final ScheduledExecutorService timer;
  private final SplittableRandom jitter = new SplittableRandom();
  private final AtomicLong retries = new AtomicLong();
  private volatile String fingerprint = "";
  /** The job every call names (its spec's job_name; empty: the shard's default job). */
  private volatile String jobName = "";
  private volatile Duration connectTimeout = Duration.ofSeconds(5);
  /** No retry starts later than this after its call began (see {@link #retryBudget}). */
  private volatile long retryBudgetNanos = Long.MAX_VALUE;

  ShardCalls(List<ManagedChannel> channels, RetryPolicy retry, CallCredentials token,
      boolean ownsChannels, int readyBytes) {
    this.channels = List.copyOf(channels);
    this.stubs = new ArrayList<>(channels.size());
    for (ManagedChannel c : channels) {
      ShardGrpc.ShardStub stub = ShardGrpc.newStub(c);
      stubs.add(token == null ? stub : stub.withCallCredentials(token));
    }
    this.retry = retry;
    this.ownsChannels = ownsChannels;
    this.readyBytes = readyBytes;
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "ps-client-retry");
      t.setDaemon(true);
      return t;
    });
  }

  int numShards() {
    return stubs.size();
  }

  String fingerprint() {
    return fingerprint;
  }

  void fingerprint(String fp) {
    this.fingerprint = fp;
  }

  String jobName() {
    return jobName;
  }

  void jobName(String name) {
    this.jobName = name;
  }

  long retries() {
    return retries.get();
  }

  void retryBudget(Duration budget) {
    retryBudgetNanos = budget.toNanos();
  }

  Duration connectTimeout() {
    return connectTimeout;
  }

  void connectTimeout(Duration d) {
    this.connectTimeout = d;
  }

  /** Shard {@code shard}'s stub with a deadline {@code d} from now. */
  ShardGrpc.ShardStub stub(int shard, Duration d) {
    return stubs.get(shard).withDeadlineAfter(d.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * A call of {@code method} on a shard, with the stub's credentials and a deadline; the call
   * is ready for more messages while less than {@code readyBytes} wait in the transport.
   */
  <Q, R> ClientCall<Q, R> newCall(int shard, Duration d, MethodDescriptor<Q, R> method) {
    ShardGrpc.ShardStub stub = stub(shard, d);
    return stub.getChannel().newCall(method,
        stub.getCallOptions().withOnReadyThreshold(readyBytes));
  }

  // ---------------------------------------------------------------------------------------
  // Retrying calls

  /** Runs {@code attempt} until it succeeds, fails for good, or the policy gives up. */
  <T> CompletableFuture<T> withRetries(String what, int shard, Attempt<T> attempt) {
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
      if (!RetryPolicy.retryable(st.getCode()) || n >= retry.maxAttempts()
          || io.parasol.common.Refusals.SHARD_TOO_SMALL.equals(
              io.parasol.common.Refusals.reason(err))) {
        result.completeExceptionally(Futures.asStatusException(err));
        return;
      }
      long pause;
      synchronized (jitter) {
        pause = retry.backoffNanos(n + 1, jitter);
      }
      if (giveUpAt != Long.MAX_VALUE && System.nanoTime() + pause - giveUpAt >= 0) {
        result.completeExceptionally(Futures.asStatusException(err));
        return;
      }
      retries.incrementAndGet();
      log.debug("{} on shard {} failed ({}); attempt {} in {} ms", what, shard, st.getCode(),
          n + 1, pause / 1_000_000);
      timer.schedule(() -> run(what, shard, attempt, n + 1, result, giveUpAt), pause,
          TimeUnit.NANOSECONDS);
    });
  }

  /**
   * A first call on a shard: tried with backoff while the shard is unreachable, for at most the
   * connect timeout; then UNAVAILABLE naming the shard, the address and the cause.
   */
  <T> CompletableFuture<T> reach(int shard, Attempt<T> attempt) {
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
      // UNKNOWN too: gRPC reports a write on a connection a restarted shard reset as
      // UNKNOWN ("channel closed"), as RetryPolicy says; a shard never answers it itself.
      boolean transport = st.getCode() == Status.Code.UNAVAILABLE
          || st.getCode() == Status.Code.DEADLINE_EXCEEDED
          || st.getCode() == Status.Code.UNKNOWN;
      if (!transport) {
        result.completeExceptionally(Futures.asStatusException(err));
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
    String lower = why.toLowerCase(Locale.ROOT);
    String hint = lower.contains("ssl") || lower.contains("handshake")
        || lower.contains("certificate")
        ? "check the TLS settings (--tls, --tls-ca, --tls-authority) against the shard's"
        : "check that `parasol server --shard " + shard + "` runs there and listens on that"
            + " address, or give shards that are still starting more --connect-timeout";
    return Status.UNAVAILABLE.withDescription("cannot reach shard " + shard + " at " + address
        + " (" + attempts + " attempts in " + connectTimeout.toMillis() / 1000.0 + " s): " + why
        + "; " + hint);
  }

  /** Adapts a unary async call to a future. */
  static <T> CompletableFuture<T> unary(Consumer<StreamObserver<T>> call) {
    CompletableFuture<T> f = new CompletableFuture<>();
    call.accept(new Futures.LastValue<>(f));
    return f;
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
