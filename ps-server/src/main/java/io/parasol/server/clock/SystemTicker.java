package io.parasol.server.clock;

/** The monotonic system clock: the only place on the server that reads it. */
public final class SystemTicker implements Ticker {
  /** The one instance. */
  public static final SystemTicker INSTANCE = new SystemTicker();

  private SystemTicker() {}

  @Override
  public long nanoTime() {
    return System.nanoTime();
  }
}
