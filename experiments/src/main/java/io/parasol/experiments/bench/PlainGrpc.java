package io.parasol.experiments.bench;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The second reference of {@code bench pushpull}: the same bytes moved by the gRPC-Java a user
 * would write without Parasol. S servers on 127.0.0.1 (one per shard), one channel to each, a
 * client-streaming "up" call and a server-streaming "down" call per server, messages of raw
 * bytes in chunks of the size Parasol uses, all servers' streams in flight at once; the
 * channels' flow-control window is Parasol's client window and the servers keep gRPC's
 * default, as Parasol's shards do. Messages are plain byte arrays (the marshaller copies them
 * out of the transport, as a generated {@code bytes} field would), so the difference between
 * this and Parasol is what Parasol's protocol, validation, apply and zero-copy paths cost or
 * save; the difference between this and raw TCP is what gRPC (HTTP/2 framing, flow control,
 * Netty) costs.
 */
final class PlainGrpc implements AutoCloseable {
  private static final String SERVICE = "parasol.bench.PlainBytes";

  /** A message of raw bytes; reading copies it out of the transport once. */
  private static final MethodDescriptor.Marshaller<byte[]> BYTES =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
          try {
            return stream.readAllBytes();
          } catch (IOException e) {
            throw Status.INTERNAL.withDescription("cannot read a message").withCause(e)
                .asRuntimeException();
          }
        }
      };

  private static final MethodDescriptor<byte[], byte[]> UP =
      MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.CLIENT_STREAMING)
          .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "Up"))
          .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();

  private static final MethodDescriptor<byte[], byte[]> DOWN =
      MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.SERVER_STREAMING)
          .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "Down"))
          .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();

  private final List<Server> servers = new ArrayList<>();
  private final List<ManagedChannel> channels = new ArrayList<>();
  private final byte[] chunk;

  private PlainGrpc(int servers, int chunkBytes, int clientWindow) throws IOException {
    this.chunk = new byte[chunkBytes];
    for (int i = 0; i < chunk.length; i++) {
      chunk[i] = (byte) (i * 31 + 7);
    }
    ServerServiceDefinition service = ServerServiceDefinition.builder(SERVICE)
        .addMethod(UP, ServerCalls.asyncClientStreamingCall(PlainGrpc::up))
        .addMethod(DOWN, ServerCalls.asyncServerStreamingCall(this::down))
        .build();
    for (int s = 0; s < servers; s++) {
      Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
          .addService(service).maxInboundMessageSize(16 << 20).build().start();
      this.servers.add(server);
      NettyChannelBuilder b = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort())
          .usePlaintext().maxInboundMessageSize(16 << 20);
      if (clientWindow > 0) {
        b.flowControlWindow(clientWindow);
      }
      channels.add(b.build());
    }
  }

  /**
   * S servers with a channel each; messages of {@code chunkBytes} bytes; {@code clientWindow}
   * the channels' flow-control window in bytes (0: gRPC's default).
   */
  static PlainGrpc open(int servers, int chunkBytes, int clientWindow) {
    try {
      return new PlainGrpc(servers, chunkBytes, clientWindow);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start a loopback gRPC server", e);
    }
  }

  /** The server side of "up": counts the bytes and answers once the stream ends. */
  private static StreamObserver<byte[]> up(StreamObserver<byte[]> response) {
    return new StreamObserver<>() {
      long bytes;

      @Override
      public void onNext(byte[] value) {
        bytes += value.length;
      }

      @Override
      public void onError(Throwable t) {
        // the client gave up: nothing to answer
      }

      @Override
      public void onCompleted() {
        response.onNext(ByteBuffer.allocate(8).putLong(bytes).array());
        response.onCompleted();
      }
    };
  }

  /** The server side of "down": streams the requested number of bytes, paced by flow control. */
  private void down(byte[] request, StreamObserver<byte[]> response) {
    long total = ByteBuffer.wrap(request).getLong();
    ServerCallStreamObserver<byte[]> out = (ServerCallStreamObserver<byte[]>) response;
    long[] left = {total};
    boolean[] done = {false};
    out.setOnReadyHandler(() -> {
      while (out.isReady() && left[0] > 0) {
        int n = (int) Math.min(chunk.length, left[0]);
        out.onNext(n == chunk.length ? chunk : java.util.Arrays.copyOf(chunk, n));
        left[0] -= n;
      }
      if (left[0] == 0 && !done[0]) {
        done[0] = true;
        out.onCompleted();
      }
    });
  }

  /** Sends {@code bytes} split evenly over the servers, all at once; nanoseconds taken. */
  long push(long bytes) {
    long t0 = System.nanoTime();
    join(upAll(bytes));
    return System.nanoTime() - t0;
  }

  /** Receives {@code bytes} split evenly over the servers, all at once; nanoseconds taken. */
  long pull(long bytes) {
    long t0 = System.nanoTime();
    join(downAll(bytes));
    return System.nanoTime() - t0;
  }

  /** Sends and receives {@code bytes} each way, every stream in flight together. */
  long pushPull(long bytes) {
    long t0 = System.nanoTime();
    List<CompletableFuture<Long>> all = new ArrayList<>(upAll(bytes));
    all.addAll(downAll(bytes));
    join(all);
    return System.nanoTime() - t0;
  }

  private List<CompletableFuture<Long>> upAll(long bytes) {
    List<CompletableFuture<Long>> fs = new ArrayList<>();
    for (int s = 0; s < channels.size(); s++) {
      fs.add(up(channels.get(s), share(bytes, s)));
    }
    return fs;
  }

  private List<CompletableFuture<Long>> downAll(long bytes) {
    List<CompletableFuture<Long>> fs = new ArrayList<>();
    for (int s = 0; s < channels.size(); s++) {
      fs.add(down(channels.get(s), share(bytes, s)));
    }
    return fs;
  }

  private long share(long bytes, int s) {
    long n = channels.size();
    return bytes / n + (s < bytes % n ? 1 : 0);
  }

  private CompletableFuture<Long> up(ManagedChannel ch, long bytes) {
    CompletableFuture<Long> done = new CompletableFuture<>();
    StreamObserver<byte[]> answer = new StreamObserver<>() {
      @Override
      public void onNext(byte[] value) {
        done.complete(ByteBuffer.wrap(value).getLong());
      }

      @Override
      public void onError(Throwable t) {
        done.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        done.complete(-1L);
      }
    };
    StreamObserver<byte[]> stream = ClientCalls.asyncClientStreamingCall(
        ch.newCall(UP, CallOptions.DEFAULT.withDeadlineAfter(120, TimeUnit.SECONDS)), answer);
    for (long left = bytes; left > 0; ) {
      int n = (int) Math.min(chunk.length, left);
      stream.onNext(n == chunk.length ? chunk : java.util.Arrays.copyOf(chunk, n));
      left -= n;
    }
    stream.onCompleted();
    return done.thenApply(got -> {
      if (got != bytes) {
        throw new IllegalStateException("plain gRPC: the server got " + got + " bytes of "
            + bytes);
      }
      return got;
    });
  }

  private CompletableFuture<Long> down(ManagedChannel ch, long bytes) {
    CompletableFuture<Long> done = new CompletableFuture<>();
    ClientCalls.asyncServerStreamingCall(
        ch.newCall(DOWN, CallOptions.DEFAULT.withDeadlineAfter(120, TimeUnit.SECONDS)),
        ByteBuffer.allocate(8).putLong(bytes).array(), new StreamObserver<>() {
          long got;

          @Override
          public void onNext(byte[] value) {
            got += value.length;
          }

          @Override
          public void onError(Throwable t) {
            done.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {
            if (got != bytes) {
              done.completeExceptionally(new IllegalStateException("plain gRPC: received "
                  + got + " bytes of " + bytes));
            } else {
              done.complete(got);
            }
          }
        });
    return done;
  }

  private static void join(List<CompletableFuture<Long>> fs) {
    CompletableFuture.allOf(fs.toArray(new CompletableFuture<?>[0])).join();
  }

  @Override
  public void close() {
    for (ManagedChannel ch : channels) {
      ch.shutdownNow();
    }
    for (Server s : servers) {
      s.shutdownNow();
    }
    try {
      for (ManagedChannel ch : channels) {
        ch.awaitTermination(5, TimeUnit.SECONDS);
      }
      for (Server s : servers) {
        s.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
