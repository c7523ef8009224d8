package io.parasol.client;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * A call refused because its shard rolled back ({@link ShardRollback}): a
 * {@link StatusRuntimeException} (FAILED_PRECONDITION, as the shard said) that callers may
 * recover from by pulling again ({@link PsClient#redeclare()} first when the job was lost).
 */
public final class ShardRolledBackException extends StatusRuntimeException {
  private static final long serialVersionUID = 1L;
  private final transient ShardRollback rollback;

  public ShardRolledBackException(Status status, ShardRollback rollback) {
    super(status);
    this.rollback = rollback;
  }

  public ShardRollback rollback() {
    return rollback;
  }
}
