package io.parasol.server.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The refusal log's rate limit, on a fake clock. */
class RefusalLogTest {
  private static final long INTERVAL = TimeUnit.SECONDS.toNanos(10);

  private final AtomicLong now = new AtomicLong(1_000);
  private final List<String> lines = new ArrayList<>();
  private final RefusalLog log = new RefusalLog(now::get, INTERVAL, lines::add);

  private static Status invalid(String d) {
    return Status.INVALID_ARGUMENT.withDescription(d);
  }

  @Test
  void refused_manyOfOneKindInAnInterval_oneLine() {
    for (int i = 0; i < 10_000; i++) {
      log.refused("Init", invalid("bad spec " + i));
    }
    assertThat(lines).containsExactly("Init INVALID_ARGUMENT refused: bad spec 0");
  }

  @Test
  void refused_otherMethodOrStatus_isAnotherKind() {
    log.refused("Init", invalid("a"));
    log.refused("Pull", invalid("b"));
    log.refused("Init", Status.FAILED_PRECONDITION.withDescription("c"));
    log.refused("Init", invalid("d"));
    assertThat(lines).containsExactly("Init INVALID_ARGUMENT refused: a",
        "Pull INVALID_ARGUMENT refused: b", "Init FAILED_PRECONDITION refused: c");
  }

  @Test
  void refused_afterTheInterval_logsAgainWithTheCount() {
    for (int i = 0; i < 100; i++) {
      log.refused("Heartbeat", invalid("x" + i));
    }
    now.addAndGet(INTERVAL - 1);
    log.refused("Heartbeat", invalid("still inside"));
    assertThat(lines).hasSize(1);
    now.addAndGet(1);
    log.refused("Heartbeat", invalid("next"));
    assertThat(lines).containsExactly("Heartbeat INVALID_ARGUMENT refused: x0",
        "Heartbeat INVALID_ARGUMENT refused: next (and 100 more since the last line)");
  }

  @Test
  void flush_reportsCountsOnlyOnceTheirIntervalIsOver() {
    for (int i = 0; i < 5; i++) {
      log.refused("Push", invalid("p"));
    }
    log.flush();
    assertThat(lines).hasSize(1);
    now.addAndGet(INTERVAL);
    log.flush();
    log.flush();
    assertThat(lines).containsExactly("Push INVALID_ARGUMENT refused: p",
        "Push INVALID_ARGUMENT refused 4 more times in the last 10.0 s");
    now.addAndGet(INTERVAL);
    log.flush();
    assertThat(lines).hasSize(2);
  }

  @Test
  void refused_longDescription_isCut() {
    log.refused("Init", invalid("j".repeat(10_000)));
    assertThat(lines.get(0)).hasSizeLessThan(RefusalLog.MAX_DESCRIPTION + 80)
        .endsWith("... (10000 chars)");
  }

  @Test
  void refused_noDescription_saysSo() {
    log.refused("Status", Status.UNAUTHENTICATED);
    assertThat(lines).containsExactly("Status UNAUTHENTICATED refused: (no description)");
  }

  @Test
  void constructor_nonPositiveInterval_refused() {
    assertThatThrownBy(() -> new RefusalLog(now::get, 0, lines::add))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
