package io.parasol.common;

import java.util.function.IntFunction;
import java.util.function.ToIntFunction;

/**
 * A small pool of primitive arrays by exact length, for the push and pull buffers of the data
 * path: a block's staging buffer, a pull's encoded snapshot, a push's encoded chunks. Taking an
 * array the pool holds allocates nothing; the pool keeps at most {@code perLength} arrays of
 * each of at most {@value #MAX_LENGTHS} lengths and lets the garbage collector have the rest.
 *
 * <p>Arrays come back with whatever the last user left in them. Thread-safe.
 *
 * @param <A> the array type, e.g. {@code float[]}
 */
public final class ArrayPool<A> {
  /** Distinct lengths kept; arrays of further lengths are not pooled. */
  static final int MAX_LENGTHS = 64;

  private final IntFunction<A> allocate;
  private final ToIntFunction<A> lengthOf;
  private final int perLength;
  private final Object lock = new Object();
  private final int[] lengths = new int[MAX_LENGTHS];
  private final Object[][] stacks = new Object[MAX_LENGTHS][];
  private final int[] counts = new int[MAX_LENGTHS];
  private int used;
  private long allocated;

  private ArrayPool(IntFunction<A> allocate, ToIntFunction<A> lengthOf, int perLength) {
    if (perLength < 1) {
      throw new IllegalArgumentException("perLength must be positive, got " + perLength);
    }
    this.allocate = allocate;
    this.lengthOf = lengthOf;
    this.perLength = perLength;
  }

  /** A pool of float arrays keeping up to {@code perLength} of each length. */
  public static ArrayPool<float[]> floats(int perLength) {
    return new ArrayPool<>(float[]::new, a -> a.length, perLength);
  }

  /** A pool of byte arrays keeping up to {@code perLength} of each length. */
  public static ArrayPool<byte[]> bytes(int perLength) {
    return new ArrayPool<>(byte[]::new, a -> a.length, perLength);
  }

  /** An array of exactly {@code length} elements, from the pool when it has one. */
  @SuppressWarnings("unchecked")
  public A take(int length) {
    synchronized (lock) {
      int i = indexOf(length);
      if (i >= 0 && counts[i] > 0) {
        int c = --counts[i];
        A a = (A) stacks[i][c];
        stacks[i][c] = null;
        return a;
      }
      allocated++;
    }
    return allocate.apply(length);
  }

  /**
   * An array of exactly {@code length} elements that the pool holds, or null when it holds
   * none (nothing is allocated): for callers that account for every allocation themselves.
   */
  @SuppressWarnings("unchecked")
  public A poll(int length) {
    synchronized (lock) {
      int i = indexOf(length);
      if (i >= 0 && counts[i] > 0) {
        int c = --counts[i];
        A a = (A) stacks[i][c];
        stacks[i][c] = null;
        return a;
      }
      return null;
    }
  }

  /**
   * Gives an array back; the caller must not touch it afterwards. Null is ignored.
   *
   * @return whether the pool kept it (false: it is left to the garbage collector)
   */
  public boolean give(A array) {
    if (array == null) {
      return false;
    }
    int length = lengthOf.applyAsInt(array);
    synchronized (lock) {
      int i = indexOf(length);
      if (i < 0) {
        if (used == MAX_LENGTHS) {
          return false;
        }
        i = used++;
        lengths[i] = length;
        stacks[i] = new Object[perLength];
      }
      if (counts[i] < perLength) {
        stacks[i][counts[i]++] = array;
        return true;
      }
      return false;
    }
  }

  /** Any array the pool holds, of whatever length, or null when it holds none. */
  @SuppressWarnings("unchecked")
  public A pollAny() {
    synchronized (lock) {
      for (int i = 0; i < used; i++) {
        if (counts[i] > 0) {
          int c = --counts[i];
          A a = (A) stacks[i][c];
          stacks[i][c] = null;
          return a;
        }
      }
      return null;
    }
  }

  /** Arrays allocated because the pool had none of the length asked for. */
  public long allocated() {
    synchronized (lock) {
      return allocated;
    }
  }

  private int indexOf(int length) {
    for (int i = 0; i < used; i++) {
      if (lengths[i] == length) {
        return i;
      }
    }
    return -1;
  }
}
