package io.parasol.server.robustness;

import io.grpc.Status;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Status codes per request category, client-side cancellations counted apart, and every request
 * that broke the rule: it succeeded, got INTERNAL or UNKNOWN, or got no answer. Thread-safe.
 */
final class Tally {
  /** Violations described in full per category (and per what went wrong); more are counted. */
  private static final int KEPT = 3;

  private final Map<String, EnumMap<Status.Code, Long>> codes = new TreeMap<>();
  private final Map<String, Long> cancelled = new TreeMap<>();
  private final Map<String, Long> lost = new TreeMap<>();
  private final Map<String, Long> violationsByCategory = new TreeMap<>();
  private final List<String> violations = new ArrayList<>();
  private final Map<String, Integer> kept = new TreeMap<>();
  private long total;
  private long violationCount;

  /** Records one request's outcome; {@code request} describes it if it broke the rule. */
  synchronized void record(String category, Wire.Outcome o, Supplier<String> request) {
    total++;
    if (o.lost()) {
      lost.merge(category, 1L, Long::sum);
      violation(category, "no status within the deadline", request);
      return;
    }
    if (o.clientCancelled()) {
      cancelled.merge(category, 1L, Long::sum);
      return;
    }
    Status.Code c = o.status().getCode();
    codes.computeIfAbsent(category, k -> new EnumMap<>(Status.Code.class)).merge(c, 1L, Long::sum);
    if (c == Status.Code.OK || c == Status.Code.INTERNAL || c == Status.Code.UNKNOWN) {
      Throwable cause = o.status().getCause();
      violation(category, c + (o.status().getDescription() == null ? ""
          : " (" + o.status().getDescription() + ")")
          + (cause == null ? "" : " cause: " + cause), request);
    }
  }

  /** Records a violation found outside a request (a changed block, a dead shard). */
  synchronized void violation(String category, String what, Supplier<String> request) {
    violationCount++;
    violationsByCategory.merge(category, 1L, Long::sum);
    String kind = what.substring(0, Math.min(what.length(), 24));
    if (kept.merge(category + "/" + kind, 1, Integer::sum) <= KEPT) {
      String r = request.get();
      violations.add(category + ": " + what + "\n      request: "
          + (r.length() > 600 ? r.substring(0, 600) + "..." : r));
    }
  }

  synchronized long total() {
    return total;
  }

  synchronized long violationCount() {
    return violationCount;
  }

  synchronized long cancelledCount() {
    return cancelled.values().stream().mapToLong(Long::longValue).sum();
  }

  synchronized List<String> violations() {
    return List.copyOf(violations);
  }

  /** The table: one row per category, one column per status code that occurred. */
  synchronized String table() {
    Set<Status.Code> seen = EnumSet.noneOf(Status.Code.class);
    for (EnumMap<Status.Code, Long> m : codes.values()) {
      seen.addAll(m.keySet());
    }
    Set<String> categories = new java.util.TreeSet<>(codes.keySet());
    categories.addAll(cancelled.keySet());
    categories.addAll(lost.keySet());
    int w = 10;
    for (String c : categories) {
      w = Math.max(w, c.length());
    }
    StringBuilder sb = new StringBuilder();
    sb.append(String.format("%-" + w + "s %7s", "category", "sent"));
    for (Status.Code c : seen) {
      sb.append(String.format(" %9s", abbreviate(c)));
    }
    sb.append(String.format(" %9s %9s %9s%n", "cli-cancl", "no-answer", "VIOLATION"));
    long[] colSums = new long[seen.size()];
    long sumCancelled = 0;
    long sumLost = 0;
    long sumViol = 0;
    for (String cat : categories) {
      EnumMap<Status.Code, Long> m = codes.getOrDefault(cat, new EnumMap<>(Status.Code.class));
      long n = m.values().stream().mapToLong(Long::longValue).sum()
          + cancelled.getOrDefault(cat, 0L) + lost.getOrDefault(cat, 0L);
      sb.append(String.format("%-" + w + "s %7d", cat, n));
      int i = 0;
      for (Status.Code c : seen) {
        long v = m.getOrDefault(c, 0L);
        colSums[i++] += v;
        sb.append(String.format(" %9s", v == 0 ? "." : Long.toString(v)));
      }
      long cc = cancelled.getOrDefault(cat, 0L);
      long ll = lost.getOrDefault(cat, 0L);
      long vv = violationsByCategory.getOrDefault(cat, 0L);
      sumCancelled += cc;
      sumLost += ll;
      sumViol += vv;
      sb.append(String.format(" %9s %9s %9s%n", cc == 0 ? "." : cc, ll == 0 ? "." : ll,
          vv == 0 ? "." : vv));
    }
    sb.append(String.format("%-" + w + "s %7d", "TOTAL", total));
    for (long v : colSums) {
      sb.append(String.format(" %9d", v));
    }
    sb.append(String.format(" %9d %9d %9d%n", sumCancelled, sumLost, sumViol));
    return sb.toString();
  }

  private static String abbreviate(Status.Code c) {
    return switch (c) {
      case INVALID_ARGUMENT -> "INVALID";
      case FAILED_PRECONDITION -> "PRECOND";
      case RESOURCE_EXHAUSTED -> "RES_EXH";
      case DEADLINE_EXCEEDED -> "DEADLINE";
      case ALREADY_EXISTS -> "EXISTS";
      case UNAVAILABLE -> "UNAVAIL";
      default -> c.name().length() > 9 ? c.name().substring(0, 9) : c.name();
    };
  }
}
