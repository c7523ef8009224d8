package io.parasol.common.security;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannelBuilder;
import io.grpc.ServerBuilder;
import io.grpc.ServerCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import java.util.List;

/**
 * TLS settings of one side of a connection, read from PEM files, and the builders that use them.
 *
 * <p>Server side ({@link #server}): a certificate chain and its PKCS#8 private key, plus an
 * optional client CA that turns on mutual TLS (client certificates required). Client side
 * ({@link #client}): an optional CA to trust (null: the system's default trust), an optional
 * client certificate and key for mutual TLS, and an optional authority override (the name the
 * server certificate is checked against, e.g. {@code localhost} while dialing 127.0.0.1).
 *
 * <p>The factories check the files up front and fail with an {@link IllegalArgumentException}
 * naming the flag and file ({@code "--tls-cert file /x not readable"}): each must be a readable
 * PEM file of the right kind, and a key must match its certificate. Messages never contain key
 * material.
 */
public final class TlsConfig {
  private static final String CERT_BEGIN = "-----BEGIN CERTIFICATE-----";
  private static final String PKCS8_BEGIN = "-----BEGIN PRIVATE KEY-----";
  private static final String PKCS8_END = "-----END PRIVATE KEY-----";

  private final boolean server;
  private final Path certChain;
  private final Path privateKey;
  private final Path trustCa;
  private final String authorityOverride;

  private TlsConfig(boolean server, Path certChain, Path privateKey, Path trustCa,
      String authorityOverride) {
    this.server = server;
    this.certChain = certChain;
    this.privateKey = privateKey;
    this.trustCa = trustCa;
    this.authorityOverride = authorityOverride;
  }

  /**
   * Server TLS from {@code --tls-cert} (PEM certificate chain, leaf first) and
   * {@code --tls-key} (its PKCS#8 PEM key); a non-null {@code clientCaFile}
   * ({@code --tls-client-ca}) requires every client to present a certificate it signed.
   *
   * @throws IllegalArgumentException if a file is missing, unreadable, of the wrong kind, or
   *     the key does not match the certificate
   */
  public static TlsConfig server(String certChainFile, String keyFile, String clientCaFile) {
    if (certChainFile == null || keyFile == null) {
      throw new IllegalArgumentException("server TLS needs both --tls-cert and --tls-key");
    }
    Path cert = checkCertificates("--tls-cert", certChainFile);
    Path key = checkKey("--tls-key", keyFile, "--tls-cert", cert);
    Path ca = clientCaFile == null ? null : checkCertificates("--tls-client-ca", clientCaFile);
    return new TlsConfig(true, cert, key, ca, null);
  }

  /**
   * Server TLS from the server's flags, or null (plaintext) when none of them is given.
   *
   * @throws IllegalArgumentException as {@link #server}, or if {@code --tls-client-ca} comes
   *     without a certificate and key
   */
  public static TlsConfig serverFromFlags(String certChainFile, String keyFile,
      String clientCaFile) {
    if (certChainFile == null && keyFile == null) {
      if (clientCaFile != null) {
        throw new IllegalArgumentException("--tls-client-ca needs --tls-cert and --tls-key");
      }
      return null;
    }
    return server(certChainFile, keyFile, clientCaFile);
  }

  /**
   * Client TLS trusting {@code caFile} ({@code --tls-ca}; null: the system's default trust),
   * presenting {@code certFile}/{@code keyFile} ({@code --tls-cert}/{@code --tls-key}, both or
   * neither) for mutual TLS, and checking the server certificate against
   * {@code authorityOverride} ({@code --tls-authority}) instead of the target's host if given.
   *
   * @throws IllegalArgumentException if a file is missing, unreadable, of the wrong kind, the
   *     key does not match the certificate, only one of certificate and key is given, or the
   *     authority is blank
   */
  public static TlsConfig client(String caFile, String certFile, String keyFile,
      String authorityOverride) {
    if ((certFile == null) != (keyFile == null)) {
      throw new IllegalArgumentException("client TLS needs --tls-cert and --tls-key together");
    }
    if (authorityOverride != null && authorityOverride.isBlank()) {
      throw new IllegalArgumentException("--tls-authority is blank");
    }
    Path ca = caFile == null ? null : checkCertificates("--tls-ca", caFile);
    Path cert = certFile == null ? null : checkCertificates("--tls-cert", certFile);
    Path key = keyFile == null ? null : checkKey("--tls-key", keyFile, "--tls-cert", cert);
    return new TlsConfig(false, cert, key, ca, authorityOverride);
  }

