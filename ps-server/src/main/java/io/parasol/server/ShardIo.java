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
 * The shard's own transport threads: one acceptor and {@code threads} event loops, epoll where
 * the platform has it (as gRPC's default does), NIO elsewhere.
 *
 * <p>Why the shard has its own, and more of them than cores: its handlers run on the event
 * loop (see {@link ShardServer}), and Netty gives each connection one event loop for its life.
 * gRPC's shared default is two per core, shared with every client channel of the process, so
 * a worker's connection usually shares its loop with others, and a small job's 40 KB request
 * then waits behind a big job's 16 MB decode and apply on the same thread, however idle the
 * rest of the machine. With more loops than connections each connection has its own thread,
 * and the operating system's scheduler shares the cores between them (README, Several jobs on
 * one shard fleet: `bench jobs` with the shared loops and with the shard's own).
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
   * The default number of event loops: {@value #THREADS_PROPERTY} if set, else 4 per core and
   * at least 16 (an idle event loop costs a parked thread).
   */
  static int defaultThreads() {
    String p = System.getProperty(THREADS_PROPERTY);
    if (p != null && !p.isBlank()) {
      int n = Integer.parseInt(p.trim());
      if (n < 0) {
        throw new IllegalArgumentException(THREADS_PROPERTY + " must be >= 0, got " + n);
      }
      return n;
    }
    return Math.max(16, 4 * Runtime.getRuntime().availableProcessors());
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
