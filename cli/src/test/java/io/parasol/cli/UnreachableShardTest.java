package io.parasol.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.parasol.client.PsClient;
import io.parasol.common.BlockLayout;
import io.parasol.proto.v1.InitKind;
import io.parasol.proto.v1.JobSpec;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A worker pointed at an address where no shard listens fails fast and says where. */
class UnreachableShardTest {

  /** A loopback port that was free a moment ago (bound, then closed). */
  private static int closedPort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  void init_closedPort_isUnavailableNamingShardAddressAndCause() throws Exception {
    int port = closedPort();
    BlockLayout layout = BlockLayout.of(
        List.of(new BlockLayout.Tensor("W", 10, InitKind.INIT_ZEROS, 0f)), 1, 0);
    try (PsClient client = PsClient.connect(List.of("127.0.0.1:" + port), layout,
        Duration.ofSeconds(2), Duration.ofSeconds(2))) {
      client.connectTimeout(Duration.ofMillis(300));
      StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
          () -> client.init(JobSpec.getDefaultInstance()));
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(e.getStatus().getDescription())
          .contains("shard 0 at 127.0.0.1:" + port)
          .containsIgnoringCase("refused")
          .contains("parasol server --shard 0");
    }
  }
}
