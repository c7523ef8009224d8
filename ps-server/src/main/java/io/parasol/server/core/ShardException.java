package io.parasol.server.core;

import io.grpc.Status;

/**
 * A request the shard refuses, with the gRPC status it maps to. Thrown by the shard's domain
 * logic before anything changes; the service turns it into a status in one place.
 */
public final class ShardException extends Exception {
  private static final long serialVersionUID = 1L;
  private final Status.Code code;

  public ShardException(Status.Code code, String description) {
    super(description, null, false, false);
    this.code = code;
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