  /** True for a server configuration, false for a client one. */
  public boolean isServer() {
    return server;
  }

  /**
   * Whether certificates go both ways: a server requiring client certificates, or a client
   * presenting one.
   */
  public boolean mutual() {
    return server ? trustCa != null : certChain != null;
  }

  /** The name to check the server certificate against instead of the target's; may be null. */
  public String authorityOverride() {
    return authorityOverride;
  }

  /**
   * The server's credentials: its key and certificate chain, and with a client CA, client
   * certificates required ({@code ClientAuth.REQUIRE}).
   *
   * @throws IllegalStateException on a client configuration
   * @throws IllegalArgumentException if a file became unreadable since the check
   */
  public ServerCredentials serverCredentials() {
    if (!server) {
      throw new IllegalStateException("serverCredentials() of a client TLS configuration");
    }
    TlsServerCredentials.Builder b = TlsServerCredentials.newBuilder();
    try {
      b.keyManager(certChain.toFile(), privateKey.toFile());
    } catch (IOException e) {
      throw unreadable("--tls-cert/--tls-key", certChain + ", " + privateKey, e);
    }
    if (trustCa != null) {
      try {
        b.trustManager(trustCa.toFile());
      } catch (IOException e) {
        throw unreadable("--tls-client-ca", trustCa.toString(), e);
      }
      b.clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
    }
    return b.build();
  }

  /**
   * The client's credentials: the CA to trust (or the system's) and, for mutual TLS, its
   * certificate and key.
   *
   * @throws IllegalStateException on a server configuration
   * @throws IllegalArgumentException if a file became unreadable since the check
   */
  public ChannelCredentials channelCredentials() {
    if (server) {
      throw new IllegalStateException("channelCredentials() of a server TLS configuration");
    }
    TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder();
    if (trustCa != null) {
      try {
        b.trustManager(trustCa.toFile());
      } catch (IOException e) {
        throw unreadable("--tls-ca", trustCa.toString(), e);
      }
    }
    if (certChain != null) {
      try {
        b.keyManager(certChain.toFile(), privateKey.toFile());
      } catch (IOException e) {
        throw unreadable("--tls-cert/--tls-key", certChain + ", " + privateKey, e);
      }
    }
    return b.build();
  }

  /** {@link #serverBuilder(String, int, ServerCredentials)} with this server's credentials. */
  public ServerBuilder<?> newServerBuilder(String host, int port) {
    return serverBuilder(host, port, serverCredentials());
  }

  /**
   * {@link #channelBuilder(String, ChannelCredentials, String)} with this client's credentials
   * and authority override.
   */
  public ManagedChannelBuilder<?> newChannelBuilder(String target) {
    return channelBuilder(target, channelCredentials(), authorityOverride);
  }

  /**
   * A Netty server builder on {@code host:port} (port 0: an ephemeral port) with
   * {@code creds}, plaintext when null.
   */
  public static ServerBuilder<?> serverBuilder(String host, int port, ServerCredentials creds) {
    return NettyServerBuilder.forAddress(new InetSocketAddress(host, port),
        creds == null ? InsecureServerCredentials.create() : creds);
  }

  /**
   * A Netty channel builder for {@code target} ({@code host:port} or a gRPC target URI) with
   * {@code creds}, plaintext when null, checking the server certificate against
   * {@code authorityOverride} when not null.
   */
  public static ManagedChannelBuilder<?> channelBuilder(String target, ChannelCredentials creds,
      String authorityOverride) {
    NettyChannelBuilder b = NettyChannelBuilder.forTarget(target,
        creds == null ? InsecureChannelCredentials.create() : creds);
    if (authorityOverride != null) {
      b.overrideAuthority(authorityOverride);
    }
    return b;
  }

  @Override
  public String toString() {
    return "TlsConfig{" + (server ? "server" : "client")
        + (certChain == null ? "" : ", cert=" + certChain)
        + (privateKey == null ? "" : ", key=" + privateKey)
        + (trustCa == null ? "" : (server ? ", clientCa=" : ", ca=") + trustCa)
        + (authorityOverride == null ? "" : ", authority=" + authorityOverride) + "}";
  }

  // ---- checks ----

