package io.parasol.server.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

/** The rate limit on logs of clients' errors, on an injected clock. */
class ClientErrorLogsTest {
  private static final long SECOND = 1_000_000_000L;

  private final AtomicLong now = new AtomicLong(1_000 * SECOND);
  private final ClientErrorLogs filter = new ClientErrorLogs(now::get, 60 * SECOND);

  private static LogRecord refused(Status.Code code) {
    LogRecord r = new LogRecord(Level.WARNING, "Exception processing message");
    r.setLoggerName(ClientErrorLogs.LOGGERS[0]);
    r.setThrown(Status.fromCode(code).withDescription("gRPC message exceeds maximum size")
        .asRuntimeException());
    return r;
  }

  @Test
  void tenThousandRefusals_fewLines_withoutStackTraces() {
    int lines = 0;
    for (int i = 0; i < 10_000; i++) {
      LogRecord r = refused(i % 2 == 0 ? Status.Code.RESOURCE_EXHAUSTED
          : Status.Code.INVALID_ARGUMENT);
      if (filter.isLoggable(r)) {
        lines++;
        assertThat(r.getThrown()).isNull();
        assertThat(r.getMessage()).startsWith("refused a client's message: ");
      }
      now.addAndGet(SECOND / 100); // 10,000 records over 100 s
    }
    // Two kinds, each at most once per 60 s over 100 s.
    assertThat(lines).isEqualTo(4);
  }

  @Test
  void theNextLineCountsWhatWasSuppressed() {
    assertThat(filter.isLoggable(refused(Status.Code.RESOURCE_EXHAUSTED))).isTrue();
    for (int i = 0; i < 5; i++) {
      assertThat(filter.isLoggable(refused(Status.Code.RESOURCE_EXHAUSTED))).isFalse();
    }
    now.addAndGet(61 * SECOND);
    LogRecord r = refused(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(filter.isLoggable(r)).isTrue();
    assertThat(r.getMessage()).contains("(5 more like it since the last line)");
  }

  @Test
  void recordsWithoutAClientStatus_passUnchanged() {
    LogRecord r = new LogRecord(Level.SEVERE, "something broke");
    r.setThrown(new IllegalStateException("bug"));
    for (int i = 0; i < 3; i++) {
      assertThat(filter.isLoggable(r)).isTrue();
    }
    assertThat(r.getThrown()).isInstanceOf(IllegalStateException.class);
  }
}
