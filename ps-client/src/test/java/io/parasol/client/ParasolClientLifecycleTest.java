package io.parasol.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.parasol.server.LocalCluster;
import io.parasol.server.ShardServer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Retries while a shard is down, and the background lease. */
class ParasolClientLifecycleTest {

  /** Completes {@link #firstUnavailable} when a call first closes with UNAVAILABLE. */
  static final class UnavailableWatch implements ClientInterceptor {
    final CompletableFuture<Void> firstUnavailable = new CompletableFuture<>();

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method,
        CallOptions options, Channel next) {
      return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
        @Override
        public void start(Listener<R> listener, Metadata headers) {
          super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(
              listener) {
            @Override
            public void onClose(Status status, Metadata trailers) {
              if (status.getCode() == Status.Code.UNAVAILABLE) {
                firstUnavailable.complete(null);
              }
              super.onClose(status, trailers);
            }
          }, headers);
        }
      };
    }
  }

  /** Runs the heartbeat when the test says so. */
  static final class ManualTicker implements Ticker {
    Runnable task;
    Duration period;
    boolean stopped;

    @Override
    public Ticking every(Duration p, Runnable t) {
      this.period = p;
      this.task = t;
      return () -> stopped = true;
    }

    void tick() {
      if (!stopped) {
        task.run();
      }
    }
  }

  @Test
  void build_shardStartsAfterTheFirstAttemptFailed_retriesAndConnects() throws Exception {
    int port;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort(); // free again once closed: nothing listens there yet
    }
    UnavailableWatch watch = new UnavailableWatch();
    Job job = ParasolClientTest.zerosJob("late-shard").build();
    ParasolClientBuilder b = ParasolClient.builder().servers("127.0.0.1:" + port).job(job)
        .heartbeats(false).deadline(Duration.ofSeconds(30))
        .retries(new RetryPolicy(200, Duration.ofMillis(20), Duration.ofMillis(200), 2.0))
        .intercept(watch);
    CompletableFuture<ParasolClient> connecting = CompletableFuture.supplyAsync(b::build);
    watch.firstUnavailable.get(30, TimeUnit.SECONDS);
    assertThat(connecting).isNotDone();
    ShardServer shard = ShardServer.forAddress("127.0.0.1", port, 0, null).start();
    try (ParasolClient ps = connecting.get(30, TimeUnit.SECONDS)) {
      assertThat(ps.retries()).isPositive();
      Versions v = ps.pull(new float[15], 0).await();
      ps.push(ParasolClientTest.zerosGradient(15, 1f), v).await();
      assertThat(ps.status().versions().toArray()).containsOnly(1L);
    } finally {
      shard.stop(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void heartbeats_keepTheWorkerLive_andCloseLeaves() throws Exception {
    try (LocalCluster cluster = LocalCluster.start(2, null)) {
      Job job = ParasolClientTest.zerosJob("lease").workers(2).lease(Duration.ofSeconds(8))
          .build();
      ManualTicker ticker = new ManualTicker();
      try (ParasolClient observer = ParasolClient.builder().servers(cluster.addresses())
          .job(job).worker(1).heartbeats(false).build()) {
        ParasolClient ps = ParasolClient.builder().servers(cluster.addresses()).job(job)
            .ticker(ticker).build();
        assertThat(ticker.period).isEqualTo(Duration.ofSeconds(2)); // a quarter of the lease
        ticker.tick();
        assertThat(ps.heartbeatFailures()).isZero();
        assertThat(observer.status().liveWorkers()).contains(0);
        ps.close();
        assertThat(ticker.stopped).isTrue();
        assertThat(observer.status().liveWorkers()).doesNotContain(0);
        ps.close(); // idempotent
      }
    }
  }
}
