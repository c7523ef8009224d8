package io.parasol.server.testing;

import io.micrometer.core.instrument.MeterRegistry;
import io.parasol.proto.v1.JobSpec;
import io.parasol.server.LocalCluster;
import io.parasol.server.ShardServer;
import io.parasol.server.core.ShardCore;
import io.parasol.server.core.ShardException;
import java.io.IOException;
import java.util.List;

/**
 * The in-process cluster other modules' tests reuse (shipped in ps-server's test-jar): S real
 * gRPC shards on 127.0.0.1 with ephemeral ports, closed by try-with-resources.
 *
 * <pre>{@code
 * try (ClusterFixture c = ClusterFixture.start(2)) {
 *   PsClient client = ... c.addresses() ...;
 *   c.init(spec);                       // or let the client's Init declare the job
 *   long v = c.core(0).blockVersion(0); // inspect a shard directly
 * }
 * }</pre>
 */
public final class ClusterFixture implements AutoCloseable {
  private final LocalCluster cluster;

  private ClusterFixture(LocalCluster cluster) {
    this.cluster = cluster;
  }

  /** {@code shards} shards with private meter registries. */
  public static ClusterFixture start(int shards) throws IOException {
    return start(shards, null);
  }

  /** {@code shards} shards reporting to {@code registry} (null: private ones). */
  public static ClusterFixture start(int shards, MeterRegistry registry) throws IOException {
    return new ClusterFixture(LocalCluster.start(shards, registry));
  }

  /** "127.0.0.1:port" of each shard, in shard order. */
  public List<String> addresses() {
    return cluster.addresses();
  }

  public ShardServer server(int shard) {
    return cluster.server(shard);
  }

  public ShardCore core(int shard) {
    return cluster.server(shard).core();
  }

  /** Declares {@code spec} on every shard directly (no gRPC). */
  public void init(JobSpec spec) throws ShardException {
    for (int s = 0; s < cluster.servers().size(); s++) {
      core(s).init(spec, s);
    }
  }

  /** The underlying cluster (for code that takes a LocalCluster). */
  public LocalCluster cluster() {
    return cluster;
  }

  @Override
  public void close() {
    cluster.close();
  }
}
