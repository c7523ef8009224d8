package io.parasol.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A first call on a shard (Init, also when a worker declares its job again after the shard
 * restarted) rides out transport failures: a write on a connection the restarted shard reset
 * fails with UNKNOWN ("channel closed"), which must be tried again like UNAVAILABLE.
 */
class ShardCallsReachTest {
  private ManagedChannel channel;
  private ShardCalls calls;

  @BeforeEach
  void setUp() {
    // Never connected: the attempts below are stand-ins and make no call on it.
    channel = NettyChannelBuilder.forTarget("127.0.0.1:1").usePlaintext().build();
    calls = new ShardCalls(List.of(channel), RetryPolicy.DEFAULT, null, true, 0);
  }

  @AfterEach
  void tearDown() {
    calls.close();
  }

  private static CompletableFuture<String> failing(Status st) {
    return CompletableFuture.failedFuture(st.asRuntimeException());
  }

  @Test
  void channelClosed_isTriedAgain() throws Exception {
    AtomicInteger attempts = new AtomicInteger();
    CompletableFuture<String> r = calls.reach(0, () -> attempts.incrementAndGet() <= 2
        ? failing(Status.UNKNOWN.withDescription("channel closed"))
        : CompletableFuture.completedFuture("ok"));
    assertThat(r.get(60, TimeUnit.SECONDS)).isEqualTo("ok");
    assertThat(attempts).hasValue(3);
  }

  @Test
  void aRefusal_isNotTriedAgain() {
    AtomicInteger attempts = new AtomicInteger();
    CompletableFuture<String> r = calls.reach(0, () -> {
      attempts.incrementAndGet();
      return failing(Status.INVALID_ARGUMENT.withDescription("bad spec"));
    });
    assertThatThrownBy(() -> r.get(60, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
        .hasMessageContaining("INVALID_ARGUMENT");
    assertThat(attempts).hasValue(1);
  }
}
