package io.parasol.client;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Waiting for calls: failures come out as {@link StatusRuntimeException}s. */
final class Futures {
  private Futures() {}

  /** Completes a future with a call's last message, or with its failure. */
  static class LastValue<T> implements io.grpc.stub.StreamObserver<T> {
    private final CompletableFuture<T> done;
    private T last;

    LastValue(CompletableFuture<T> done) {
      this.done = done;
    }

    @Override
    public void onNext(T v) {
      last = v;
    }

    @Override
    public void onError(Throwable t) {
      done.completeExceptionally(t);
    }

    @Override
    public void onCompleted() {
      done.complete(last);
    }
  }

  /** {@code t} as a StatusRuntimeException, keeping its status and trailers where it has them. */
  static StatusRuntimeException asStatusException(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof StatusRuntimeException sre) {
      return sre;
    }
    if (t instanceof StatusException se) {
      return se.getStatus().asRuntimeException(se.getTrailers());
    }
    return Status.fromThrowable(t).asRuntimeException();
  }

  /** Completes when every call did, exceptionally (a StatusRuntimeException) if one failed. */
  static <T> CompletableFuture<Void> allOf(List<CompletableFuture<T>> calls) {
    return CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new));
  }

  /** Waits for a future; its failure is rethrown as a StatusRuntimeException. */
  static <T> T await(CompletableFuture<T> f) {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
    } catch (ExecutionException e) {
      throw asStatusException(e.getCause());
    }
  }

  /** Waits for every call; the first failure (a StatusRuntimeException) is rethrown. */
  static <T> List<T> awaitAll(List<CompletableFuture<T>> calls) {
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
      throw asStatusException(e.getCause());
    }
  }
}
