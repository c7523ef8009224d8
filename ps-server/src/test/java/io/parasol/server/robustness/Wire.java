package io.parasol.server.robustness;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.parasol.proto.v1.HeartbeatRequest;
import io.parasol.proto.v1.InitRequest;
import io.parasol.proto.v1.PullChunk;
import io.parasol.proto.v1.PullRequest;
import io.parasol.proto.v1.PushMessage;
import io.parasol.proto.v1.PushResponse;
import io.parasol.proto.v1.ShardGrpc;
import io.parasol.proto.v1.StatusRequest;
import io.parasol.proto.v1.StatusResponse;
import io.parasol.server.ShardServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Real gRPC calls to one shard, each with a deadline, reduced to the status they ended with.
 * Blocking stubs for Init, Pull, Status and Heartbeat; the async stub for the client-streaming
 * Push; a generic byte-array call for pushes that are not protobuf at all.
 */
final class Wire implements AutoCloseable {
  /** Deadline of every call unless a probe asks for a shorter one. */
  static final long DEADLINE_MS = 10_000;

  /** How long past a call's deadline the test waits for its status before calling it lost. */
  static final long SLACK_MS = 5_000;

  /** The Push method with byte-array messages: anything can be sent as a request. */
  static final MethodDescriptor<byte[], byte[]> RAW_PUSH =
      MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.CLIENT_STREAMING)
          .setFullMethodName(ShardGrpc.getPushMethod().getFullMethodName())
          .setRequestMarshaller(new RawMarshaller())
          .setResponseMarshaller(new RawMarshaller())
          .build();

  private final ManagedChannel channel;
  private final ShardGrpc.ShardBlockingStub blocking;
  private final ShardGrpc.ShardStub async;

  private final boolean owned;

  /** Calls on {@code channel}, which the caller closes. */
  Wire(ManagedChannel channel) {
    this(channel, false);
  }

  private Wire(ManagedChannel channel, boolean owned) {
    this.channel = channel;
    this.owned = owned;
    this.blocking = ShardGrpc.newBlockingStub(channel);
    this.async = ShardGrpc.newStub(channel);
  }

  /** Calls on a channel of their own to 127.0.0.1:{@code port}; {@link #close} closes it. */
  static Wire open(int port) {
    return new Wire(channelTo(port), true);
  }

  /** A plaintext channel to the shard on 127.0.0.1:{@code port}. */
  static ManagedChannel channelTo(int port) {
    return NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext()
        .maxInboundMessageSize(ShardServer.MAX_INBOUND_MESSAGE_BYTES).build();
  }

  @Override
  public void close() {
    if (owned) {
      try {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * How one request ended: the status the shard answered with, or that the client itself
   * cancelled it (no status from the shard to judge), or that no status came back at all.
   */
  record Outcome(Status status, boolean clientCancelled, boolean lost) {
    static Outcome of(Status s) {
      return new Outcome(s, false, false);
    }

    static Outcome cancelledByClient() {
      return new Outcome(Status.CANCELLED, true, false);
    }

    static Outcome noAnswer() {
      return new Outcome(null, false, true);
    }
  }

  private ShardGrpc.ShardBlockingStub b(long deadlineMs) {
    return blocking.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS);
  }

  StatusResponse status() {
    return b(DEADLINE_MS).status(StatusRequest.getDefaultInstance());
  }

  Outcome init(InitRequest req) {
    try {
      b(DEADLINE_MS).init(req);
      return Outcome.of(Status.OK);
    } catch (StatusRuntimeException e) {
      return Outcome.of(e.getStatus());
    }
  }

  Outcome heartbeat(HeartbeatRequest req) {
    try {
      b(DEADLINE_MS).heartbeat(req);
      return Outcome.of(Status.OK);
    } catch (StatusRuntimeException e) {
      return Outcome.of(e.getStatus());
    }
  }

  /** Reads the whole pull; OK only when every chunk arrived and the stream completed. */
  Outcome pull(PullRequest req, long deadlineMs) {
    try {
      Iterator<PullChunk> it = b(deadlineMs).pull(req);
      int chunks = 0;
      while (it.hasNext() && chunks < 1_000_000) {
        it.next();
        chunks++;
      }
      return Outcome.of(Status.OK);
    } catch (StatusRuntimeException e) {
      return Outcome.of(e.getStatus());
    }
  }

  /** Every chunk of a valid pull, in order. */
  List<PullChunk> pullAll(PullRequest req) {
    List<PullChunk> out = new ArrayList<>();
    Iterator<PullChunk> it = b(DEADLINE_MS).pull(req);
    while (it.hasNext() && out.size() < 1_000_000) {
      out.add(it.next());
    }
    return out;
  }

  /**
   * Sends {@code msgs} on one Push stream and completes it; with {@code cancelAfter >= 0} sends
   * only that many messages and then cancels the stream from the client instead. Sending stops
   * early once the shard has answered.
   */
  Outcome push(List<PushMessage> msgs, int cancelAfter, long deadlineMs)
      throws InterruptedException {
    CompletableFuture<Status> done = new CompletableFuture<>();
    StreamObserver<PushMessage> req = async.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS)
        .push(new StreamObserver<PushResponse>() {
          @Override
          public void onNext(PushResponse r) {}

          @Override
          public void onError(Throwable t) {
            done.complete(Status.fromThrowable(t));
          }

          @Override
          public void onCompleted() {
            done.complete(Status.OK);
          }
        });
    int n = cancelAfter < 0 ? msgs.size() : Math.min(cancelAfter, msgs.size());
    for (int i = 0; i < n && !done.isDone(); i++) {
      req.onNext(msgs.get(i));
    }
    boolean cancelled = false;
    if (cancelAfter >= 0) {
      cancelled = !done.isDone();
      req.onError(new CancellationException("fuzz: the client abandons the push mid-stream"));
    } else {
      req.onCompleted();
    }
    Status s = await(done, deadlineMs);
    if (s == null) {
      return Outcome.noAnswer();
    }
    if (cancelled && s.getCode() == Status.Code.CANCELLED) {
      return Outcome.cancelledByClient();
    }
    return Outcome.of(s);
  }

  /** A Push call whose request messages are the given raw bytes. */
  Outcome rawPush(List<byte[]> msgs, long deadlineMs) throws InterruptedException {
    CompletableFuture<Status> done = new CompletableFuture<>();
    ClientCall<byte[], byte[]> call = channel.newCall(RAW_PUSH,
        CallOptions.DEFAULT.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS));
    call.start(new ClientCall.Listener<byte[]>() {
      @Override
      public void onClose(Status status, Metadata trailers) {
        done.complete(status);
      }
    }, new Metadata());
    call.request(1);
    for (int i = 0; i < msgs.size() && !done.isDone(); i++) {
      call.sendMessage(msgs.get(i));
    }
    call.halfClose();
    Status s = await(done, deadlineMs);
    return s == null ? Outcome.noAnswer() : Outcome.of(s);
  }

  /**
   * One call of any unary or server-streaming method with raw bytes as its request (responses
   * are read and dropped).
   */
  Outcome rawCall(String fullMethodName, MethodDescriptor.MethodType type, byte[] request,
      long deadlineMs) throws InterruptedException {
    MethodDescriptor<byte[], byte[]> method = MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(type).setFullMethodName(fullMethodName)
        .setRequestMarshaller(new RawMarshaller()).setResponseMarshaller(new RawMarshaller())
        .build();
    CompletableFuture<Status> done = new CompletableFuture<>();
    ClientCall<byte[], byte[]> call = channel.newCall(method,
        CallOptions.DEFAULT.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS));
    call.start(new ClientCall.Listener<byte[]>() {
      @Override
      public void onMessage(byte[] message) {
        call.request(1);
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        done.complete(status);
      }
    }, new Metadata());
    call.request(1);
    call.sendMessage(request);
    call.halfClose();
    Status s = await(done, deadlineMs);
    return s == null ? Outcome.noAnswer() : Outcome.of(s);
  }

  private static Status await(CompletableFuture<Status> done, long deadlineMs)
      throws InterruptedException {
    try {
      return done.get(deadlineMs + SLACK_MS, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      return null;
    } catch (ExecutionException e) {
      return Status.fromThrowable(e.getCause());
    }
  }

  /** Bytes in, bytes out. */
  private static final class RawMarshaller implements MethodDescriptor.Marshaller<byte[]> {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
