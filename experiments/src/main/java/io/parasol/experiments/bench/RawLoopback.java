package io.parasol.experiments.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The reference a parameter server's wire path is held against: plain Java sockets moving the
 * same bytes over one loopback TCP connection, with nothing but the kernel in the way (the
 * bytes come from and go to a reused 1 MiB direct buffer, as iperf3's do).
 *
 * <p>One connection, kept open between transfers like a gRPC channel. Each transfer starts with
 * a command (bytes up, bytes down, overlapped or not); the peer answers with one byte once it
 * has everything, so every timing covers the whole transfer.
 */
final class RawLoopback implements AutoCloseable {
  private static final int BUFFER = 1 << 20;

  private final ServerSocketChannel listener;
  private final SocketChannel client;
  private final SocketChannel peer;
  private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "raw-loopback");
    t.setDaemon(true);
    return t;
  });
  private final Future<?> server;
  private final ByteBuffer clientOut = ByteBuffer.allocateDirect(BUFFER);
  private final ByteBuffer clientIn = ByteBuffer.allocateDirect(BUFFER);

  private RawLoopback() throws IOException {
    listener = ServerSocketChannel.open();
    listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    client = SocketChannel.open(listener.getLocalAddress());
    peer = listener.accept();
    client.socket().setTcpNoDelay(true);
    peer.socket().setTcpNoDelay(true);
    server = threads.submit(this::serve);
  }

  static RawLoopback open() {
    try {
      return new RawLoopback();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open a loopback connection", e);
    }
  }

  /** Sends {@code bytes} one way (client to peer); nanoseconds until the peer has them all. */
  long oneWay(long bytes) {
    return transfer(bytes, 0, false);
  }

  /** Sends {@code up} bytes, then receives {@code down} bytes: a request and its answer. */
  long thereAndBack(long up, long down) {
    return transfer(up, down, false);
  }

  /** Sends {@code up} bytes while receiving {@code down} bytes, both directions at once. */
  long duplex(long up, long down) {
    return transfer(up, down, true);
  }

  private long transfer(long up, long down, boolean overlapped) {
    try {
      ByteBuffer cmd = ByteBuffer.allocate(17);
      cmd.putLong(up).putLong(down).put((byte) (overlapped ? 1 : 0)).flip();
      long t0 = System.nanoTime();
      writeFully(client, cmd);
      if (overlapped) {
        Future<?> reader = threads.submit(() -> {
          readExactly(client, clientIn, down + 1);
          return null;
        });
        send(client, clientOut, up);
        reader.get();
      } else {
        send(client, clientOut, up);
        readExactly(client, clientIn, down + 1);
      }
      return System.nanoTime() - t0;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("loopback transfer failed", e.getCause());
    }
  }

  /** The peer: for each command, receive and send as told, then one byte when all arrived. */
  private Void serve() throws Exception {
    ByteBuffer in = ByteBuffer.allocateDirect(BUFFER);
    ByteBuffer out = ByteBuffer.allocateDirect(BUFFER);
    ByteBuffer cmd = ByteBuffer.allocate(17);
    while (true) {
      cmd.clear();
      while (cmd.hasRemaining()) {
        if (peer.read(cmd) < 0) {
          return null;
        }
      }
      cmd.flip();
      long up = cmd.getLong();
      long down = cmd.getLong();
      boolean overlapped = cmd.get() == 1;
      if (overlapped) {
        Future<?> writer = threads.submit(() -> {
          send(peer, out, down);
          return null;
        });
        readExactly(peer, in, up);
        writer.get();
      } else {
        readExactly(peer, in, up);
        send(peer, out, down);
      }
      writeFully(peer, ByteBuffer.wrap(new byte[] {1}));
    }
  }

  private static void send(SocketChannel ch, ByteBuffer buf, long bytes) throws IOException {
    long left = bytes;
    while (left > 0) {
      buf.clear().limit((int) Math.min(buf.capacity(), left));
      left -= buf.remaining();
      writeFully(ch, buf);
    }
  }

  private static void writeFully(SocketChannel ch, ByteBuffer buf) throws IOException {
    while (buf.hasRemaining()) {
      ch.write(buf);
    }
  }

  private static void readExactly(SocketChannel ch, ByteBuffer buf, long bytes)
      throws IOException {
    long left = bytes;
    while (left > 0) {
      buf.clear().limit((int) Math.min(buf.capacity(), left));
      int r = ch.read(buf);
      if (r < 0) {
        throw new IOException("connection closed with " + left + " bytes to go");
      }
      left -= r;
    }
  }

  @Override
  public void close() {
    try {
      client.close();
      peer.close();
      listener.close();
    } catch (IOException e) {
      // closing anyway
    }
    server.cancel(true);
    threads.shutdownNow();
  }
}
