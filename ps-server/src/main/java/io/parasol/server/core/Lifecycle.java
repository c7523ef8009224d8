package io.parasol.server.core;

import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The states of a shard server, in the style of Apache Ratis' {@code LifeCycle}: NEW →
 * STARTING → SERVING → STOPPING → STOPPED, with STARTING → STOPPING when a start fails and
 * NEW → STOPPED for a server stopped before it started. Any other transition is a bug and
 * throws.
 */
public enum Lifecycle {
  NEW, STARTING, SERVING, STOPPING, STOPPED;

  /** Whether a server may go from this state to {@code next}. */
  public boolean canTransitionTo(Lifecycle next) {
    return successors().contains(next);
  }

  private Set<Lifecycle> successors() {
    return switch (this) {
      case NEW -> EnumSet.of(STARTING, STOPPED);
      case STARTING -> EnumSet.of(SERVING, STOPPING);
      case SERVING -> EnumSet.of(STOPPING);
      case STOPPING -> EnumSet.of(STOPPED);
      case STOPPED -> EnumSet.noneOf(Lifecycle.class);
    };
  }

  /** A current state with checked transitions. Thread-safe. */
  public static final class State {
    private final String name;
    private final AtomicReference<Lifecycle> current = new AtomicReference<>(NEW);

    public State(String name) {
      this.name = name;
    }

    public Lifecycle get() {
      return current.get();
    }

    /** Moves to {@code next}; IllegalStateException when that is no transition from now. */
    public void transition(Lifecycle next) {
      Lifecycle from = current.get();
      if (!from.canTransitionTo(next) || !current.compareAndSet(from, next)) {
        throw new IllegalStateException(name + ": cannot go from " + from + " to " + next);
      }
    }

    /** Moves from {@code from} to {@code next} if in {@code from}; false otherwise. */
    public boolean compareAndTransition(Lifecycle from, Lifecycle next) {
      if (!from.canTransitionTo(next)) {
        throw new IllegalStateException(name + ": " + from + " to " + next
            + " is no transition");
      }
      return current.compareAndSet(from, next);
    }
  }
}
