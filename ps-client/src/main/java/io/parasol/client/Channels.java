package io.parasol.client;

import io.grpc.CallCredentials;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.grpc.MetricCollectingClientInterceptor;
import io.parasol.common.security.TlsConfig;
import io.parasol.proto.v1.BlockSpec;
import io.parasol.proto.v1.BlockStatus;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.ShardGrpc;
import io.parasol.proto.v1.StatusRequest;
import io.parasol.proto.v1.StatusResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/** Opening channels to the shards, and finding a job by name. */
final class Channels {
  private Channels() {}

  /** A job found on the shards: what its status tells of the spec, and its fingerprint. */
  record Joined(JobSpec spec, String fingerprint) {}

  /** One channel per address, with TLS (or plaintext), the interceptors and client metrics. */
  static List<ManagedChannel> open(List<String> addresses, TlsConfig tls,
      List<ClientInterceptor> interceptors, MeterRegistry registry) {
    List<ManagedChannel> channels = new ArrayList<>();
    for (String a : addresses) {
      NettyChannelBuilder b = tls == null ? NettyChannelBuilder.forTarget(a).usePlaintext()
          : NettyChannelBuilder.forTarget(a, tls.channelCredentials());
      if (tls != null && tls.authorityOverride() != null) {
        b.overrideAuthority(tls.authorityOverride());
      }
      b.maxInboundMessageSize(16 * 1024 * 1024);
      b.flowControlWindow(PsClient.Transport.DEFAULT_WINDOW);
      if (registry != null) {
        b.intercept(new MetricCollectingClientInterceptor(registry));
      }
      b.intercept(interceptors);
      channels.add(b.build());
    }
    return channels;
  }

  static void close(List<ManagedChannel> channels) {
    for (ManagedChannel c : channels) {
      c.shutdownNow();
    }
  }

  /**
   * Reads every shard's status and rebuilds the job's layout from the blocks each reports.
   *
   * @throws StatusRuntimeException NOT_FOUND if a shard has no job or another one,
   *     FAILED_PRECONDITION if the shards disagree, or the status a shard failed with
   */
  static Joined find(List<ManagedChannel> channels, CallCredentials creds, String name,
      Duration deadline, RetryPolicy retry) {
    long giveUpAt = System.nanoTime() + deadline.toNanos();
    TreeMap<Integer, BlockSpec> blocks = new TreeMap<>();
    StatusResponse first = null;
    for (int s = 0; s < channels.size(); s++) {
      StatusResponse r = status(channels.get(s), creds, deadline, retry, giveUpAt, name);
      if (!r.getInitialised() || !r.getJobName().equals(name)) {
        throw Status.NOT_FOUND.withDescription("shard " + s + " serves "
            + (r.getInitialised() ? "job '" + r.getJobName() + "'" : "no job")
            + ", not job '" + name + "'").asRuntimeException();
      }
      if (first != null && !first.getFingerprint().equals(r.getFingerprint())) {
        throw Status.FAILED_PRECONDITION.withDescription("shards disagree on job '" + name
            + "': fingerprint " + first.getFingerprint() + " vs " + r.getFingerprint())
            .asRuntimeException();
      }
      first = first == null ? r : first;
      for (BlockStatus b : r.getBlocksList()) {
        blocks.put(b.getId(), BlockSpec.newBuilder().setId(b.getId()).setLength(b.getLength())
            .setShard(s).setName("block" + b.getId()).build());
      }
    }
    JobSpec spec = JobSpec.newBuilder().setJobName(name).setMode(first.getMode())
        .setNumShards(channels.size()).setNumWorkers(first.getNumWorkers())
        .setMaxWorkers(first.getMaxWorkers())
        .addAllBlocks(blocks.values()).build();
    return new Joined(spec, first.getFingerprint());
  }

  private static StatusResponse status(ManagedChannel ch, CallCredentials creds,
      Duration deadline, RetryPolicy retry, long giveUpAt, String name) {
    SplittableRandom jitter = new SplittableRandom();
    for (int attempt = 1; ; attempt++) {
      ShardGrpc.ShardBlockingStub stub = ShardGrpc.newBlockingStub(ch)
          .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
      if (creds != null) {
        stub = stub.withCallCredentials(creds);
      }
      try {
        return stub.status(StatusRequest.newBuilder().setJobName(name).build());
      } catch (StatusRuntimeException e) {
        long pause = retry.backoffNanos(attempt + 1, jitter);
        if (!RetryPolicy.retryable(e.getStatus().getCode()) || attempt >= retry.maxAttempts()
            || System.nanoTime() + pause - giveUpAt >= 0) {
          throw e;
        }
        try {
          TimeUnit.NANOSECONDS.sleep(pause);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
        }
      }
    }
  }
}
