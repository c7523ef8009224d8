package io.parasol.common.security;

import io.grpc.CallCredentials;
import io.grpc.Metadata;
import io.grpc.SecurityLevel;
import io.grpc.Status;
import java.util.concurrent.Executor;

/**
 * Client call credentials that add {@code authorization: Bearer <token>} to every call, for a
 * server guarded by {@link BearerTokenInterceptor}.
 *
 * <p>Attach to a stub ({@code stub.withCallCredentials(token)}) or to a whole channel through
 * {@code io.grpc.CompositeChannelCredentials}. By default the token is sent over any transport,
 * plaintext included; {@link #requiringTls} refuses (UNAUTHENTICATED) to send it over a channel
 * without privacy and integrity. {@link #toString} never shows the token.
 */
public final class BearerToken extends CallCredentials {
  /** The {@code authorization} header. */
  public static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  /** The scheme prefix of the header value, including its separating space. */
  public static final String SCHEME = "Bearer ";

  private final Metadata headers = new Metadata();
  private final boolean requireTls;

  /**
   * Credentials sending {@code token} over any transport.
   *
   * @throws IllegalArgumentException if the token is empty or has whitespace, control or
   *     non-ASCII characters
   */
  public BearerToken(String token) {
    this(token, false);
  }

  private BearerToken(String token, boolean requireTls) {
    Tokens.validate(token, "the client configuration");
    headers.put(AUTHORIZATION, SCHEME + token);
    this.requireTls = requireTls;
  }

  /** Credentials that fail a call rather than send {@code token} without TLS. */
  public static BearerToken requiringTls(String token) {
    return new BearerToken(token, true);
  }

  @Override
  public void applyRequestMetadata(RequestInfo info, Executor appExecutor,
      MetadataApplier applier) {
    if (requireTls && info.getSecurityLevel() != SecurityLevel.PRIVACY_AND_INTEGRITY) {
      applier.fail(Status.UNAUTHENTICATED.withDescription(
          "refusing to send the bearer token over a channel without TLS"));
      return;
    }
    Metadata copy = new Metadata();
    copy.merge(headers);
    applier.apply(copy);
  }

  @Override
  public String toString() {
    return "BearerToken{token=<redacted>" + (requireTls ? ", requireTls" : "") + "}";
  }
}
