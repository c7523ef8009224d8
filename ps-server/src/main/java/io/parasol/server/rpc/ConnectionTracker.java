package io.parasol.server.rpc;

import io.grpc.Attributes;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerTransportFilter;
import io.grpc.Status;
import io.parasol.proto.v1.HeartbeatRequest;
import io.parasol.proto.v1.PullRequest;
import io.parasol.proto.v1.PushMessage;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntConsumer;

/**
 * Failure detection from the transport: a worker whose every connection to this shard has
 * closed (a killed process's sockets close at once) is reported lost right away, instead of
 * when its lease runs out. The lease stays the upper bound for a worker that hangs with its
 * connections open. A worker is tied to the connections it heartbeat, pulled or pushed over
 * (calls the shard accepted only); one with another connection still open is not reported (no
 * false expiry when a client reconnects), and a worker reported lost rejoins with its next
 * call, as after an expiry.
 */
public final class ConnectionTracker extends ServerTransportFilter implements ServerInterceptor {
  private static final Attributes.Key<Set<Integer>> WORKERS =
      Attributes.Key.create("parasol.connection.workers");

  private final IntConsumer lost;
  /** Per worker, its open connections that carried its calls. */
  private final Map<Integer, Integer> open = new ConcurrentHashMap<>();

  /** @param lost called with a worker id when its last connection closed */
  public ConnectionTracker(IntConsumer lost) {
    this.lost = lost;
  }

  @Override
  public Attributes transportReady(Attributes attrs) {
    return attrs.toBuilder().set(WORKERS, ConcurrentHashMap.newKeySet()).build();
  }

  @Override
  public void transportTerminated(Attributes attrs) {
    // Null for a transport that closed before it was ready.
    Set<Integer> workers = attrs == null ? null : attrs.get(WORKERS);
    if (workers == null) {
      return;
    }
    for (int w : workers) {
      Integer left = open.computeIfPresent(w, (k, n) -> n > 1 ? n - 1 : null);
      if (left == null) {
        lost.accept(w);
      }
    }
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    Set<Integer> workers = call.getAttributes().get(WORKERS);
    if (workers == null) {
      return next.startCall(call, headers);
    }
    // The worker is tied to the connection only by a call the shard accepted: a request with
    // another job's fingerprint or a bad worker id ties nothing.
    int[] worker = {-1};
    ServerCall<Q, R> watched = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        int w = worker[0];
        if (status.isOk() && w >= 0 && workers.add(w)) {
          open.merge(w, 1, Integer::sum);
        }
        super.close(status, trailers);
      }
    };
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
        next.startCall(watched, headers)) {
      @Override
      public void onMessage(Q message) {
        if (worker[0] < 0) {
          worker[0] = workerOf(message);
        }
        super.onMessage(message);
      }
    };
  }

  /** The worker a call's first message names; -1 for none (a leaving heartbeat included). */
  private static int workerOf(Object m) {
    if (m instanceof HeartbeatRequest h) {
      return h.getLeaving() ? -1 : h.getWorker();
    }
    if (m instanceof PullRequest p) {
      return p.getWorker();
    }
    if (m instanceof PushMessage p && p.hasHeader()) {
      return p.getHeader().getWorker();
    }
    return -1;
  }
}
