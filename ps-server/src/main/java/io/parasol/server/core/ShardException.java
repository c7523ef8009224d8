package io.parasol.server.core;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.parasol.common.Refusals;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A request the shard refuses, with the gRPC status it maps to. Thrown by the shard's domain
 * logic before anything changes; the service turns it into a status in one place.
 */
public final class ShardException extends Exception {
  private static final long serialVersionUID = 1L;
  private final Status.Code code;
  /** A {@link Refusals} reason the client branches on, or null. */
  private final String reason;
  private final Map<String, String> metadata = new LinkedHashMap<>();

  public ShardException(Status.Code code, String description) {
    this(code, description, null);
  }

  /** A refusal with a machine-readable {@code reason} (see {@link Refusals}). */
  public ShardException(Status.Code code, String description, String reason) {
    super(description, null, false, false);
    this.code = code;
    this.reason = reason;
  }

  /** The machine-readable reason, or null. */
  public String reason() {
    return reason;
  }

  /** Adds a metadata entry to the reason's detail; returns this. */
  public ShardException with(String key, String value) {
    metadata.put(key, value);
    return this;
  }

  /** The status to send: with a google.rpc.ErrorInfo detail when there is a reason. */
  public StatusRuntimeException toStatusException() {
    return reason == null ? toStatus().asRuntimeException()
        : Refusals.status(code, getMessage(), reason, metadata);
  }

  /**
   * FAILED_PRECONDITION, {@link Refusals#SHARD_ROLLED_BACK}: the push was computed from blocks
   * this shard no longer has (another incarnation, or versions it has not reached).
   */
  public static ShardException rolledBack(String description) {
    return new ShardException(Status.Code.FAILED_PRECONDITION, description,
        Refusals.SHARD_ROLLED_BACK);
  }

  public Status.Code code() {
    return code;
  }

  public Status toStatus() {
    return Status.fromCode(code).withDescription(getMessage());
  }

  public static ShardException invalid(String description) {
    return new ShardException(Status.Code.INVALID_ARGUMENT, description);
  }

  public static ShardException precondition(String description) {
    return new ShardException(Status.Code.FAILED_PRECONDITION, description);
  }
}
