package io.parasol.server.security;

import io.parasol.common.security.BearerToken;
import io.parasol.common.security.TlsConfig;
import io.parasol.common.security.Tokens;
import static io.parasol.server.security.ShardFixture.failure;
import static io.parasol.server.security.ShardFixture.health;
import static io.parasol.server.security.ShardFixture.status;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.CompositeChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS, mutual TLS and the bearer token together, on a real shard over 127.0.0.1, with
 * certificates made by openssl for this run (skipped without openssl).
 */
class TlsIntegrationTest {
  private static final String TOKEN = "tls-test-token_9f2c";
  private static final String WRONG = "tls-test-token_0000";

  @TempDir
  static Path pkiDir;

  private static TestPki pki;

  private ShardFixture shard;

  @BeforeAll
  static void makePki() throws Exception {
    pki = TestPki.create(pkiDir);
  }

  @AfterEach
  void stop() {
    if (shard != null) {
      shard.close();
    }
  }

  private static String s(Path p) {
    return p == null ? null : p.toString();
  }

  /** Starts a TLS shard guarded by the token; {@code clientCa} non-null turns on mTLS. */
  private void startServer(Path clientCa) throws Exception {
    TlsConfig tls = TlsConfig.server(s(pki.serverCert()), s(pki.serverKey()), s(clientCa));
    shard = ShardFixture.start(TlsConfig.serverBuilder("127.0.0.1", 0, tls.serverCredentials())
        .intercept(BearerTokenInterceptor.standard(TOKEN)));
  }

  /** A TLS channel trusting {@code ca}, presenting a client certificate if given. */
  private ManagedChannel client(Path ca, Path cert, Path key) {
    TlsConfig tls = TlsConfig.client(s(ca), s(cert), s(key), "localhost");
    return shard.channel(tls.newChannelBuilder(shard.target()));
  }

  private static void print(String test, StatusRuntimeException e) {
    Throwable cause = e.getStatus().getCause();
    System.out.println(test + ": " + e.getStatus().getCode() + " (" + e.getStatus().getDescription()
        + (cause == null ? "" : "; " + cause.getClass().getSimpleName() + ": " + cause.getMessage())
        + ")");
  }

  @Test
  void tls_rightToken_isOk() throws Exception {
    startServer(null);
    ManagedChannel ch = client(pki.caCert(), null, null);

    assertThat(status(ch, BearerToken.requiringTls(TOKEN)).getShard()).isZero();
  }

  @Test
  void tls_noToken_isUnauthenticated() throws Exception {
    startServer(null);
    ManagedChannel ch = client(pki.caCert(), null, null);

    StatusRuntimeException e = failure(() -> status(ch, null));

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
  }

  @Test
  void tls_wrongToken_isPermissionDeniedAndNotEchoed() throws Exception {
    startServer(null);
    ManagedChannel ch = client(pki.caCert(), null, null);

    StatusRuntimeException e = failure(() -> status(ch, new BearerToken(WRONG)));

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(e.getMessage()).doesNotContain(WRONG).doesNotContain(TOKEN);
    assertThat(String.valueOf(e.getTrailers())).doesNotContain(WRONG).doesNotContain(TOKEN);
  }

  @Test
  void tls_healthCheckWithoutToken_isOk() throws Exception {
    startServer(null);
    ManagedChannel ch = client(pki.caCert(), null, null);

    assertThat(health(ch).getStatus()).isEqualTo(ServingStatus.SERVING);
  }

  @Test
  void tls_plaintextClient_isUnavailable() throws Exception {
    startServer(null);
    ManagedChannel ch = shard.channel(TlsConfig.channelBuilder(shard.target(), null, null));

    StatusRuntimeException e = failure(() -> status(ch, new BearerToken(TOKEN)));

    print("tls_plaintextClient", e);
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
  }

  @Test
  void tls_clientTrustingAnotherCa_isUnavailable() throws Exception {
    startServer(null);
    ManagedChannel ch = client(pki.otherCaCert(), null, null);

    StatusRuntimeException e = failure(() -> status(ch, BearerToken.requiringTls(TOKEN)));

    print("tls_clientTrustingAnotherCa", e);
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
  }

  @Test
  void tls_systemTrustOnly_isUnavailable() throws Exception {
    startServer(null);
    ManagedChannel ch = client(null, null, null);

    StatusRuntimeException e = failure(() -> status(ch, BearerToken.requiringTls(TOKEN)));

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
  }

  @Test
  void tls_authorityNotInCertificate_isUnavailable() throws Exception {
    startServer(null);
    TlsConfig tls = TlsConfig.client(s(pki.caCert()), null, null, "parasol.example");
    ManagedChannel ch = shard.channel(tls.newChannelBuilder(shard.target()));

    StatusRuntimeException e = failure(() -> status(ch, BearerToken.requiringTls(TOKEN)));

    print("tls_authorityNotInCertificate", e);
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
  }

  @Test
  void tls_ipAddressInSubjectAltName_isOkWithoutAuthorityOverride() throws Exception {
    startServer(null);
    TlsConfig tls = TlsConfig.client(s(pki.caCert()), null, null, null);
    ManagedChannel ch = shard.channel(tls.newChannelBuilder(shard.target()));

    assertThat(status(ch, BearerToken.requiringTls(TOKEN)).getShard()).isZero();
  }

  @Test
  void mtls_clientWithoutCertificate_isRefused() throws Exception {
    startServer(pki.caCert());
    ManagedChannel ch = client(pki.caCert(), null, null);

    StatusRuntimeException e = failure(() -> status(ch, BearerToken.requiringTls(TOKEN)));

    print("mtls_clientWithoutCertificate", e);
    assertThat(e.getStatus().getCode()).isIn(Status.Code.UNAVAILABLE, Status.Code.UNAUTHENTICATED);
  }

  @Test
  void mtls_clientCertificateFromAnotherCa_isRefused() throws Exception {
    startServer(pki.caCert());
    ManagedChannel ch = client(pki.caCert(), pki.otherClientCert(), pki.otherClientKey());

    StatusRuntimeException e = failure(() -> status(ch, BearerToken.requiringTls(TOKEN)));

    print("mtls_clientCertificateFromAnotherCa", e);
    assertThat(e.getStatus().getCode()).isIn(Status.Code.UNAVAILABLE, Status.Code.UNAUTHENTICATED);
  }

  @Test
  void mtls_goodClientCertificateAndToken_isOk() throws Exception {
    startServer(pki.caCert());
    ManagedChannel ch = client(pki.caCert(), pki.clientCert(), pki.clientKey());

    assertThat(status(ch, BearerToken.requiringTls(TOKEN)).getShard()).isZero();
    assertThat(health(ch).getStatus()).isEqualTo(ServingStatus.SERVING);
  }

  @Test
  void mtls_tokenOnChannelCredentials_isOk() throws Exception {
    startServer(pki.caCert());
    TlsConfig tls = TlsConfig.client(s(pki.caCert()), s(pki.clientCert()), s(pki.clientKey()),
        "localhost");
    ManagedChannel ch = shard.channel(TlsConfig.channelBuilder(shard.target(),
        CompositeChannelCredentials.create(tls.channelCredentials(),
            BearerToken.requiringTls(TOKEN)), tls.authorityOverride()));

    assertThat(status(ch, null).getShard()).isZero();
  }

  @Test
  void mtls_goodClientCertificateWithoutToken_isUnauthenticated() throws Exception {
    startServer(pki.caCert());
    ManagedChannel ch = client(pki.caCert(), pki.clientCert(), pki.clientKey());

    StatusRuntimeException e = failure(() -> status(ch, null));

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
  }
}
