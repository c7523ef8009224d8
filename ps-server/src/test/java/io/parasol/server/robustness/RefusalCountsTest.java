package io.parasol.server.robustness;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor.MethodType;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.parasol.common.MetricNames;
import io.parasol.proto.v1.BlockSpec;
import io.parasol.proto.v1.DeleteRequest;
import io.parasol.proto.v1.HeartbeatRequest;
import io.parasol.proto.v1.InitKind;
import io.parasol.proto.v1.InitRequest;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.ShardGrpc;
import io.parasol.proto.v1.StatusResponse;
import io.parasol.server.ShardServer;
import io.parasol.server.clock.Ticker;
import io.parasol.server.core.ShardCore;
import io.parasol.server.rpc.RefusalLog;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/**
 * Refused calls over real gRPC are counted per method and status in
 * {@code parasol.shard.refused} and logged through the {@link RefusalLog}: seeded random bytes
 * as the request of every Shard method (and health) give at most one log line per method and
 * status while the shard's clock stands still, none with a stack trace, and change nothing.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RefusalCountsTest {
  private static final int PER_METHOD = 60;

  private static final List<String[]> METHODS = List.of(
      new String[] {ShardGrpc.getInitMethod().getFullMethodName(), "UNARY"},
      new String[] {ShardGrpc.getPullMethod().getFullMethodName(), "SERVER_STREAMING"},
      new String[] {ShardGrpc.getStatusMethod().getFullMethodName(), "UNARY"},
      new String[] {ShardGrpc.getHeartbeatMethod().getFullMethodName(), "UNARY"},
      new String[] {ShardGrpc.getPushPullMethod().getFullMethodName(), "BIDI_STREAMING"},
      new String[] {ShardGrpc.getPushMethod().getFullMethodName(), "CLIENT_STREAMING"},
      new String[] {"grpc.health.v1.Health/Check", "UNARY"});

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  private final Logger root =
      (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  /** The shard's clock stands still: every kind's first line is its only one. */
  private final Ticker frozen = () -> 1_000L;
  private ShardServer server;
  private ManagedChannel channel;
  private Wire wire;

  @BeforeEach
  void start() throws Exception {
    logged.start();
    root.addAppender(logged);
    server = new ShardServer(io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder.forAddress(
        new java.net.InetSocketAddress("127.0.0.1", 0)), 0, 1, registry, frozen).start();
    channel = Wire.channelTo(server.port());
    wire = new Wire(channel);
    JobSpec.Builder spec = JobSpec.newBuilder().setJobName("refusals").setMode(Mode.MODE_ASYNC)
        .setNumShards(1).setNumWorkers(2).setLearningRate(0.1f).setSeed(5)
        .setLeaseMillis(3_600_000);
    spec.addBlocks(BlockSpec.newBuilder().setId(0).setName("b0").setLength(6).setShard(0)
        .setInit(InitKind.INIT_UNIFORM).setInitScale(1f));
    assertThat(wire.init(InitRequest.newBuilder().setSpec(spec).setShard(0).build()).status()
        .getCode()).isEqualTo(Status.Code.OK);
  }

  @AfterEach
  void stop() throws Exception {
    root.detachAppender(logged);
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.stop(5, TimeUnit.SECONDS);
  }

  private static String bareName(String fullName) {
    return fullName.substring(fullName.indexOf('/') + 1);
  }

  private String state() {
    ShardCore core = server.core();
    StatusResponse s = core.status();
    return s.getBlocksList() + " applied=" + s.getPushesApplied() + " " + java.util.Arrays
        .toString(core.blockValues(0));
  }

  private double refused(String job, String method, Status.Code code) {
    Counter c = registry.find(MetricNames.SHARD_REFUSED).tag("shard", "0")
        .tag(MetricNames.JOB_TAG, job).tag("method", method).tag("status", code.name())
        .counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void refusedCalls_labelledWithTheJobTheShardHolds_randomJobNamesAddNoSeries() {
    ShardGrpc.ShardBlockingStub stub = ShardGrpc.newBlockingStub(channel);
    SplittableRandom r = new SplittableRandom(16L);
    int randomNames = 200;
    for (int i = 0; i < randomNames; i++) {
      String name = "job-" + Long.toHexString(r.nextLong());
      org.junit.jupiter.api.Assertions.assertThrows(io.grpc.StatusRuntimeException.class,
          () -> stub.withDeadlineAfter(10, TimeUnit.SECONDS).heartbeat(HeartbeatRequest
              .newBuilder().setJobName(name).setFingerprint("x").build()));
    }
    // The job the shard holds, with a wrong fingerprint: by name, and with an empty name.
    for (String name : List.of("refusals", "")) {
      org.junit.jupiter.api.Assertions.assertThrows(io.grpc.StatusRuntimeException.class,
          () -> stub.withDeadlineAfter(10, TimeUnit.SECONDS).heartbeat(HeartbeatRequest
              .newBuilder().setJobName(name).setFingerprint("x").build()));
    }
    assertThat(refused("-", "Heartbeat", Status.Code.FAILED_PRECONDITION))
        .isEqualTo(randomNames);
    assertThat(refused("refusals", "Heartbeat", Status.Code.FAILED_PRECONDITION)).isEqualTo(2);
    assertThat(registry.find(MetricNames.SHARD_REFUSED).counters()).extracting(
        c -> c.getId().getTag(MetricNames.JOB_TAG)).containsOnly("-", "refusals");

    // The job's series go away with the job.
    String fp = server.core().status("refusals").getFingerprint();
    assertThat(stub.withDeadlineAfter(10, TimeUnit.SECONDS).delete(DeleteRequest.newBuilder()
        .setJobName("refusals").setFingerprint(fp).build()).getDeleted()).isTrue();
    assertThat(registry.find(MetricNames.SHARD_REFUSED).counters()).extracting(
        c -> c.getId().getTag(MetricNames.JOB_TAG)).containsOnly("-");
  }

  @Test
  void everyMethod_randomBytes_countedPerMethodAndStatusAndLoggedOncePerKind()
      throws Exception {
    String before = state();
    SplittableRandom r = new SplittableRandom(20261205L);
    Map<String, Integer> invalid = new HashMap<>();
    Set<String> kinds = new HashSet<>();
    for (String[] m : METHODS) {
      String method = bareName(m[0]);
      for (int i = 0; i < PER_METHOD; i++) {
        byte[] b = new byte[1 + r.nextInt(48)];
        r.nextBytes(b);
        Wire.Outcome o = "CLIENT_STREAMING".equals(m[1])
            ? wire.rawPush(List.of(b), 5_000)
            : wire.rawCall(m[0], MethodType.valueOf(m[1]), b, 5_000);
        assertThat(o.lost()).as("%s: an answer", method).isFalse();
        Status.Code code = o.status().getCode();
        assertThat(code).as("%s with %d random bytes: %s", method, b.length, o.status())
            .isNotIn(Status.Code.UNKNOWN, Status.Code.INTERNAL);
        if (code == Status.Code.INVALID_ARGUMENT) {
          invalid.merge(method, 1, Integer::sum);
        }
        if (code != Status.Code.OK) {
          kinds.add(method + " " + code);
        }
      }
    }
    System.out.printf("INVALID_ARGUMENT per method: %s; kinds refused: %s%n", invalid, kinds);
    for (String[] m : METHODS) {
      String method = bareName(m[0]);
      assertThat(invalid.getOrDefault(method, 0)).as("%s: unparseable requests", method)
          .isPositive();
      var cs = registry.find(MetricNames.SHARD_REFUSED).tag("shard", "0")
          .tag("method", method).tag("status", "INVALID_ARGUMENT").counters();
      assertThat(cs).as("%s INVALID_ARGUMENT counter", method).isNotEmpty();
      assertThat(cs.stream().mapToDouble(Counter::count).sum())
          .as("%s INVALID_ARGUMENT counted", method).isEqualTo(invalid.get(method).doubleValue());
    }
    // Random bytes that parse name random jobs: they count under "-" (or, with an empty name,
    // under the shard's only job), never under a label of their own.
    assertThat(registry.find(MetricNames.SHARD_REFUSED).counters()).extracting(
        c -> c.getId().getTag(MetricNames.JOB_TAG)).isSubsetOf("-", "refusals");
    assertThat(state()).as("blocks and counters").isEqualTo(before);

    List<String> lines = new ArrayList<>();
    for (ILoggingEvent e : List.copyOf(logged.list)) {
      assertThat(e.getThrowableProxy()).as("stack trace on: %s", e.getFormattedMessage())
          .isNull();
      if (e.getLoggerName().equals(ShardServer.class.getName())
          && e.getFormattedMessage().contains(" refused")) {
        lines.add(e.getFormattedMessage());
      }
    }
    assertThat(lines).as("refusal lines for %d requests", METHODS.size() * PER_METHOD)
        .hasSizeBetween(METHODS.size(), kinds.size());
    assertThat(lines).anySatisfy(l -> assertThat(l)
        .startsWith("shard 0: Init INVALID_ARGUMENT refused: ")
        .contains("does not parse as parasol.v1.InitRequest"));
  }
}
