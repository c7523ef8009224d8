package io.parasol.common;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.util.Map;

/**
 * Machine-readable refusals: a status whose details carry a {@code google.rpc.ErrorInfo} with
 * domain {@link #DOMAIN} and one of the reasons below, so that a client branches on the reason
 * instead of parsing the description. Shards build them with {@link #status}; clients read them
 * with {@link #reason} and {@link #metadata}.
 */
public final class Refusals {
  /** The ErrorInfo domain of Parasol's refusals. */
  public static final String DOMAIN = "parasol.io";

  /**
   * FAILED_PRECONDITION: the push was computed from blocks the shard no longer has (it
   * restarted from a checkpoint, so it reads another incarnation or older versions). Metadata:
   * {@code shard}, {@code incarnation} (the shard's current one). The worker pulls again.
   */
  public static final String SHARD_ROLLED_BACK = "SHARD_ROLLED_BACK";

  /**
   * FAILED_PRECONDITION: the shard has no job (it restarted without a checkpoint). Metadata:
   * {@code shard}, {@code incarnation}. The worker declares the job again (Init) and pulls.
   */
  public static final String JOB_UNKNOWN = "JOB_UNKNOWN";

  /**
   * NOT_FOUND: the job ended on the shard (deleted, every worker finished, or idle past the
   * shard's {@code --job-idle-timeout}) while the call waited for it, such as a pull at a sync
   * barrier or an ssp bound. Metadata: {@code shard}, {@code incarnation}, {@code job}, {@code
   * ended} ({@code deleted}, {@code finished} or {@code idle}). Permanent: clients do not retry
   * it, and do not declare the job again on their own.
   */
  public static final String JOB_ENDED = "JOB_ENDED";

  /**
   * RESOURCE_EXHAUSTED: the job needs more memory than the shard may hold (its {@code
   * --max-bytes}). Metadata: {@code shard}, {@code bytes} (needed), {@code limit}. Permanent:
   * clients do not retry it (other RESOURCE_EXHAUSTED answers, such as flow control, are
   * transient and retried).
   */
  public static final String SHARD_TOO_SMALL = "SHARD_TOO_SMALL";

  private Refusals() {}

  /** {@code code} with {@code description} and an ErrorInfo of {@code reason}. */
  public static StatusRuntimeException status(Status.Code code, String description,
      String reason, Map<String, String> metadata) {
    com.google.rpc.Status s = com.google.rpc.Status.newBuilder()
        .setCode(code.value())
        .setMessage(description)
        .addDetails(Any.pack(ErrorInfo.newBuilder().setDomain(DOMAIN).setReason(reason)
            .putAllMetadata(metadata).build()))
        .build();
    return StatusProto.toStatusRuntimeException(s);
  }

  /** The Parasol ErrorInfo in {@code t}'s status details, or null when it has none. */
  public static ErrorInfo info(Throwable t) {
    com.google.rpc.Status s = t == null ? null : StatusProto.fromThrowable(t);
    if (s == null) {
      return null;
    }
    for (Any a : s.getDetailsList()) {
      if (a.is(ErrorInfo.class)) {
        try {
          ErrorInfo e = a.unpack(ErrorInfo.class);
          if (DOMAIN.equals(e.getDomain())) {
            return e;
          }
        } catch (InvalidProtocolBufferException e) {
          return null;
        }
      }
    }
    return null;
  }

  /** The Parasol refusal reason of {@code t}, or null when it carries none. */
  public static String reason(Throwable t) {
    ErrorInfo e = info(t);
    return e == null ? null : e.getReason();
  }

  /** A metadata value of {@code t}'s refusal as a number; {@code dflt} when absent. */
  public static long metadataLong(Throwable t, String key, long dflt) {
    ErrorInfo e = info(t);
    if (e == null || !e.containsMetadata(key)) {
      return dflt;
    }
    try {
      return Long.parseUnsignedLong(e.getMetadataOrThrow(key));
    } catch (NumberFormatException ex) {
      return dflt;
    }
  }
}
