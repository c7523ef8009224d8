package io.parasol.server.rpc;

import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.grpc.BindableService;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.parasol.common.ReceivedChunk;
import io.parasol.common.ReceivedPush;
import io.parasol.common.FloatCodec;
import io.parasol.proto.v1.ValueEncoding;
import java.util.ArrayList;
import java.util.List;
import io.parasol.proto.v1.BlockChunk;
import io.parasol.proto.v1.HeartbeatRequest;
import io.parasol.proto.v1.HeartbeatResponse;
import io.parasol.proto.v1.InitRequest;
import io.parasol.proto.v1.InitResponse;
import io.parasol.proto.v1.PullChunk;
import io.parasol.proto.v1.PullRequest;
import io.parasol.proto.v1.PushHeader;
import io.parasol.proto.v1.PushMessage;
import io.parasol.proto.v1.PushPullReply;
import io.parasol.proto.v1.PushResponse;
import io.parasol.proto.v1.ShardGrpc;
import io.parasol.proto.v1.StatusRequest;
import io.parasol.proto.v1.StatusResponse;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import io.parasol.server.core.Cancellable;
import io.parasol.server.core.EncodedBlock;
import io.parasol.server.core.PullPlan;
import io.parasol.server.core.PushPlan;
import io.parasol.server.core.ShardCore;
import io.parasol.server.core.ShardException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC face of a shard: validates messages, delegates to {@link ShardCore}, and maps
 * refusals to statuses in one place ({@link #fail}). Causes never cross the wire: an unexpected
 * exception becomes INTERNAL with a generic description and is logged here.
 */
public final class ShardService implements ShardGrpc.AsyncService, BindableService {
  private static final Logger log = LoggerFactory.getLogger(ShardService.class);

  /** A waiting pull is answered this long before its deadline, with the reason it waited. */
  static final long DEADLINE_MARGIN_NANOS = 50_000_000L;

  private final ShardCore core;
  private final int chunkFloats;
  private final ScheduledExecutorService timer;

  /**
   * @param timer ends waiting pulls just before their deadline
   */
  public ShardService(ShardCore core, int chunkFloats, ScheduledExecutorService timer) {
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
      out.onNext(core.status(req.getJobName()));
      out.onCompleted();
    } catch (RuntimeException e) {
      internal(out, "Status", e);
    }
  }

  @Override
  public void delete(io.parasol.proto.v1.DeleteRequest req,
      StreamObserver<io.parasol.proto.v1.DeleteResponse> out) {
    try {
      out.onNext(core.delete(req));
      out.onCompleted();
    } catch (ShardException e) {
      fail(out, e);
    } catch (RuntimeException e) {
      internal(out, "Delete", e);
    }
  }

  @Override
  public void pull(PullRequest req, StreamObserver<PullChunk> out) {
    ServerCallStreamObserver<PullChunk> call = (ServerCallStreamObserver<PullChunk>) out;
    call.setOnReadyThreshold(FloatCodec.streamReadyBytes(chunkFloats));
    ShardService.PullSender<PullChunk> sender = new PullSender<>(call, c -> c, "Pull");
    call.setOnReadyHandler(sender::wake);
    call.setOnCancelHandler(sender::cancelled);
    servePull(req, sender);
  }

  /**
   * Serves {@code req} through {@code sender}: refused at once, or held until the blocks reach
   * the version asked for (answered just before the call's deadline if they do not), then sent.
   */
  private void servePull(PullRequest req, PullSender<?> sender) {
    ServerCallStreamObserver<?> call = sender.call;
    ValueEncoding encoding = req.getEncoding();
    if (!KNOWN_ENCODINGS.contains(encoding)) {
      fail(call, refusedUnknownEncoding(req));
      return;
    }
    PullPlan plan;
    try {
      plan = core.preparePull(req);
    } catch (ShardException e) {
      fail(call, e);
      return;
    } catch (RuntimeException e) {
      internal(call, sender.method, e);
      return;
    }
    AtomicBoolean answered = new AtomicBoolean();
    AtomicReference<ScheduledFuture<?>> timeout = new AtomicReference<>();
    sender.plan(plan, encoding);
    Cancellable waiting = core.awaitPull(plan, () -> {
      if (answered.compareAndSet(false, true)) {
        cancelTimeout(timeout);
        sender.start();
      }
    }, ended -> {
      // The job ended (deleted, finished or idle) while the pull waited: answered now.
      if (answered.compareAndSet(false, true)) {
        cancelTimeout(timeout);
        plan.release();
        if (!call.isCancelled()) {
          fail(call, ended);
        }
      }
    });
    sender.onCancel(() -> {
      waiting.cancel();
      plan.release();
      cancelTimeout(timeout);
      sender.wake();
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
          cancelTimeout(timeout);
        }
      }
    }
  }

  private ShardException refusedUnknownEncoding(PullRequest req) {
    return ShardException.invalid("pull asks for unknown value encoding "
        + req.getEncodingValue());
  }

  private static void cancelTimeout(AtomicReference<ScheduledFuture<?>> timeout) {
    ScheduledFuture<?> t = timeout.getAndSet(null);
    if (t != null) {
      t.cancel(false);
    }
  }

  /**
   * Sends one pull's blocks chunk by chunk, only while the call is ready for more (gRPC flow
   * control with a ready threshold of about two chunks): one chunk waits in the transport while
   * the next is serialised, instead of the whole pull piling up in the transport's buffers.
   * Each block is read at one version into a pooled snapshot ({@link PullPlan#encode})
   * that its chunks wrap; the snapshot goes back to its pool once its last chunk is sent.
   *
   * <p>{@link #pump} runs when the pull is released and whenever the call becomes ready again
   * or is cancelled; it never runs on two threads at once.
   */
  private final class PullSender<T> {
    private final ServerCallStreamObserver<T> call;
    /** The call's message for a chunk (Pull: the chunk; PushPull: a reply holding it). */
    private final java.util.function.Function<PullChunk, T> wrap;
    private final String method;
    private final java.util.concurrent.atomic.AtomicInteger wip =
        new java.util.concurrent.atomic.AtomicInteger();
    private volatile PullPlan plan;
    private volatile ValueEncoding encoding;
    /** What a cancel runs; {@link #CANCELLED} once the call was cancelled. */
    private final AtomicReference<Runnable> onCancel = new AtomicReference<>();
    private volatile boolean started;
    private boolean finished;
    private int block;
    private int chunk;
    private int offset;
    private EncodedBlock current;

    PullSender(ServerCallStreamObserver<T> call, java.util.function.Function<PullChunk, T> wrap,
        String method) {
      this.call = call;
      this.wrap = wrap;
      this.method = method;
    }

    /** What to send, once the pull is prepared. */
    void plan(PullPlan plan, ValueEncoding encoding) {
      this.plan = plan;
      this.encoding = encoding;
    }

    /** Runs {@code r} once when the call is cancelled (at once if it already was). */
    void onCancel(Runnable r) {
      if (!onCancel.compareAndSet(null, r)) {
        r.run();
      }
    }

    /** The call was cancelled (the call's cancel handler). */
    void cancelled() {
      Runnable r = onCancel.getAndSet(CANCELLED);
      if (r != null && r != CANCELLED) {
        r.run();
      }
    }

    /** The pull was released: start sending. */
    void start() {
      started = true;
      pump();
    }

    /** The call became ready, or was cancelled. */
    void wake() {
      if (started) {
        pump();
      }
    }

    private void pump() {
      if (wip.getAndIncrement() != 0) {
        return;
      }
      do {
        drain();
      } while (wip.decrementAndGet() != 0);
    }

    private void drain() {
      try {
        while (!finished) {
          if (call.isCancelled()) {
            finish();
            return;
          }
          if (!call.isReady()) {
            return;
          }
          if (current == null) {
            if (block == plan.size()) {
              finish();
              call.onCompleted();
              return;
            }
            current = plan.encode(block, chunkFloats, encoding);
            chunk = 0;
            offset = 0;
          }
          var bytes = current.chunks().get(chunk);
          BlockChunk.Builder c = BlockChunk.newBuilder()
              .setBlockId(current.blockId())
              .setOffset(offset)
              .setValues(bytes);
          if (encoding != ValueEncoding.VALUE_ENCODING_FP32) {
            c.setEncoding(encoding);
          }
          PullChunk.Builder m = PullChunk.newBuilder()
              .setVersion(current.version())
              .setIncarnation(core.incarnation())
              .setChunk(c);
          if (block == 0 && chunk == 0) {
            m.setWaitedMicros(plan.waitedMicros());
          }
          // Serialises the message (copying the chunk's bytes into the transport's buffers)
          // before it returns.
          call.onNext(wrap.apply(m.build()));
          core.bytesOut(plan, bytes.size());
          offset += bytes.size() / FloatCodec.bytesPerValue(encoding);
          if (++chunk == current.chunks().size()) {
            current.release();
            current = null;
            block++;
          }
        }
      } catch (ShardException e) {
        // No buffer for the next block: the shard's buffers are at their limit.
        finish();
        if (!call.isCancelled()) {
          fail(call, refused(e));
        }
      } catch (RuntimeException e) {
        finish();
        if (!call.isCancelled()) {
          internal(call, method, e);
        }
      }
    }

    private void finish() {
      finished = true;
      if (current != null) {
        current.release();
        current = null;
      }
      plan.release();
    }
  }

  private static final Runnable CANCELLED = () -> { };

  /** The value encodings a pull may ask for. */
  private static final java.util.Set<ValueEncoding> KNOWN_ENCODINGS = java.util.EnumSet.of(
      ValueEncoding.VALUE_ENCODING_FP32, ValueEncoding.VALUE_ENCODING_BF16,
      ValueEncoding.VALUE_ENCODING_FP16);

  /**
   * Push, with messages parsed by {@link ReceivedPush#pushMessageMarshaller()}: a chunk's values
   * stay in the transport's receive buffers until {@link PushReceiver#onNext} decodes them
   * straight into the block's staging buffer and releases them; bytes that are no PushMessage
   * are refused with INVALID_ARGUMENT. The wire format is unchanged.
   */
  static final MethodDescriptor<PushMessage, PushResponse> PUSH_METHOD =
      ShardGrpc.getPushMethod().toBuilder(ReceivedPush.pushMessageMarshaller(),
          ShardGrpc.getPushMethod().getResponseMarshaller()).build();

  /** PushPull, its requests parsed as Push's are ({@link #PUSH_METHOD}). */
  static final MethodDescriptor<PushMessage, PushPullReply> PUSH_PULL_METHOD =
      ShardGrpc.getPushPullMethod().toBuilder(ReceivedPush.pushMessageMarshaller(),
          ShardGrpc.getPushPullMethod().getResponseMarshaller()).build();

  /**
   * The generated service definition with Push and PushPull bound to {@link #PUSH_METHOD} and
   * {@link #PUSH_PULL_METHOD}; reflection still sees the same schema.
   */
  @Override
  public ServerServiceDefinition bindService() {
    ServerServiceDefinition stock = ShardGrpc.bindService(this);
    ServiceDescriptor.Builder sd = ServiceDescriptor.newBuilder(ShardGrpc.SERVICE_NAME)
        .setSchemaDescriptor(ShardGrpc.getServiceDescriptor().getSchemaDescriptor());
    List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
    for (ServerMethodDefinition<?, ?> m : stock.getMethods()) {
      if (m.getMethodDescriptor().getFullMethodName().equals(PUSH_METHOD.getFullMethodName())) {
        m = ServerMethodDefinition.create(PUSH_METHOD,
            ServerCalls.asyncClientStreamingCall(this::push));
      } else if (m.getMethodDescriptor().getFullMethodName()
          .equals(PUSH_PULL_METHOD.getFullMethodName())) {
        m = ServerMethodDefinition.create(PUSH_PULL_METHOD,
            ServerCalls.asyncBidiStreamingCall(this::pushPull));
      }
      sd.addMethod(m.getMethodDescriptor());
      methods.add(m);
    }
    ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(sd.build());
    for (ServerMethodDefinition<?, ?> m : methods) {
      b.addMethod(m);
    }
    return b.build();
  }

  @Override
  public StreamObserver<PushMessage> push(StreamObserver<PushResponse> out) {
    return receiver(new PushReceiver(out, null));
  }

  @Override
  public StreamObserver<PushMessage> pushPull(StreamObserver<PushPullReply> out) {
    ServerCallStreamObserver<PushPullReply> call = (ServerCallStreamObserver<PushPullReply>) out;
    call.setOnReadyThreshold(FloatCodec.streamReadyBytes(chunkFloats));
    PullSender<PushPullReply> sender = new PullSender<>(call,
        c -> PushPullReply.newBuilder().setChunk(c).build(), "PushPull");
    call.setOnReadyHandler(sender::wake);
    call.setOnCancelHandler(sender::cancelled);
    return receiver(new PushReceiver(null, sender));
  }

  private static StreamObserver<PushMessage> receiver(PushReceiver r) {
    return new StreamObserver<>() {
      @Override
      public void onNext(PushMessage m) {
        r.onNext(LenientParsing.isUnparseable(m) ? ReceivedPush.malformed(
            "not a parasol.v1.PushMessage") : ReceivedPush.claim(m));
      }

      @Override
      public void onError(Throwable t) {
        r.onError(t);
      }

      @Override
      public void onCompleted() {
        r.onCompleted();
      }
    };
  }

  /**
   * Receives one push stream: a header, then chunks; answers Push's response, or (PushPull)
   * the reply holding it and then the header's then_pull.
   */
  private final class PushReceiver implements StreamObserver<ReceivedPush> {
    /** Push's response observer (null for PushPull). */
    private final StreamObserver<PushResponse> pushOut;
    /** PushPull's sender of the pull after the push (null for Push). */
    private final PullSender<PushPullReply> then;
    private final StreamObserver<?> out;
    private PushPlan plan;
    private PullRequest thenPull;
    private boolean finished;

    PushReceiver(StreamObserver<PushResponse> pushOut, PullSender<PushPullReply> then) {
      this.pushOut = pushOut;
      this.then = then;
      this.out = pushOut != null ? pushOut : then.call;
    }

    /** Takes one message and always releases its receive buffers before returning. */
    @Override
    public void onNext(ReceivedPush msg) {
      try {
        if (!finished) {
          take(msg);
        }
      } finally {
        msg.release();
      }
    }

    private void take(ReceivedPush msg) {
      try {
        if (msg.malformed() != null) {
          throw refused(ShardException.invalid(
              "push message is not a valid parasol.v1.PushMessage: " + msg.malformed()));
        } else if (msg.hasHeader()) {
          if (plan != null) {
            throw refused(ShardException.invalid("push stream has a second header"));
          }
          checkThenPull(msg.header());
          plan = core.preparePush(msg.header());
          thenPull = msg.header().hasThenPull() ? msg.header().getThenPull() : null;
        } else if (msg.hasChunk()) {
          if (plan == null) {
            throw refused(ShardException.invalid("push stream must start with a header"));
          }
          ReceivedChunk c = msg.chunk();
          plan.accept(c.blockId(), c.offset(), c.encoding(), c.values());
        } else {
          throw refused(ShardException.invalid("push message carries neither header nor chunk"));
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

    /** A then_pull only in PushPull, for the push's own worker and job, in a known encoding. */
    private void checkThenPull(PushHeader h) throws ShardException {
      if (!h.hasThenPull()) {
        return;
      }
      if (then == null) {
        throw refused(ShardException.invalid("push header carries then_pull, which only"
            + " PushPull serves; use PushPull, or Pull after the push"));
      }
      PullRequest p = h.getThenPull();
      if (p.getWorker() != h.getWorker() || !p.getJobName().equals(h.getJobName())) {
        throw refused(ShardException.invalid("then_pull names worker " + p.getWorker()
            + " of job '" + p.getJobName() + "' but the push is worker " + h.getWorker()
            + " of job '" + h.getJobName() + "'; PushPull pulls for the pushing worker only"));
      }
      if (!KNOWN_ENCODINGS.contains(p.getEncoding())) {
        throw refused(refusedUnknownEncoding(p));
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
      PushResponse r;
      try {
        r = core.push(plan);
      } catch (ShardException e) {
        fail(out, e);
        return;
      } catch (RuntimeException e) {
        internal(out, then == null ? "Push" : "PushPull", e);
        return;
      } finally {
        plan = null;
      }
      if (then == null) {
        pushOut.onNext(r);
        pushOut.onCompleted();
        return;
      }
      if (then.call.isCancelled()) {
        return;
      }
      then.call.onNext(PushPullReply.newBuilder().setPushed(r).build());
      if (thenPull == null) {
        then.call.onCompleted();
      } else {
        servePull(thenPull, then);
      }
    }
  }

  /** Counts a refusal the service itself decided on, and returns it. */
  private ShardException refused(ShardException e) {
    core.refused(e);
    return e;
  }

  private static void fail(StreamObserver<?> out, ShardException e) {
    out.onError(e.toStatusException());
  }

  private void internal(StreamObserver<?> out, String method, RuntimeException e) {
    log.error("shard {}: {} failed unexpectedly", core.shardIndex(), method, e);
    out.onError(Status.INTERNAL.withDescription(method + " failed on shard " + core.shardIndex()
        + "; see the shard's log").asRuntimeException());
  }
}
