package io.parasol.experiments.runner;

import io.parasol.common.BlockLayout;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.StatusResponse;
import io.parasol.server.LocalCluster;
import io.parasol.worker.train.JobSettings;
import io.parasol.worker.train.TrainingLoop;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The figures of a local run's summary that come from the shards and the workers' results, and
 * the summary's text table.
 */
final class RunFigures {
  private RunFigures() {}

  /**
   * What the shards counted, summed over them: updates and pushes applied, the staleness mean,
   * maximum and histogram.
   */
  record ShardTotals(long updates, long pushes, double meanStaleness, long maxStaleness,
      long[] stalenessCounts) {

    static ShardTotals of(List<StatusResponse> statuses) {
      long updates = 0;
      long pushes = 0;
      long stalenessSum = 0;
      long stalenessCount = 0;
      long stalenessMax = 0;
      long[] tauCounts = new long[0];
      for (StatusResponse s : statuses) {
        updates += s.getUpdatesApplied();
        pushes += s.getPushesApplied();
        stalenessSum += s.getStalenessSum();
        stalenessCount += s.getStalenessCount();
        stalenessMax = Math.max(stalenessMax, s.getStalenessMax());
        if (tauCounts.length < s.getStalenessCountsCount()) {
          tauCounts = Arrays.copyOf(tauCounts, s.getStalenessCountsCount());
        }
        for (int k = 0; k < s.getStalenessCountsCount(); k++) {
          tauCounts[k] += s.getStalenessCounts(k);
        }
      }
      return new ShardTotals(updates, pushes,
          stalenessCount == 0 ? 0 : (double) stalenessSum / stalenessCount, stalenessMax,
          tauCounts);
    }
  }

  static Map<String, Object> modeParameters(JobSettings js) {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("quorum", js.quorum() == 0 ? js.numWorkers() : js.quorum());
    p.put("partition", js.partition());
    p.put("optimizer", js.optimizer().name().substring("OPTIMIZER_".length())
        .toLowerCase(Locale.ROOT));
    p.put("lr_schedule", io.parasol.common.LrSchedules.format(js.lrSchedule()));
    switch (js.mode()) {
      case MODE_ASYNC, MODE_SSP -> {
        p.put("max_staleness", js.maxStaleness());
        p.put("staleness_lr", js.stalenessLr().name().substring("STALENESS_LR_".length())
            .toLowerCase(Locale.ROOT));
        p.put("update_blocks", js.updateBlocks());
        if (!js.blockLr().isBlank()) {
          p.put("block_lr", js.blockLr());
        }
        if (js.mode() == Mode.MODE_SSP) {
          p.put("staleness_bound", js.stalenessBound());
        }
      }
      case MODE_LOCAL -> {
        p.put("local_steps", js.localSteps());
        p.put("participation", js.participation() <= 0 ? 1.0 : (double) js.participation());
      }
      default -> { }
    }
    return p;
  }

  /** The mean Δ_ij over every pair and update, from the shards' trackers (NaN if none). */
  static double meanAoi(LocalCluster cluster, BlockLayout layout, String jobName) {
    double sum = 0;
    long n = 0;
    for (var server : cluster.servers()) {
      var t = server.core().tracker(jobName);
      if (t == null) {
        continue;
      }
      for (var bi : layout.blocksOf(server.core().shardIndex())) {
        for (var bj : layout.blocks()) {
          long c = t.aoiCount(bi.id(), bj.id());
          if (bi.id() != bj.id() && c > 0) {
            sum += t.meanAoi(bi.id(), bj.id()) * c;
            n += c;
          }
        }
      }
    }
    return n == 0 ? Double.NaN : sum / n;
  }

  /** Mean milliseconds per step and phase, over all workers. */
  static Map<String, Object> stepMillis(List<TrainingLoop.Result> results) {
    long steps = results.stream().mapToLong(TrainingLoop.Result::steps).sum();
    Map<String, Object> p = new LinkedHashMap<>();
    double k = steps == 0 ? Double.NaN : 1000.0 / steps;
    p.put("compute", results.stream().mapToDouble(TrainingLoop.Result::computeSeconds).sum() * k);
    p.put("pull", results.stream().mapToDouble(r -> r.pullSeconds() - r.waitSeconds()).sum() * k);
    p.put("wait", results.stream().mapToDouble(TrainingLoop.Result::waitSeconds).sum() * k);
    p.put("push", results.stream().mapToDouble(TrainingLoop.Result::pushSeconds).sum() * k);
    return p;
  }

  /** The summary as an aligned two-column table. */
  static String table(Map<String, Object> summary) {
    StringBuilder sb = new StringBuilder();
    sb.append("\nsummary\n");
    for (Map.Entry<String, Object> e : summary.entrySet()) {
      Object v = e.getValue();
      String text = v instanceof Double d ? String.format(Locale.ROOT, "%.4f", d)
          : v instanceof Map<?, ?> mm ? mapText(mm)
          : v instanceof List<?> l ? listText(l) : String.valueOf(v);
      sb.append(String.format(Locale.ROOT, "  %-18s %s%n", e.getKey(), text));
    }
    return sb.toString();
  }

  private static String mapText(Map<?, ?> m) {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<?, ?> e : m.entrySet()) {
      if (sb.length() > 0) {
        sb.append(", ");
      }
      Object v = e.getValue();
      sb.append(e.getKey()).append('=').append(v instanceof Double d
          ? String.format(Locale.ROOT, "%.3f", d) : String.valueOf(v));
    }
    return sb.toString();
  }

  private static String listText(List<?> l) {
    StringBuilder sb = new StringBuilder("[");
    for (Object v : l) {
      sb.append(sb.length() > 1 ? ", " : "").append(v instanceof Double d
          ? String.format(Locale.ROOT, "%.3f", d) : String.valueOf(v));
    }
    return sb.append(']').toString();
  }
}
