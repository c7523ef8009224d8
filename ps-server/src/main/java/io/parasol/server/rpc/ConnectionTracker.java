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
import java.util.function.Consumer;

/**
 * Failure detection from the transport: a worker whose every connection to this shard has
 * closed (a killed process's sockets close at once) is reported lost right away, instead of
 * when its lease runs out. The lease stays the upper bound for a worker that hangs with its
 * connections open. A worker is tied to the connections it heartbeat, pulled or pushed over
 * (calls the shard accepted only); one with another connection still open is not reported (no
 * false expiry when a client reconnects), and a worker reported lost rejoins with its next
 * call, as after an expiry. Workers are told apart by job and index: worker 0 of one job and
 * worker 0 of another are different processes.
 */
public final class ConnectionTracker extends ServerTransportFilter implements ServerInterceptor {
  private static final Attributes.Key<Set<Member>> WORKERS =
      Attributes.Key.create("parasol.connection.workers");

  /** A worker of a job (the name as its calls carry it; empty is the default job). */
  public record Member(String job, int worker) {}

  private final Consumer<Member> lost;
  /** Per worker, its open connections that carried its calls. */
  private final Map<Member, Integer> open = new ConcurrentHashMap<>();

  /** @param lost called with a worker when its last connection closed */
  public ConnectionTracker(Consumer<Member> lost) {
    this.lost = lost;
  }

  @Override
  public Attributes transportReady(Attributes attrs) {
    return attrs.toBuilder().set(WORKERS, ConcurrentHashMap.newKeySet()).build();
  }

  @Override
  public void transportTerminated(Attributes attrs) {
    // Null for a transport that closed before it was ready.
    Set<Member> workers = attrs == null ? null : attrs.get(WORKERS);
    if (workers == null) {
      return;
    }
    for (Member w : workers) {
      Integer left = open.computeIfPresent(w, (k, n) -> n > 1 ? n - 1 : null);
      if (left == null) {
        lost.accept(w);
      }
    }
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    Set<Member> workers = call.getAttributes().get(WORKERS);
    if (workers == null) {
      return next.startCall(call, headers);
    }
    // The worker is tied to the connection only by a call the shard accepted: a request with
    // another job's fingerprint or a bad worker id ties nothing.
    Member[] worker = {null};
    boolean[] seen = {false};
    ServerCall<Q, R> watched = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        Member w = worker[0];
        if (status.isOk() && w != null && workers.add(w)) {
          open.merge(w, 1, Integer::sum);
        }
        super.close(status, trailers);
      }
    };
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
        next.startCall(watched, headers)) {
      @Override
      public void onMessage(Q message) {
        if (!seen[0]) {
          seen[0] = true;
          worker[0] = workerOf(message);
        }
        super.onMessage(message);
      }
    };
  }

  /** The worker a call's first message names; null for none (a leaving heartbeat included). */
  private static Member workerOf(Object m) {
    if (m instanceof HeartbeatRequest h) {
      return h.getLeaving() || h.getWorker() < 0 ? null
          : new Member(h.getJobName(), h.getWorker());
    }
    if (m instanceof PullRequest p) {
      return p.getWorker() < 0 ? null : new Member(p.getJobName(), p.getWorker());
    }
    if (m instanceof PushMessage p && p.hasHeader()) {
      return p.getHeader().getWorker() < 0 ? null
          : new Member(p.getHeader().getJobName(), p.getHeader().getWorker());
    }
    return null;
  }
}
