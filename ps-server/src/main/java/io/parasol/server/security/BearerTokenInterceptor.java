package io.parasol.server.security;

import io.grpc.Grpc;
import io.grpc.Metadata;
import io.parasol.common.security.Tokens;
import io.parasol.common.security.BearerToken;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.health.v1.HealthGrpc;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Collection;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admits a call only if its {@code authorization} header is {@code Bearer <token>} with the
 * shared token; methods named at construction are let through unchecked.
 *
 * <p>A call without the header is closed with UNAUTHENTICATED ("missing bearer token"); another
 * scheme or another token gets PERMISSION_DENIED ("invalid bearer token"). The scheme is matched
 * case-insensitively (RFC 7235). Tokens are compared in constant time, and neither the expected
 * nor the presented token is ever logged or put in a status.
 *
 * <p>Install it on the whole server, so it covers every service:
 * {@code serverBuilder.intercept(BearerTokenInterceptor.standard(token))}.
 */
public final class BearerTokenInterceptor implements ServerInterceptor {
  private static final Logger log = LoggerFactory.getLogger(BearerTokenInterceptor.class);

  /** The {@code authorization} header. */
  public static final Metadata.Key<String> AUTHORIZATION = BearerToken.AUTHORIZATION;

  /** The scheme prefix of the header value, including its separating space. */
  static final String SCHEME = BearerToken.SCHEME;

  /** The gRPC health service's methods, which orchestrator probes call without a token. */
  public static final Set<String> HEALTH_METHODS = Set.of(
      HealthGrpc.getCheckMethod().getFullMethodName(),
      HealthGrpc.getWatchMethod().getFullMethodName());

  private final byte[] expected;
  private final Set<String> exempt;

  /** Checks every method against {@code token}. */
  public BearerTokenInterceptor(String token) {
    this(token, Set.of());
  }

  /**
   * Checks every method against {@code token} except those whose full method names
   * ({@code package.Service/Method}) are in {@code exemptMethods}.
   *
   * @throws IllegalArgumentException if the token is empty or has whitespace, control or
   *     non-ASCII characters
   */
  public BearerTokenInterceptor(String token, Collection<String> exemptMethods) {
    this.expected = Tokens.validate(token, "the server configuration")
        .getBytes(StandardCharsets.UTF_8);
    this.exempt = Set.copyOf(exemptMethods);
  }

  /** Checks every method except the gRPC health service's ({@link #HEALTH_METHODS}). */
  public static BearerTokenInterceptor standard(String token) {
    return new BearerTokenInterceptor(token, HEALTH_METHODS);
  }

  /** The full method names let through without a token. */
  public Set<String> exemptMethods() {
    return exempt;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call,
      Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    if (exempt.contains(method)) {
      return next.startCall(call, headers);
    }
    String value = headers.get(AUTHORIZATION);
    if (value == null) {
      return refuse(call, method, Status.UNAUTHENTICATED.withDescription("missing bearer token"));
    }
    if (!accepted(value)) {
      return refuse(call, method,
          Status.PERMISSION_DENIED.withDescription("invalid bearer token"));
    }
    return next.startCall(call, headers);
  }

  private boolean accepted(String value) {
    if (!value.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
      return false;
    }
    byte[] presented = value.substring(SCHEME.length()).strip().getBytes(StandardCharsets.UTF_8);
    // isEqual's running time depends on its first argument's length only: the presented token,
    // which the caller knows anyway; it reveals nothing about the expected one.
    return MessageDigest.isEqual(presented, expected);
  }

  private static <ReqT, RespT> ServerCall.Listener<ReqT> refuse(ServerCall<ReqT, RespT> call,
      String method, Status status) {
    log.debug("refused {} from {}: {}", method,
        call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR), status.getDescription());
    call.close(status, new Metadata());
    return new ServerCall.Listener<>() {};
  }

  @Override
  public String toString() {
    return "BearerTokenInterceptor{exempt=" + exempt + "}";
  }
}
