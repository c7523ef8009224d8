package io.parasol.server.security;

import io.parasol.common.security.BearerToken;
import io.parasol.common.security.TlsConfig;
import io.parasol.common.security.Tokens;
import static io.parasol.server.security.ShardFixture.failure;
import static io.parasol.server.security.ShardFixture.health;
import static io.parasol.server.security.ShardFixture.status;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.grpc.CallCredentials;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.CompositeChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.MetadataUtils;
import io.parasol.proto.v1.ShardGrpc;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The token check on a real shard over plaintext gRPC on 127.0.0.1. */
class BearerTokenInterceptorTest {
  private static final String TOKEN = "Zq8-correct-horse-battery-staple_77";
  private static final String WRONG = "Zq8-incorrect-donkey-battery-staple_77";

  private ShardFixture shard;

  @AfterEach
  void stop() {
    if (shard != null) {
      shard.close();
    }
  }

  private ManagedChannel start(BearerTokenInterceptor interceptor) throws Exception {
    shard = ShardFixture.start(TlsConfig.serverBuilder("127.0.0.1", 0, null)
        .intercept(interceptor));
    return shard.channel(TlsConfig.channelBuilder(shard.target(), null, null));
  }

  /** The channel with {@code authorization: value} on every call. */
  private static Channel withAuthorization(Channel channel, String value) {
    Metadata h = new Metadata();
    h.put(BearerTokenInterceptor.AUTHORIZATION, value);
    return ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(h));
  }

  @Test
  void status_noToken_isUnauthenticated() throws Exception {
    ManagedChannel ch = start(BearerTokenInterceptor.standard(TOKEN));

    StatusRuntimeException e = failure(() -> status(ch, null));

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(e.getStatus().getDescription()).isEqualTo("missing bearer token");
  }

  @Test
  void status_wrongToken_isPermissionDenied() throws Exception {
    ManagedChannel ch = start(BearerTokenInterceptor.standard(TOKEN));

    StatusRuntimeException e = failure(() -> status(ch, new BearerToken(WRONG)));

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(e.getStatus().getDescription()).isEqualTo("invalid bearer token");
  }

  @Test
  void status_tokenPrefixOnly_isPermissionDenied() throws Exception {
    ManagedChannel ch = start(BearerTokenInterceptor.standard(TOKEN));

    StatusRuntimeException e = failure(
        () -> status(ch, new BearerToken(TOKEN.substring(0, TOKEN.length() - 1))));

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
  }

  @Test
  void status_otherScheme_isPermissionDenied() throws Exception {
    ManagedChannel ch = start(BearerTokenInterceptor.standard(TOKEN));

    StatusRuntimeException e = failure(
        () -> status(withAuthorization(ch, "Basic " + TOKEN), null));

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(e.getStatus().getDescription()).isEqualTo("invalid bearer token");
  }

  @Test
  void status_schemeWithoutToken_isPermissionDenied() throws Exception {
    ManagedChannel ch = start(BearerTokenInterceptor.standard(TOKEN));

    StatusRuntimeException e = failure(() -> status(withAuthorization(ch, "Bearer"), null));

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
  }

  @Test
  void status_rightToken_isOk() throws Exception {
    ManagedChannel ch = start(BearerTokenInterceptor.standard(TOKEN));

    assertThat(status(ch, new BearerToken(TOKEN)).getShard()).isZero();
  }

  @Test
  void status_tokenOnPlaintextChannelCredentials_isOk() throws Exception {
    shard = ShardFixture.start(TlsConfig.serverBuilder("127.0.0.1", 0, null)
        .intercept(BearerTokenInterceptor.standard(TOKEN)));
    ManagedChannel ch = shard.channel(TlsConfig.channelBuilder(shard.target(),
        CompositeChannelCredentials.create(InsecureChannelCredentials.create(),
            new BearerToken(TOKEN)), null));

    assertThat(status(ch, null).getShard()).isZero();
  }

  @Test
  void status_lowerCaseScheme_isOk() throws Exception {
    ManagedChannel ch = start(BearerTokenInterceptor.standard(TOKEN));

    assertThat(status(withAuthorization(ch, "bearer " + TOKEN), null).getShard()).isZero();
  }

  @Test
  void healthCheck_noToken_isOk() throws Exception {
    ManagedChannel ch = start(BearerTokenInterceptor.standard(TOKEN));

    assertThat(health(ch).getStatus()).isEqualTo(ServingStatus.SERVING);
  }

  @Test
  void healthWatch_noToken_streamsTheStatus() throws Exception {
    ManagedChannel ch = start(BearerTokenInterceptor.standard(TOKEN));

    Iterator<HealthCheckResponse> it = HealthGrpc.newBlockingStub(ch)
        .withDeadlineAfter(ShardFixture.DEADLINE_SECONDS, TimeUnit.SECONDS)
        .watch(HealthCheckRequest.getDefaultInstance());

    assertThat(it.next().getStatus()).isEqualTo(ServingStatus.SERVING);
  }

  @Test
  void standard_exemptsExactlyTheHealthMethods() {
    assertThat(BearerTokenInterceptor.standard(TOKEN).exemptMethods()).containsExactlyInAnyOrder(
        "grpc.health.v1.Health/Check", "grpc.health.v1.Health/Watch");
  }

  @Test
  void healthCheck_noExemptions_isUnauthenticated() throws Exception {
    ManagedChannel ch = start(new BearerTokenInterceptor(TOKEN));

    StatusRuntimeException e = failure(() -> health(ch));

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
  }

  @Test
  void status_exemptedByName_isOkWithoutToken() throws Exception {
    ManagedChannel ch = start(new BearerTokenInterceptor(TOKEN,
        Set.of(ShardGrpc.getStatusMethod().getFullMethodName())));

    assertThat(status(ch, null).getShard()).isZero();
    assertThat(failure(() -> health(ch)).getStatus().getCode())
        .isEqualTo(Status.Code.UNAUTHENTICATED);
  }

  @Test
  void requiringTls_plaintextChannel_refusesToSendTheToken() throws Exception {
    ManagedChannel ch = start(BearerTokenInterceptor.standard(TOKEN));

    StatusRuntimeException e = failure(() -> status(ch, BearerToken.requiringTls(TOKEN)));

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(e.getStatus().getDescription()).contains("without TLS");
  }

  @Test
  void tokens_neverAppearInStatusesExceptionsOrLogs() throws Exception {
    Logger securityLog = (Logger) LoggerFactory.getLogger("io.parasol.server.security");
    Level before = securityLog.getLevel();
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.addAppender(logs);
    securityLog.setLevel(Level.DEBUG);
    try {
      ManagedChannel ch = start(BearerTokenInterceptor.standard(TOKEN));
      List<CallCredentials> attempts = List.of(new BearerToken(WRONG),
          BearerToken.requiringTls(TOKEN));
      for (CallCredentials creds : attempts) {
        StatusRuntimeException e = failure(() -> status(ch, creds));
        assertThat(String.valueOf(e.getStatus())).doesNotContain(TOKEN).doesNotContain(WRONG);
        assertThat(e.getMessage()).doesNotContain(TOKEN).doesNotContain(WRONG);
        assertThat(String.valueOf(e.getTrailers())).doesNotContain(TOKEN).doesNotContain(WRONG);
        assertThat(creds.toString()).doesNotContain(TOKEN).doesNotContain(WRONG)
            .contains("redacted");
      }
      StatusRuntimeException scheme = failure(
          () -> status(withAuthorization(ch, "Basic " + TOKEN), null));
      assertThat(scheme.getMessage()).doesNotContain(TOKEN);
      assertThat(BearerTokenInterceptor.standard(TOKEN).toString()).doesNotContain(TOKEN);
      assertThat(logs.list).as("the refusals were logged at debug").isNotEmpty();
      assertThat(logs.list).allSatisfy(ev -> assertThat(ev.getFormattedMessage())
          .doesNotContain(TOKEN).doesNotContain(WRONG));
    } finally {
      securityLog.setLevel(before);
      root.detachAppender(logs);
    }
  }

  @Test
  void constructor_badToken_isRejected() {
    assertThatThrownBy(() -> BearerTokenInterceptor.standard("has space"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("whitespace")
        .hasMessageNotContaining("has space");
    assertThatThrownBy(() -> new BearerToken(""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("empty");
  }
}
