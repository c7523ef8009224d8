package io.parasol.server.rpc;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.parasol.server.clock.Ticker;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Filter;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Logs of what clients sent wrong cannot be flooded. gRPC's transport logs a stack trace for
 * every message it refuses to deframe (one larger than the shard accepts, say): a client
 * sending such messages in a loop would write megabytes of log. This filter, on gRPC's
 * transport loggers, lets through the first record of a kind (logger and status code) per
 * interval, as one line without the stack trace, with how many were suppressed since; records
 * that are not a client's error (no gRPC status attached) pass unchanged. The caller still gets
 * its precise status; the per-method, per-status counts are in Micrometer's gRPC meters.
 */
public final class ClientErrorLogs implements Filter {
  /** The gRPC loggers that report refused inbound messages. */
  static final String[] LOGGERS = {
      "io.grpc.netty.shaded.io.grpc.netty.NettyServerStream",
      "io.grpc.netty.shaded.io.grpc.netty.NettyServerHandler",
      "io.grpc.internal.SerializingExecutor"};

  private static final ClientErrorLogs INSTALLED = new ClientErrorLogs(Ticker.system(),
      60_000_000_000L);

  /** Strong references: JUL holds loggers weakly, and a collected one loses its filter. */
  private static final java.util.List<Logger> FILTERED =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  private final Ticker ticker;
  private final long intervalNanos;
  private final Map<String, long[]> kinds = new ConcurrentHashMap<>();

  ClientErrorLogs(Ticker ticker, long intervalNanos) {
    this.ticker = ticker;
    this.intervalNanos = intervalNanos;
  }

  /** Installs the filter on gRPC's transport loggers (idempotent). */
  public static void install() {
    for (String name : LOGGERS) {
      Logger l = Logger.getLogger(name);
      if (l.getFilter() != INSTALLED) {
        l.setFilter(INSTALLED);
        FILTERED.add(l);
      }
    }
  }

  @Override
  public boolean isLoggable(LogRecord r) {
    Status status = statusOf(r.getThrown());
    if (status == null) {
      return true;
    }
    String kind = r.getLoggerName() + " " + status.getCode();
    long now = ticker.nanoTime();
    long[] k = kinds.computeIfAbsent(kind, x -> new long[] {now - intervalNanos, 0});
    synchronized (k) {
      if (now - k[0] < intervalNanos) {
        k[1]++;
        return false;
      }
      long suppressed = k[1];
      k[0] = now;
      k[1] = 0;
      r.setThrown(null);
      r.setParameters(null);
      r.setMessage("refused a client's message: " + status.getCode() + ": "
          + status.getDescription() + (suppressed > 0 ? " (" + suppressed + " more like it"
          + " since the last line)" : "") + "; at most one line per kind per "
          + intervalNanos / 1_000_000_000L + " s");
      return true;
    }
  }

  private static Status statusOf(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof StatusRuntimeException e) {
        return e.getStatus();
      }
      if (c instanceof StatusException e) {
        return e.getStatus();
      }
    }
    return null;
  }
}
