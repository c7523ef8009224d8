package io.parasol.experiments.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.parasol.experiments.runner.LocalRunner;
import io.parasol.proto.v1.DeleteRequest;
import io.parasol.proto.v1.DeleteResponse;
import io.parasol.proto.v1.JobSummary;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.ShardGrpc;
import io.parasol.proto.v1.StatusRequest;
import io.parasol.proto.v1.StatusResponse;
import io.parasol.server.LocalCluster;
import io.parasol.server.ShardServer;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Two different jobs (different models and modes) train at the same time on the same two
 * shards, over real gRPC on 127.0.0.1, and each reaches the accuracy it reaches alone; Delete
 * then frees each job's memory on every shard.
 */
@Tag("slow")
class MultiJobEndToEndTest {

  /** Job A: softmax regression, bulk synchronous. */
  private static LocalRunner.Options softmaxSync(LocalCluster cluster) {
    return LocalRunner.Options.builder(Jobs.settings(Mode.MODE_SYNC, 2, 2, 0.5f), "softmax",
            Jobs.digits()).batchSize(32).epochs(3).steps(0).evalEvery(0)
        .timeouts(Duration.ofSeconds(30), Duration.ofSeconds(60))
        .jobName("softmax-sync").cluster(cluster).build();
  }

  /** Job B: a multilayer perceptron, asynchronous. */
  private static LocalRunner.Options mlpAsync(LocalCluster cluster) {
    return LocalRunner.Options.builder(Jobs.settings(Mode.MODE_ASYNC, 2, 2, 0.2f), "mlp",
            Jobs.digits()).batchSize(32).epochs(3).steps(0).evalEvery(0)
        .timeouts(Duration.ofSeconds(30), Duration.ofSeconds(60))
        .jobName("mlp-async").cluster(cluster).build();
  }

  @Test
  void twoJobsOnTheSameShards_eachReachTheAccuracyTheyReachAlone() throws Exception {
    LocalRunner.Summary aloneA;
    LocalRunner.Summary aloneB;
    try (LocalCluster cluster = LocalCluster.start(2, null)) {
      aloneA = LocalRunner.run(softmaxSync(cluster), null, null);
    }
    try (LocalCluster cluster = LocalCluster.start(2, null)) {
      aloneB = LocalRunner.run(mlpAsync(cluster), null, null);
    }

    ExecutorService pool = Executors.newFixedThreadPool(2);
    try (LocalCluster cluster = LocalCluster.start(2, null)) {
      Future<LocalRunner.Summary> a = pool.submit(() -> LocalRunner.run(softmaxSync(cluster),
          null, null));
      Future<LocalRunner.Summary> b = pool.submit(() -> LocalRunner.run(mlpAsync(cluster),
          null, null));
      LocalRunner.Summary togetherA = a.get(120, TimeUnit.SECONDS);
      LocalRunner.Summary togetherB = b.get(120, TimeUnit.SECONDS);
      System.out.printf("softmax/sync alone %.4f together %.4f; mlp/async alone %.4f together"
          + " %.4f%n", aloneA.testAccuracy(), togetherA.testAccuracy(), aloneB.testAccuracy(),
          togetherB.testAccuracy());

      assertThat(aloneA.testAccuracy()).isGreaterThan(0.85);
      assertThat(aloneB.testAccuracy()).isGreaterThan(0.85);
      // sync is deterministic up to the order of a round's float sums; async up to arrivals.
      assertThat(togetherA.testAccuracy()).isCloseTo(aloneA.testAccuracy(), within(0.02));
      assertThat(togetherB.testAccuracy()).isCloseTo(aloneB.testAccuracy(), within(0.04));
      // Each job applied exactly its own updates.
      assertThat(togetherA.updatesApplied()).isEqualTo(aloneA.updatesApplied());
      assertThat(togetherB.updatesApplied()).isEqualTo(aloneB.updatesApplied());

      for (ShardServer s : cluster.servers()) {
        assertThat(s.core().jobNames()).containsExactly("mlp-async", "softmax-sync");
      }
      deleteEverywhere(cluster, "softmax-sync");
      deleteEverywhere(cluster, "mlp-async");
      for (ShardServer s : cluster.servers()) {
        assertThat(s.core().jobNames()).isEmpty();
        assertThat(s.core().bytesHeld()).isZero();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /** Deletes the job on every shard over gRPC and checks the bytes each shard released. */
  private static void deleteEverywhere(LocalCluster cluster, String job) throws Exception {
    for (String address : cluster.addresses()) {
      ManagedChannel ch = ManagedChannelBuilder.forTarget(address).usePlaintext().build();
      try {
        ShardGrpc.ShardBlockingStub stub = ShardGrpc.newBlockingStub(ch)
            .withDeadlineAfter(10, TimeUnit.SECONDS);
        StatusResponse before = stub.status(StatusRequest.newBuilder().setJobName(job).build());
        assertThat(before.getJobName()).isEqualTo(job);
        long jobBytes = before.getJobsList().stream().filter(j -> j.getJobName().equals(job))
            .mapToLong(JobSummary::getBytesHeld).sum();
        assertThat(jobBytes).isPositive();
        DeleteRequest req = DeleteRequest.newBuilder().setJobName(job)
            .setFingerprint(before.getFingerprint()).build();
        DeleteResponse r = stub.delete(req);
        assertThat(r.getDeleted()).isTrue();
        assertThat(r.getBytesReleased()).isEqualTo(jobBytes);
        StatusResponse after = stub.status(StatusRequest.getDefaultInstance());
        assertThat(after.getBytesHeld()).isEqualTo(before.getBytesHeld() - jobBytes);
        assertThat(after.getJobsList()).extracting(JobSummary::getJobName).doesNotContain(job);
        // Idempotent.
        assertThat(stub.delete(req).getDeleted()).isFalse();
      } finally {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

}
