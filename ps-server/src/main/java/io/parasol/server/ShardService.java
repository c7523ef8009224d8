package io.parasol.server;

import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.parasol.proto.v1.BlockChunk;
import io.parasol.proto.v1.HeartbeatRequest;
import io.parasol.proto.v1.HeartbeatResponse;
import io.parasol.proto.v1.InitRequest;
import io.parasol.proto.v1.InitResponse;
import io.parasol.proto.v1.PullChunk;
import io.parasol.proto.v1.PullRequest;
import io.parasol.proto.v1.PushMessage;
import io.parasol.proto.v1.PushResponse;
import io.parasol.proto.v1.ShardGrpc;
import io.parasol.proto.v1.StatusRequest;
import io.parasol.proto.v1.StatusResponse;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC face of a shard: validates messages, delegates to {@link ShardCore}, and maps
 * refusals to statuses in one place ({@link #fail}). Causes never cross the wire: an unexpected
 * exception becomes INTERNAL with a generic description and is logged here.
 */
final class ShardService extends ShardGrpc.ShardImplBase {
  private static final Logger log = LoggerFactory.getLogger(ShardService.class);

  /** A waiting pull is answered this long before its deadline, with the reason it waited. */
  static final long DEADLINE_MARGIN_NANOS = 50_000_000L;

  private final ShardCore core;
  private final int chunkFloats;
  private final ScheduledExecutorService timer;

  ShardService(ShardCore core, int chunkFloats, ScheduledExecutorService timer) {
    this.core = core;
    this.chunkFloats = chunkFloats;
    this.timer = timer;
  }

  @Override
  public void heartbeat(HeartbeatRequest req, StreamObserver<HeartbeatResponse> out) {
    try {
      out.onNext(core.heartbeat(req));
      out.onCompleted();
    } catch (ShardException e) {
      fail(out, e);
    } catch (RuntimeException e) {
      internal(out, "Heartbeat", e);
    }
  }

  @Override
  public void init(InitRequest req, StreamObserver<InitResponse> out) {
    try {
      out.onNext(core.init(req.getSpec(), req.getShard()));
      out.onCompleted();
    } catch (ShardException e) {
      fail(out, e);
    } catch (RuntimeException e) {
      internal(out, "Init", e);
    }
  }

  @Override
  public void status(StatusRequest req, StreamObserver<StatusResponse> out) {
    try {
      out.onNext(core.status());
      out.onCompleted();
    } catch (RuntimeException e) {
      internal(out, "Status", e);
    }
  }

  @Override
  public void pull(PullRequest req, StreamObserver<PullChunk> out) {
    ServerCallStreamObserver<PullChunk> call = (ServerCallStreamObserver<PullChunk>) out;
    ShardCore.PullPlan plan;
    try {
      plan = core.preparePull(req);
    } catch (ShardException e) {
      fail(out, e);
      return;
    }
    AtomicBoolean answered = new AtomicBoolean();
    AtomicReference<ScheduledFuture<?>> timeout = new AtomicReference<>();
    ShardCore.Cancellable waiting = core.awaitPull(plan, () -> {
      if (answered.compareAndSet(false, true)) {
        ScheduledFuture<?> t = timeout.getAndSet(null);
        if (t != null) {
          t.cancel(false);
        }
        send(plan, call);
      }
    });
    call.setOnCancelHandler(() -> {
      waiting.cancel();
      plan.release();
      ScheduledFuture<?> t = timeout.getAndSet(null);
      if (t != null) {
        t.cancel(false);
      }
    });
    // A barrier never outlives its caller's deadline silently: just before it, the pull is
    // answered with DEADLINE_EXCEEDED and the reason the round could not complete.
    Deadline deadline = Context.current().getDeadline();
    if (deadline != null && !answered.get()) {
      long in = deadline.timeRemaining(TimeUnit.NANOSECONDS) - DEADLINE_MARGIN_NANOS;
      if (in > 0) {
        timeout.set(timer.schedule(() -> {
          if (answered.compareAndSet(false, true)) {
            waiting.cancel();
            plan.release();
            if (!call.isCancelled()) {
              call.onError(Status.DEADLINE_EXCEEDED.withDescription(
                  "shard " + core.shardIndex() + ": " + core.describeWait(plan))
                  .asRuntimeException());
            }
          }
        }, in, TimeUnit.NANOSECONDS));
        if (answered.get()) {
          ScheduledFuture<?> t = timeout.getAndSet(null);
          if (t != null) {
            t.cancel(false);
          }
        }
      }
    }
  }

  private void send(ShardCore.PullPlan plan, ServerCallStreamObserver<PullChunk> call) {
    try {
      sendHeld(plan, call);
    } finally {
      plan.release();
    }
  }

  private void sendHeld(ShardCore.PullPlan plan, ServerCallStreamObserver<PullChunk> call) {
    try {
      for (int i = 0; i < plan.size(); i++) {
        if (call.isCancelled()) {
          return;
        }
        ShardCore.EncodedBlock block = plan.encode(i, chunkFloats);
        int offset = 0;
        for (var bytes : block.chunks()) {
          PullChunk.Builder c = PullChunk.newBuilder()
              .setVersion(block.version())
              .setChunk(BlockChunk.newBuilder()
                  .setBlockId(block.blockId())
                  .setOffset(offset)
                  .setValues(bytes));
          if (i == 0 && offset == 0) {
            c.setWaitedMicros(plan.waitedMicros());
          }
          call.onNext(c.build());
          core.bytesOut(bytes.size());
          offset += bytes.size() / Float.BYTES;
        }
      }
      call.onCompleted();
    } catch (RuntimeException e) {
      if (!call.isCancelled()) {
        internal(call, "Pull", e);
      }
    }
  }

  @Override
  public StreamObserver<PushMessage> push(StreamObserver<PushResponse> out) {
    return new PushReceiver(out);
  }

  /** Receives one push stream: a header, then chunks. */
  private final class PushReceiver implements StreamObserver<PushMessage> {
    private final StreamObserver<PushResponse> out;
    private ShardCore.PushPlan plan;
    private boolean finished;

    PushReceiver(StreamObserver<PushResponse> out) {
      this.out = out;
    }

    @Override
    public void onNext(PushMessage msg) {
      if (finished) {
        return;
      }
      try {
        switch (msg.getKindCase()) {
          case HEADER -> {
            if (plan != null) {
              throw refused(ShardException.invalid("push stream has a second header"));
            }
            plan = core.preparePush(msg.getHeader());
          }
          case CHUNK -> {
            if (plan == null) {
              throw refused(ShardException.invalid("push stream must start with a header"));
            }
            BlockChunk c = msg.getChunk();
            plan.accept(c.getBlockId(), c.getOffset(), c.getValues());
          }
          default -> throw refused(
              ShardException.invalid("push message carries neither header nor chunk"));
        }
      } catch (ShardException e) {
        finished = true;
        dropPlan();
        fail(out, e);
      } catch (RuntimeException e) {
        finished = true;
        dropPlan();
        internal(out, "Push", e);
      }
    }

    private void dropPlan() {
      if (plan != null) {
        plan.release();
        plan = null;
      }
    }

    @Override
    public void onError(Throwable t) {
      // The client cancelled or the stream broke: nothing was applied.
      finished = true;
      dropPlan();
    }

    @Override
    public void onCompleted() {
      if (finished) {
        return;
      }
      finished = true;
      if (plan == null) {
        fail(out, refused(ShardException.invalid("push stream ended without a header")));
        return;
      }
      try {
        out.onNext(core.push(plan));
        out.onCompleted();
      } catch (ShardException e) {
        fail(out, e);
      } catch (RuntimeException e) {
        internal(out, "Push", e);
      } finally {
        plan = null;
      }
    }
  }

  /** Counts a refusal the service itself decided on, and returns it. */
  private ShardException refused(ShardException e) {
    core.refused(e);
    return e;
  }

  private static void fail(StreamObserver<?> out, ShardException e) {
    out.onError(e.toStatus().asRuntimeException());
  }

  private void internal(StreamObserver<?> out, String method, RuntimeException e) {
    log.error("shard {}: {} failed unexpectedly", core.shardIndex(), method, e);
    out.onError(Status.INTERNAL.withDescription(method + " failed on shard " + core.shardIndex()
        + "; see the shard's log").asRuntimeException());
  }
}
