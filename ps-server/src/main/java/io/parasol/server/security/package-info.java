/**
 * Call authentication for the shard: {@link
 * io.parasol.server.security.BearerTokenInterceptor}, a gRPC interceptor that requires a bearer
 * token on every call except health checks. TLS material comes from
 * {@code io.parasol.common.security}. Depends on gRPC and common only.
 */
package io.parasol.server.security;
