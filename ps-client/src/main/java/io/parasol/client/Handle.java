package io.parasol.client;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * An operation in flight (a pull, a push, or both), as ps-lite's {@code Wait(timestamp)}: start
 * several, compute meanwhile, then {@link #await()} each. A handle completes once, with a value
 * or with a {@link StatusRuntimeException} carrying the gRPC status that ended the operation;
 * {@link #await()} returns the value or throws that exception. Waiting on a handle never
 * cancels the operation; the buffers it reads or writes belong to it until it completes.
 *
 * @param <T> the operation's result
 */
public final class Handle<T> {
  private final CompletableFuture<T> future;

  Handle(CompletableFuture<T> future) {
    this.future = future;
  }

  /** A handle that is already complete with {@code value}. */
  static <T> Handle<T> completed(T value) {
    return new Handle<>(CompletableFuture.completedFuture(value));
  }

  /**
   * Waits until the operation ends and returns its result.
   *
   * @throws StatusRuntimeException with the status the operation failed with (CANCELLED if the
   *     waiting thread was interrupted; its interrupt flag is then set again)
   */
  public T await() {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Status.CANCELLED.withDescription("interrupted while waiting").asRuntimeException();
    } catch (ExecutionException | CancellationException e) {
      throw statusOf(e);
    }
  }

  /**
   * Waits at most {@code timeout} for the operation. The operation itself goes on (under the
   * client's deadline) when this wait gives up.
   *
   * @throws StatusRuntimeException DEADLINE_EXCEEDED if it has not ended within
   *     {@code timeout}, or the status it failed with
   */
  public T await(Duration timeout) {
    try {
      return future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      throw Status.DEADLINE_EXCEEDED.withDescription("not done after " + timeout)
          .asRuntimeException();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Status.CANCELLED.withDescription("interrupted while waiting").asRuntimeException();
    } catch (ExecutionException | CancellationException e) {
      throw statusOf(e);
    }
  }

  /** Whether the operation has ended, either way. */
  public boolean isDone() {
    return future.isDone();
  }

  /**
   * The operation as a stage to chain on; it completes exceptionally with a
   * {@link StatusRuntimeException}. Completing or cancelling the stage does not affect the
   * handle.
   */
  public CompletionStage<T> toCompletionStage() {
    return future.minimalCompletionStage();
  }

  /** The future behind the handle, for the client's own chaining. */
  CompletableFuture<T> future() {
    return future;
  }

  static StatusRuntimeException statusOf(Throwable t) {
    Throwable c = t;
    while ((c instanceof ExecutionException || c instanceof java.util.concurrent.CompletionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    if (c instanceof StatusRuntimeException sre) {
      return sre;
    }
    if (c instanceof CancellationException) {
      return Status.CANCELLED.withDescription("cancelled").asRuntimeException();
    }
    return Status.fromThrowable(c).asRuntimeException();
  }
}
