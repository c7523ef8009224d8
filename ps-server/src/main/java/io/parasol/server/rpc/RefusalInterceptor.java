package io.parasol.server.rpc;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.parasol.common.MetricNames;

/**
 * Sees every call the server answers with a status other than OK, whoever decided it (the
 * service, the lenient parser, the token check): counts it in
 * {@code parasol.shard.refused{shard, method, status}} and hands it to the {@link RefusalLog}.
 * Install it on the server builder after any other interceptor, so that it runs first and sees
 * their answers too.
 */
public final class RefusalInterceptor implements ServerInterceptor {
  private final String shard;
  private final MeterRegistry registry;
  private final RefusalLog log;

  /** @param registry where the counter goes; null: no counter */
  public RefusalInterceptor(int shardIndex, MeterRegistry registry, RefusalLog log) {
    this.shard = Integer.toString(shardIndex);
    this.registry = registry;
    this.log = log;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        if (!status.isOk()) {
          refused(call.getMethodDescriptor().getBareMethodName(), status);
        }
        super.close(status, trailers);
      }
    }, headers);
  }

  private void refused(String method, Status status) {
    if (registry != null) {
      Counter.builder(MetricNames.SHARD_REFUSED)
          .description("Calls the shard answered with a status other than OK")
          .tag("shard", shard).tag("method", method == null ? "?" : method)
          .tag("status", status.getCode().name())
          .register(registry).increment();
    }
    log.refused(method, status);
  }
}
