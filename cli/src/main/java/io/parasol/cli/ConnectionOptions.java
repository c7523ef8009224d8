package io.parasol.cli;

import io.parasol.common.FloatCodec;
import io.parasol.proto.v1.ValueEncoding;
import io.parasol.worker.train.JobKeys;
import java.time.Duration;
import picocli.CommandLine.Option;

/** Picocli mixin: how a worker talks to the shards (deadlines, wire precision, lease). */
public final class ConnectionOptions {
  @Option(names = JobKeys.LEASE_FLAG, defaultValue = JobKeys.LEASE_DEFAULT,
      description = JobKeys.LEASE_HELP)
  String lease;

  @Option(names = "--wire", defaultValue = "fp32",
      description = "Precision of pushed and pulled values on the wire: fp32, bf16 or fp16"
          + " (16-bit halves the bytes; the shards keep float32) (default: ${DEFAULT-VALUE}).")
  String wire;

  @Option(names = JobKeys.RPC_TIMEOUT_FLAG, defaultValue = JobKeys.RPC_TIMEOUT_DEFAULT,
      description = JobKeys.RPC_TIMEOUT_HELP)
  String rpcTimeout;

  @Option(names = JobKeys.PULL_TIMEOUT_FLAG, defaultValue = JobKeys.PULL_TIMEOUT_DEFAULT,
      description = JobKeys.PULL_TIMEOUT_HELP)
  String pullTimeout;

  int leaseMillis() {
    return JobKeys.LEASE.parse(lease);
  }

  ValueEncoding wire() {
    return FloatCodec.parseEncoding(wire);
  }

  Duration rpcTimeout() {
    return JobKeys.duration(JobKeys.RPC_TIMEOUT, rpcTimeout);
  }

  Duration pullTimeout() {
    return JobKeys.duration(JobKeys.PULL_TIMEOUT, pullTimeout);
  }
}