  private static Path readable(String role, String file) {
    Path p = Path.of(file);
    if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
      throw new IllegalArgumentException(role + " file " + file + " not readable");
    }
    return p;
  }

  private static byte[] read(String role, Path p) {
    try {
      return Files.readAllBytes(p);
    } catch (IOException e) {
      throw unreadable(role, p.toString(), e);
    }
  }

  private static IllegalArgumentException unreadable(String role, String file, IOException e) {
    return new IllegalArgumentException(role + " file " + file + " not readable: "
        + e.getClass().getSimpleName(), e);
  }

  /** Checks that {@code file} is a readable PEM file with at least one X.509 certificate. */
  private static Path checkCertificates(String role, String file) {
    Path p = readable(role, file);
    certificates(role, p);
    return p;
  }

  private static List<? extends Certificate> certificates(String role, Path p) {
    byte[] pem = read(role, p);
    String text = new String(pem, StandardCharsets.US_ASCII);
    if (!text.contains(CERT_BEGIN)) {
      throw new IllegalArgumentException(role + " file " + p + " holds no PEM certificate ("
          + CERT_BEGIN + ")" + (text.contains("PRIVATE KEY-----") ? "; it is a private key" : ""));
    }
    Collection<? extends Certificate> certs;
    try {
      certs = CertificateFactory.getInstance("X.509")
          .generateCertificates(new ByteArrayInputStream(pem));
    } catch (CertificateException e) {
      throw new IllegalArgumentException(role + " file " + p
          + " is not a PEM certificate file: " + e.getMessage(), e);
    }
    if (certs.isEmpty()) {
      throw new IllegalArgumentException(role + " file " + p + " holds no PEM certificate");
    }
    return List.copyOf(certs);
  }

  /**
   * Checks that {@code file} is a readable unencrypted PKCS#8 PEM key and, if {@code cert} is
   * given, that it belongs to the first certificate there.
   */
  private static Path checkKey(String role, String file, String certRole, Path cert) {
    Path p = readable(role, file);
    String pem = new String(read(role, p), StandardCharsets.US_ASCII);
    int begin = pem.indexOf(PKCS8_BEGIN);
    int end = pem.indexOf(PKCS8_END);
    if (begin < 0 || end < begin) {
      String hint;
      if (pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")) {
        hint = "is encrypted; give an unencrypted key (openssl pkcs8 -topk8 -nocrypt)";
      } else if (pem.contains("-----BEGIN RSA PRIVATE KEY-----")
          || pem.contains("-----BEGIN EC PRIVATE KEY-----")) {
        hint = "is PKCS#1/SEC1; convert it: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8";
      } else {
        hint = "holds no PKCS#8 PEM private key (-----BEGIN PRIVATE KEY-----)";
      }
      throw new IllegalArgumentException(role + " file " + file + " " + hint);
    }
    PrivateKey key = parsePkcs8(role, file,
        pem.substring(begin + PKCS8_BEGIN.length(), end));
    if (cert != null) {
      PublicKey pub = certificates(certRole, cert).get(0).getPublicKey();
      if (!matches(key, pub)) {
        throw new IllegalArgumentException(role + " file " + file
            + " does not match the certificate in " + certRole + " file " + cert);
      }
    }
    return p;
  }

  private static PrivateKey parsePkcs8(String role, String file, String base64) {
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(base64);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(role + " file " + file + " has a corrupt PEM body");
    }
    for (String algorithm : List.of("RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS", "DSA")) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException e) {
        // Not this algorithm; try the next.
      }
    }
    throw new IllegalArgumentException(role + " file " + file
        + " is not a PKCS#8 RSA, EC, EdDSA or DSA private key");
  }

  /** Whether {@code key} signs what {@code pub} verifies; true when that cannot be tested. */
  private static boolean matches(PrivateKey key, PublicKey pub) {
    String algorithm = switch (pub.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      case "Ed25519", "Ed448", "EdDSA" -> "EdDSA";
      case "DSA" -> "SHA256withDSA";
      default -> null;
    };
    if (algorithm == null) {
      return true;
    }
    if (!key.getAlgorithm().equals(pub.getAlgorithm())) {
      return false;
    }
    try {
      byte[] challenge = new byte[32];
      new SecureRandom().nextBytes(challenge);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(challenge);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(pub);
      verifier.update(challenge);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }
}
