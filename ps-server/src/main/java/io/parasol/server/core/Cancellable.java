package io.parasol.server.core;

/** A waiting pull; cancel it when the caller goes away. Idempotent. */
@FunctionalInterface
public interface Cancellable {
  void cancel();
}
