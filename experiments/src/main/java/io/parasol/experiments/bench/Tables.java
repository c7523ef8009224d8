package io.parasol.experiments.bench;

import java.util.Locale;
import java.util.Map;

/** The benches' human-readable output. */
final class Tables {
  private Tables() {}

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    return (Map<String, Object>) o;
  }

  private static double num(Map<String, Object> m, String key) {
    Object v = m.get(key);
    return v instanceof Number n ? n.doubleValue() : Double.NaN;
  }

  static String pushPull(Map<String, Object> r) {
    StringBuilder sb = new StringBuilder();
    double mb = ((Number) r.get("wire_bytes_per_op")).doubleValue() / 1e6;
    sb.append(String.format(Locale.ROOT, "bench pushpull: %s params (%.1f MB %s per push or"
            + " pull), %s shard(s), %s worker(s), %s blocks, chunks of %s values, %s source;"
            + " client window %s, server window %s; %s rounds%n",
        r.get("params"), mb, r.get("wire"), r.get("shards"), r.get("workers"), r.get("blocks"),
        r.get("chunk_floats"), r.get("source"), window(r.get("client_window_bytes")),
        window(r.get("server_window_bytes")), r.get("rounds")));
    sb.append(String.format(Locale.ROOT, "%-34s %8s %11s %9s %14s %9s %8s%n", "operation",
        "GB/s", "ms median", "ms p99", "params/s", "cpu/wall", "cpu ms"));
    Map<String, Object> f = map(r.get("figures"));
    String[][] rows = {
        {"raw_one_way", "raw TCP, one way (push+pull bytes)"},
        {"raw_there_and_back", "raw TCP, there and back"},
        {"raw_duplex", "raw TCP, both ways at once"},
        {"grpc_push", "plain gRPC push (bytes)"},
        {"grpc_pull", "plain gRPC pull (bytes)"},
        {"grpc_push_pull", "plain gRPC push+pull"},
        {"push", "parasol push"},
        {"pull", "parasol pull"},
        {"push_pull", "parasol push+pull (overlapped)"},
        {"push_then_pull", "parasol push then pull"}};
    for (String[] row : rows) {
      Map<String, Object> m = map(f.get(row[0]));
      Object pps = m.get("params_per_s");
      sb.append(String.format(Locale.ROOT, "%-34s %8.3f %11.2f %9.2f %14s %9.2f %8.1f%n",
          row[1], num(m, "gb_per_s"), num(m, "ms_median"), num(m, "ms_p99"),
          pps == null ? "" : String.format(Locale.ROOT, "%.3g", ((Number) pps).doubleValue()),
          num(m, "cpu_per_wall"), num(m, "cpu_ms_per_op")));
    }
    sb.append(String.format(Locale.ROOT, "push+pull %.3f GB/s = %.3f x raw one-way %.3f GB/s"
            + " (same run); push then pull = %.3f x raw there and back%n",
        num(r, "push_pull_gb_per_s"), num(r, "ratio_push_pull_to_raw"),
        num(r, "raw_one_way_gb_per_s"), num(r, "ratio_push_then_pull_to_raw_there_and_back")));
    sb.append(String.format(Locale.ROOT, "push+pull = %.3f x plain gRPC push+pull %.3f GB/s;"
            + " plain gRPC = %.3f x raw one-way (same run)%n",
        num(r, "ratio_push_pull_to_plain_grpc"), num(r, "plain_grpc_push_pull_gb_per_s"),
        num(r, "ratio_plain_grpc_to_raw")));
    sb.append(String.format(Locale.ROOT, "heap allocated per parasol op: %s bytes; GC: %s"
            + " collections, %s ms%n", r.get("heap_bytes_allocated_per_op"),
        r.get("gc_collections"), r.get("gc_millis")));
    return sb.toString();
  }

  private static String window(Object bytes) {
    long b = ((Number) bytes).longValue();
    return b <= 0 ? "default" : (b % (1 << 20) == 0 ? (b >> 20) + " MiB" : b + " B");
  }

  static String apply(Map<String, Object> r) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "bench apply: %s params in %s blocks, %s, %s"
            + " thread(s); %s repetitions%n", r.get("params"), r.get("blocks"),
        r.get("optimizer"), r.get("threads"), r.get("repetitions")));
    sb.append(String.format(Locale.ROOT, "%-44s %8s %11s %9s%n", "operation", "GB/s",
        "ms median", "ms p99"));
    Map<String, Object> f = map(r.get("figures"));
    String[][] rows = {
        {"array_copy", "System.arraycopy of the same floats"},
        {"plain_sgd_loop", "plain x -= lr*g loop over arrays"},
        {"shard_accept", "shard: take chunks (decode, NaN check)"},
        {"shard_apply", "shard: apply pushes (rule, locks, metrics)"}};
    for (String[] row : rows) {
      Map<String, Object> m = map(f.get(row[0]));
      sb.append(String.format(Locale.ROOT, "%-44s %8.3f %11.3f %9.3f%n", row[1],
          num(m, "gb_per_s"), num(m, "ms_median"), num(m, "ms_p99")));
    }
    sb.append(String.format(Locale.ROOT, "apply %.3f GB/s = %.3f x array copy %.3f GB/s (same"
            + " run); accept+apply = %.3f x copy; plain loop = %.3f x copy%n",
        num(r, "apply_gb_per_s"), num(r, "ratio_apply_to_copy"), num(r, "copy_gb_per_s"),
        num(r, "ratio_accept_plus_apply_to_copy"), num(r, "ratio_plain_loop_to_copy")));
    sb.append(String.format(Locale.ROOT, "heap allocated per push: %s bytes; GC: %s"
        + " collections%n", r.get("heap_bytes_allocated_per_push"), r.get("gc_collections")));
    return sb.toString();
  }

  static String step(Map<String, Object> r) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "bench step: %s, %s params (%s features x %s"
            + " classes), batch %s, %s, %s shard(s), %s wire; %s steps per variant%n",
        r.get("model"), r.get("params"), r.get("features"), r.get("classes"),
        r.get("batch_size"), r.get("mode"), r.get("shards"), r.get("wire"), r.get("steps")));
    sb.append(String.format(Locale.ROOT, "%-44s %11s %9s %9s %10s%n", "variant", "ms median",
        "ms p99", "steps/s", "comm ms"));
    Map<String, Object> f = map(r.get("figures"));
    String[][] rows = {
        {"local", "local ND4J loop (no server)"},
        {"parasol", "parasol: off-heap, push overlaps next pull"},
        {"parasol_arrays", "parasol: float[] path, pull then push"}};
    for (String[] row : rows) {
      Map<String, Object> m = map(f.get(row[0]));
      Object comm = m.get("ms_communication_mean");
      sb.append(String.format(Locale.ROOT, "%-44s %11.2f %9.2f %9.2f %10s%n", row[1],
          num(m, "ms_median"), num(m, "ms_p99"), num(m, "steps_per_s"),
          comm == null ? "" : String.format(Locale.ROOT, "%.2f", ((Number) comm).doubleValue())));
    }
    sb.append(String.format(Locale.ROOT, "overhead: parasol = %.3f x local; float[] path = %.3f"
        + " x local (same run)%n", num(r, "ratio_parasol_to_local"),
        num(r, "ratio_parasol_arrays_to_local")));
    return sb.toString();
  }
}
