package io.parasol.server;

import io.grpc.ServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.IoHandlerFactory;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.ServerChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * Transport threads of the shard's own, when asked for ({@code server --io-threads N}): one
 * acceptor and N event loops, epoll where the platform has it (as gRPC's default does), NIO
 * elsewhere. By default a shard stays on gRPC's shared loops (two per core, shared with the
 * process's client channels).
 *
 * <p>What they change: the shard's handlers run on the event loop (see {@link ShardServer}),
 * and Netty gives each connection one loop for its life, so on the shared loops a small job's
 * request can wait behind a big job's 16 MB decode and apply on the same thread. With more
 * loops than connections each connection has its own thread. Measured with both jobs' workers
 * in the shard's process (README, Several jobs on one shard fleet): the small job's step with
 * the big one running was the same either way (about 13 ms), its step alone slower on the
 * shard's own loops (2 ms against 0.8, a thread hand-off per message instead of a client and
 * a server sharing a loop), and a one-job sync run about a quarter slower; so the default is
 * the shared loops, and this is for shard processes with many connections.
 */
final class ShardIo implements AutoCloseable {
  /** System property that sets the default number of event loops. */
  static final String THREADS_PROPERTY = "parasol.server.ioThreads";

  private final EventLoopGroup boss;
  private final EventLoopGroup workers;

  private ShardIo(EventLoopGroup boss, EventLoopGroup workers) {
    this.boss = boss;
    this.workers = workers;
  }

  /**
   * The default number of event loops: {@value #THREADS_PROPERTY} if set, else 0 (gRPC's shared
   * loops).
   */
  static int defaultThreads() {
    String p = System.getProperty(THREADS_PROPERTY);
    if (p == null || p.isBlank()) {
      return 0;
    }
    int n = Integer.parseInt(p.trim());
    if (n < 0) {
      throw new IllegalArgumentException(THREADS_PROPERTY + " must be >= 0, got " + n);
    }
    return n;
  }

  /**
   * Gives {@code builder} its own event loops when it is a Netty builder and
   * {@code threads > 0}; otherwise leaves it on gRPC's shared default and returns null.
   */
  static ShardIo attach(ServerBuilder<?> builder, String name, int threads) {
    if (threads <= 0 || !(builder instanceof NettyServerBuilder nb)) {
      return null;
    }
    boolean epoll = Epoll.isAvailable();
    IoHandlerFactory handlers = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    Class<? extends ServerChannel> channel = epoll ? EpollServerSocketChannel.class
        : NioServerSocketChannel.class;
    EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1,
        new DefaultThreadFactory(name + "-accept", true), handlers);
    EventLoopGroup workers = new MultiThreadIoEventLoopGroup(threads,
        new DefaultThreadFactory(name + "-io", true), handlers);
    nb.bossEventLoopGroup(boss).workerEventLoopGroup(workers).channelType(channel);
    return new ShardIo(boss, workers);
  }

  /** Stops the event loops (after the server has stopped using them). */
  @Override
  public void close() {
    boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }
}
