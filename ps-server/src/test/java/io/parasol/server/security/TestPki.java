package io.parasol.server.security;

import io.parasol.common.security.BearerToken;
import io.parasol.common.security.TlsConfig;
import io.parasol.common.security.Tokens;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Assumptions;

/**
 * A throwaway PKI for tests, made at run time with the {@code openssl} command-line tool: a CA,
 * a server certificate for {@code localhost} and 127.0.0.1, a client certificate, and a second,
 * unrelated CA with its own client certificate for negative tests. Keys are EC P-256 in
 * unencrypted PKCS#8 PEM, certificates PEM, valid for two days.
 *
 * <p>{@link #create} skips the calling test (a JUnit assumption) when openssl is missing.
 */
public final class TestPki {
  private static final long TIMEOUT_SECONDS = 30;
  private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

  private static final String CONFIG = String.join("\n",
      "[req]",
      "distinguished_name = dn",
      "prompt = no",
      "[dn]",
      "CN = unused",
      "[ca_ext]",
      "basicConstraints = critical, CA:TRUE",
      "keyUsage = critical, keyCertSign, cRLSign",
      "subjectKeyIdentifier = hash",
      "[server_ext]",
      "basicConstraints = critical, CA:FALSE",
      "keyUsage = critical, digitalSignature, keyEncipherment",
      "extendedKeyUsage = serverAuth",
      "subjectAltName = DNS:localhost, IP:127.0.0.1",
      "subjectKeyIdentifier = hash",
      "authorityKeyIdentifier = keyid",
      "[client_ext]",
      "basicConstraints = critical, CA:FALSE",
      "keyUsage = critical, digitalSignature, keyEncipherment",
      "extendedKeyUsage = clientAuth",
      "subjectKeyIdentifier = hash",
      "authorityKeyIdentifier = keyid",
      "");

  private final Path dir;
  private final String openssl;

  private TestPki(Path dir, String openssl) {
    this.dir = dir;
    this.openssl = openssl;
  }

  /**
   * Generates the PKI into {@code dir} (a {@code @TempDir}); skips the test when openssl is not
   * installed.
   */
  public static TestPki create(Path dir) throws IOException, InterruptedException {
    String openssl = findOpenssl();
    Assumptions.assumeTrue(openssl != null,
        "openssl command-line tool not found (PATH or /usr/bin/openssl): skipping TLS tests");
    TestPki pki = new TestPki(dir, openssl);
    Files.writeString(pki.config(), CONFIG, StandardCharsets.US_ASCII);
    pki.ca("ca", "Parasol Test CA");
    pki.leaf("server", "localhost", "ca", "server_ext");
    pki.leaf("client", "parasol-worker", "ca", "client_ext");
    pki.ca("other-ca", "Unrelated Test CA");
    pki.leaf("other-client", "intruder", "other-ca", "client_ext");
    return pki;
  }

  /** The directory holding every file. */
  public Path dir() {
    return dir;
  }

  /** The CA certificate that signed the server and client certificates. */
  public Path caCert() {
    return dir.resolve("ca.pem");
  }

  /** The server certificate: CN=localhost, SAN DNS:localhost, IP:127.0.0.1. */
  public Path serverCert() {
    return dir.resolve("server.pem");
  }

  /** The server's PKCS#8 private key. */
  public Path serverKey() {
    return dir.resolve("server.key");
  }

  /** A client certificate (CN=parasol-worker, clientAuth) signed by {@link #caCert}. */
  public Path clientCert() {
    return dir.resolve("client.pem");
  }

  /** The client's PKCS#8 private key. */
  public Path clientKey() {
    return dir.resolve("client.key");
  }

  /** A second CA, unrelated to {@link #caCert}. */
  public Path otherCaCert() {
    return dir.resolve("other-ca.pem");
  }

  /** A client certificate signed by the unrelated CA. */
  public Path otherClientCert() {
    return dir.resolve("other-client.pem");
  }

  /** The unrelated client's PKCS#8 private key. */
  public Path otherClientKey() {
    return dir.resolve("other-client.key");
  }

  /** The same server key in the traditional SEC1 format (not PKCS#8), for negative tests. */
  public Path serverKeySec1() throws IOException, InterruptedException {
    Path out = dir.resolve("server-sec1.key");
    if (!Files.exists(out)) {
      run("ec", "-in", serverKey().toString(), "-out", out.toString());
    }
    return out;
  }

  private Path config() {
    return dir.resolve("openssl.cnf");
  }

  private void ca(String name, String cn) throws IOException, InterruptedException {
    key(name);
    run("req", "-new", "-x509", "-config", config().toString(), "-extensions", "ca_ext",
        "-key", dir.resolve(name + ".key").toString(), "-subj", "/CN=" + cn, "-days", "2",
        "-set_serial", Long.toString(SERIAL.incrementAndGet()),
        "-out", dir.resolve(name + ".pem").toString());
  }

  private void leaf(String name, String cn, String ca, String extensions)
      throws IOException, InterruptedException {
    key(name);
    Path csr = dir.resolve(name + ".csr");
    run("req", "-new", "-config", config().toString(),
        "-key", dir.resolve(name + ".key").toString(), "-subj", "/CN=" + cn,
        "-out", csr.toString());
    run("x509", "-req", "-in", csr.toString(), "-CA", dir.resolve(ca + ".pem").toString(),
        "-CAkey", dir.resolve(ca + ".key").toString(),
        "-set_serial", Long.toString(SERIAL.incrementAndGet()), "-days", "2", "-sha256",
        "-extfile", config().toString(), "-extensions", extensions,
        "-out", dir.resolve(name + ".pem").toString());
  }

  /** An EC P-256 key, converted to unencrypted PKCS#8 PEM in {@code name.key}. */
  private void key(String name) throws IOException, InterruptedException {
    Path raw = dir.resolve(name + ".raw.key");
    run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-out", raw.toString());
    run("pkcs8", "-topk8", "-nocrypt", "-in", raw.toString(),
        "-out", dir.resolve(name + ".key").toString());
    Files.delete(raw);
  }

  private void run(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(openssl);
    command.addAll(List.of(args));
    Path log = dir.resolve("openssl.log");
    ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile())
        .redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("OPENSSL_CONF", config().toString());
    Process p = pb.start();
    p.getOutputStream().close();
    if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("openssl timed out: " + command);
    }
    if (p.exitValue() != 0) {
      throw new IllegalStateException("openssl failed (exit " + p.exitValue() + "): " + command
          + "\n" + Files.readString(log, StandardCharsets.ISO_8859_1));
    }
  }

  private static String findOpenssl() {
    for (String candidate : List.of("openssl", "/usr/bin/openssl", "/usr/local/bin/openssl")) {
      try {
        Process p = new ProcessBuilder(candidate, "version").redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        p.getOutputStream().close();
        if (p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS) && p.exitValue() == 0) {
          return candidate;
        }
        p.destroyForcibly();
      } catch (IOException e) {
        // Not there; try the next.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      }
    }
    return null;
  }
}
