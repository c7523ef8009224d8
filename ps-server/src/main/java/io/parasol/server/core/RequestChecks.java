package io.parasol.server.core;

/** Checks of request fields that do not depend on the shard's state. */
final class RequestChecks {
  private RequestChecks() {}

  static void worker(Job j, int worker) throws ShardException {
    // uint32 on the wire: ids of 2^31 and more arrive negative.
    int max = j.members.capacity();
    if (worker < 0 || worker >= max) {
      throw ShardException.invalid("worker " + Integer.toUnsignedString(worker)
          + " is out of range: the job has " + j.spec.getNumWorkers() + " workers"
          + (max > j.spec.getNumWorkers() ? " and room for joiners up to index " + (max - 1)
          + " (max_workers " + max + ")" : " (max_workers " + max + "; start the job with a"
          + " larger --max-workers to let workers join)"));
    }
  }

  /** A uint64 version, step or clock from the wire; 2^63 and more are refused. */
  static void counter(String what, long v) throws ShardException {
    if (v < 0) {
      throw ShardException.invalid(what + " " + Long.toUnsignedString(v)
          + " is out of range (at most 2^63 - 1)");
    }
  }
}
