package io.parasol.server.rpc;

import com.google.protobuf.Message;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.parasol.common.MetricNames;
import io.parasol.proto.v1.DeleteRequest;
import io.parasol.proto.v1.HeartbeatRequest;
import io.parasol.proto.v1.InitRequest;
import io.parasol.proto.v1.PullRequest;
import io.parasol.proto.v1.PushMessage;
import io.parasol.proto.v1.StatusRequest;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;

/**
 * Sees every call the server answers with a status other than OK, whoever decided it (the
 * service, the lenient parser, the token check): counts it in
 * {@code parasol.shard.refused{shard, parasol_job, method, status}} and hands it to the {@link
 * RefusalLog}. Install it on the server builder after any other interceptor, so that it runs
 * first and sees their answers too.
 *
 * <p>The {@code parasol_job} label is the job the call's first message names (as {@link
 * ConnectionTracker} reads it) only if the shard holds that job when the call is answered, else
 * {@value #NO_JOB}: a call without a readable request, one refused before it sent one (a bad
 * token), one naming a job the shard does not hold, or one whose job ended while it waited. A
 * client sending random job names therefore adds no series; the label's values are bounded by
 * the jobs the shard holds, and a job's series go away with the job's other meters when it ends.
 */
public final class RefusalInterceptor implements ServerInterceptor {
  /** The {@code parasol_job} label of a refusal no job the shard holds can be named for. */
  public static final String NO_JOB = "-";

  private final String shard;
  private final MeterRegistry registry;
  private final RefusalLog log;
  private final UnaryOperator<String> heldJob;

  /**
   * @param registry where the counter goes; null: no counter
   * @param heldJob the name of the job the shard holds that a requested job name means, or
   *     null when it holds none such ({@link io.parasol.server.core.ShardCore#heldJob})
   */
  public RefusalInterceptor(int shardIndex, MeterRegistry registry, RefusalLog log,
      UnaryOperator<String> heldJob) {
    this.shard = Integer.toString(shardIndex);
    this.registry = registry;
    this.log = log;
    this.heldJob = heldJob;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    // The job name the first message carries (null: none yet, or none readable).
    AtomicReference<String> named = new AtomicReference<>();
    AtomicBoolean seen = new AtomicBoolean();
    ServerCall<Q, R> watched = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        if (!status.isOk()) {
          refused(call.getMethodDescriptor().getBareMethodName(), status, named.get());
        }
        super.close(status, trailers);
      }
    };
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
        next.startCall(watched, headers)) {
      @Override
      public void onMessage(Q message) {
        if (seen.compareAndSet(false, true)) {
          named.set(jobNameOf(message));
        }
        super.onMessage(message);
      }
    };
  }

  /** The job name a request names; null for a message that names none or did not parse. */
  static String jobNameOf(Object m) {
    if (m instanceof Message msg && LenientParsing.isUnparseable(msg)) {
      return null;
    }
    if (m instanceof PullRequest r) {
      return r.getJobName();
    }
    if (m instanceof PushMessage r) {
      return r.hasHeader() ? r.getHeader().getJobName() : null;
    }
    if (m instanceof HeartbeatRequest r) {
      return r.getJobName();
    }
    if (m instanceof StatusRequest r) {
      return r.getJobName();
    }
    if (m instanceof InitRequest r) {
      return r.getSpec().getJobName();
    }
    if (m instanceof DeleteRequest r) {
      return r.getJobName();
    }
    return null;
  }

  private void refused(String method, Status status, String requestedJob) {
    if (registry != null) {
      String job = requestedJob == null ? null : heldJob.apply(requestedJob);
      Counter.builder(MetricNames.SHARD_REFUSED)
          .description("Calls the shard answered with a status other than OK")
          .tag("shard", shard).tag(MetricNames.JOB_TAG, job == null ? NO_JOB : job)
          .tag("method", method == null ? "?" : method)
          .tag("status", status.getCode().name())
          .register(registry).increment();
    }
    log.refused(method, status);
  }
}
