package io.parasol.server.security;

import io.parasol.common.security.BearerToken;
import io.parasol.common.security.TlsConfig;
import io.parasol.common.security.Tokens;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ChannelCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checking TLS files and flags up front, and the credentials made from them. */
class TlsConfigTest {
  @TempDir
  Path dir;

  private static String s(Path p) {
    return p.toString();
  }

  @Test
  void server_missingCertificate_namesFlagAndFile() {
    Path missing = dir.resolve("missing.pem");

    assertThatThrownBy(() -> TlsConfig.server(s(missing), s(dir.resolve("k")), null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--tls-cert file " + missing + " not readable");
  }

  @Test
  void server_directoryAsClientCa_isNotReadable() throws Exception {
    TestPki pki = TestPki.create(dir);
    Path sub = Files.createDirectories(dir.resolve("sub"));

    assertThatThrownBy(() -> TlsConfig.server(s(pki.serverCert()), s(pki.serverKey()), s(sub)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--tls-client-ca file " + sub + " not readable");
  }

  @Test
  void server_certificateWithoutKey_isRejected() {
    assertThatThrownBy(() -> TlsConfig.server(s(dir.resolve("c")), null, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--tls-cert and --tls-key");
  }

  @Test
  void serverFromFlags_noFlags_isPlaintext() {
    assertThat(TlsConfig.serverFromFlags(null, null, null)).isNull();
  }

  @Test
  void serverFromFlags_clientCaAlone_isRejected() {
    assertThatThrownBy(() -> TlsConfig.serverFromFlags(null, null, s(dir.resolve("ca.pem"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--tls-client-ca needs --tls-cert and --tls-key");
  }

  @Test
  void client_certificateWithoutKey_isRejected() {
    assertThatThrownBy(() -> TlsConfig.client(null, s(dir.resolve("c")), null, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--tls-cert and --tls-key together");
  }

  @Test
  void client_blankAuthority_isRejected() {
    assertThatThrownBy(() -> TlsConfig.client(null, null, null, " "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--tls-authority is blank");
  }

  @Test
  void client_missingCa_namesFlagAndFile() {
    Path missing = dir.resolve("ca.pem");

    assertThatThrownBy(() -> TlsConfig.client(s(missing), null, null, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--tls-ca file " + missing + " not readable");
  }

  @Test
  void client_noFiles_usesSystemTrust() {
    TlsConfig tls = TlsConfig.client(null, null, null, null);

    assertThat(tls.channelCredentials()).isInstanceOf(TlsChannelCredentials.class);
    assertThat(tls.mutual()).isFalse();
    assertThat(tls.isServer()).isFalse();
  }

  @Test
  void server_goodFiles_makesTlsCredentials() throws Exception {
    TestPki pki = TestPki.create(dir);

    TlsConfig tls = TlsConfig.server(s(pki.serverCert()), s(pki.serverKey()), null);
    ServerCredentials creds = tls.serverCredentials();

    assertThat(creds).isInstanceOf(TlsServerCredentials.class);
    assertThat(((TlsServerCredentials) creds).getClientAuth())
        .isEqualTo(TlsServerCredentials.ClientAuth.NONE);
    assertThat(tls.mutual()).isFalse();
    assertThat(tls.toString()).contains(s(pki.serverCert())).doesNotContain("BEGIN");
  }

  @Test
  void server_clientCa_requiresClientCertificates() throws Exception {
    TestPki pki = TestPki.create(dir);

    TlsConfig tls = TlsConfig.server(s(pki.serverCert()), s(pki.serverKey()), s(pki.caCert()));

    assertThat(((TlsServerCredentials) tls.serverCredentials()).getClientAuth())
        .isEqualTo(TlsServerCredentials.ClientAuth.REQUIRE);
    assertThat(tls.mutual()).isTrue();
  }

  @Test
  void client_certificateAndKey_makesMutualCredentials() throws Exception {
    TestPki pki = TestPki.create(dir);

    TlsConfig tls = TlsConfig.client(s(pki.caCert()), s(pki.clientCert()), s(pki.clientKey()),
        "localhost");
    ChannelCredentials creds = tls.channelCredentials();

    assertThat(((TlsChannelCredentials) creds).getCertificateChain()).isNotNull();
    assertThat(tls.mutual()).isTrue();
    assertThat(tls.authorityOverride()).isEqualTo("localhost");
  }

  @Test
  void server_keyGivenAsCertificate_isRejected() throws Exception {
    TestPki pki = TestPki.create(dir);

    assertThatThrownBy(() -> TlsConfig.server(s(pki.serverKey()), s(pki.serverKey()), null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--tls-cert file " + pki.serverKey())
        .hasMessageContaining("no PEM certificate");
  }

  @Test
  void server_certificateGivenAsKey_isRejected() throws Exception {
    TestPki pki = TestPki.create(dir);

    assertThatThrownBy(() -> TlsConfig.server(s(pki.serverCert()), s(pki.serverCert()), null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--tls-key file " + pki.serverCert())
        .hasMessageContaining("no PKCS#8");
  }

  @Test
  void server_sec1Key_isRejectedWithConversionHint() throws Exception {
    TestPki pki = TestPki.create(dir);
    Path sec1 = pki.serverKeySec1();
    String body = Files.readAllLines(sec1).get(1);

    assertThatThrownBy(() -> TlsConfig.server(s(pki.serverCert()), s(sec1), null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--tls-key file " + sec1)
        .hasMessageContaining("openssl pkcs8 -topk8 -nocrypt")
        .hasMessageNotContaining(body);
  }

  @Test
  void server_keyOfAnotherCertificate_isRejected() throws Exception {
    TestPki pki = TestPki.create(dir);

    assertThatThrownBy(() -> TlsConfig.server(s(pki.serverCert()), s(pki.clientKey()), null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--tls-key file " + pki.clientKey()
            + " does not match the certificate in --tls-cert file " + pki.serverCert());
  }

  @Test
  void server_corruptKey_isRejectedWithoutEchoingIt() throws Exception {
    TestPki pki = TestPki.create(dir);
    Path key = Files.writeString(dir.resolve("corrupt.key"),
        "-----BEGIN PRIVATE KEY-----\nQUJDREVGR0hJSktM\n-----END PRIVATE KEY-----\n");

    assertThatThrownBy(() -> TlsConfig.server(s(pki.serverCert()), s(key), null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--tls-key file " + key
            + " is not a PKCS#8 RSA, EC, EdDSA or DSA private key");
  }

  @Test
  void credentials_wrongSide_isIllegalState() throws Exception {
    TestPki pki = TestPki.create(dir);
    TlsConfig server = TlsConfig.server(s(pki.serverCert()), s(pki.serverKey()), null);

    assertThatThrownBy(server::channelCredentials).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> TlsConfig.client(null, null, null, null).serverCredentials())
        .isInstanceOf(IllegalStateException.class);
  }
}
