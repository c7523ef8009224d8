package io.parasol.cli;

import io.parasol.client.PsClient;
import io.parasol.experiments.runner.Json;
import io.parasol.proto.v1.BlockStatus;
import io.parasol.proto.v1.StatusResponse;
import io.parasol.worker.model.Model;
import io.parasol.worker.train.TrainingLoop;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * {@code parasol worker --summary-json PATH}: the worker's run as JSON, so that a job of several
 * processes can be scripted and checked. A picocli mixin of its own.
 *
 * <p>Worker 0 waits, before its final pull, until no shard lists a live worker (every other
 * worker left, or its lease expired), so that the test loss and accuracy it writes are the
 * job's final model's ({@code "final_model": true}). A worker that has not reached any shard yet
 * when worker 0 finishes is not waited for: in a script, start worker 0 last. Other workers
 * write their own figures and the model as it is when they end.
 *
 * <p>Fields: complete, worker, mode, shards, workers, model, data, steps, pushes, late_pushes,
 * rollbacks, updates_lost (updates lost at those rollbacks as this worker saw them, a lower
 * bound: see {@link io.parasol.client.ShardRollback}), updates_lost_by_shard (the same per
 * shard that rolled back, by shard index), iterations (this worker's pushes a shard applied, async/ssp), train_loss (its last
 * mini-batch loss), test_loss, test_accuracy, final_model, and from the shards' Status:
 * shard_iterations (n per shard), shard_kappa (κ_i per block, ν_i over its shard's
 * iterations: the job's κ_i when every iteration reaches every shard) and shard_error_floor
 * (the error-floor term summed over the shards, their κ_i, L_ij = 1).
 */
public final class WorkerSummary {
  /** How often worker 0 asks the shards whether the others are done. */
  static final Duration POLL = Duration.ofMillis(100);

  @Option(names = "--summary-json", description = "Write this worker's summary as JSON to PATH"
      + " (worker 0: after every other worker has left, with the job's final test loss and"
      + " accuracy).")
  Path path;

  /** True when a summary was asked for. */
  boolean wanted() {
    return path != null;
  }

  /**
   * Waits until no shard lists a live worker. Every worker leaves when it finishes and a dead
   * one's lease expires, so this ends.
   */
  static void awaitOthersDone(PsClient client) throws InterruptedException {
    while (true) {
      boolean anyLive = false;
      for (StatusResponse s : client.status()) {
        anyLive |= s.getLiveWorkersCount() > 0;
      }
      if (!anyLive) {
        return;
      }
      Thread.sleep(POLL.toMillis());
    }
  }

  /** The summary map. */
  static Map<String, Object> of(int worker, String mode, int shards, int workers, String model,
      String data, TrainingLoop.Result r, Model.Evaluation eval, boolean finalModel,
      List<StatusResponse> status) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("complete", true);
    m.put("worker", worker);
    m.put("mode", mode);
    m.put("shards", shards);
    m.put("workers", workers);
    m.put("model", model);
    m.put("data", data);
    m.put("steps", r.steps());
    m.put("pushes", r.pushes());
    m.put("late_pushes", r.latePushes());
    m.put("rollbacks", r.rollbacks());
    m.put("updates_lost", r.updatesLost());
    Map<Integer, Long> lostByShard = new java.util.TreeMap<>();
    r.rollbackEvents().stream().collect(java.util.stream.Collectors.groupingBy(
            io.parasol.client.ShardRollback::shard))
        .forEach((s, events) -> lostByShard.put(s,
            io.parasol.client.ShardRollback.jobUpdatesLost(List.of(events))));
    m.put("updates_lost_by_shard", lostByShard);
    m.put("iterations", r.iterations());
    m.put("train_loss", r.lastLoss());
    m.put("test_loss", eval.loss());
    m.put("test_accuracy", eval.accuracy());
    m.put("final_model", finalModel);
    List<Long> iterations = new ArrayList<>();
    Map<Integer, Double> kappa = new java.util.TreeMap<>();
    double floor = 0;
    for (StatusResponse s : status) {
      iterations.add(s.getIterations());
      floor += s.getErrorFloor();
      for (BlockStatus b : s.getBlocksList()) {
        kappa.put(b.getId(), b.getKappa());
      }
    }
    m.put("shard_iterations", iterations);
    m.put("shard_kappa", new ArrayList<>(kappa.values()));
    m.put("shard_error_floor", floor);
    return m;
  }

  /** Writes the map to {@link #path}. */
  void write(Map<String, Object> m) throws IOException {
    Path parent = path.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.writeString(path, Json.write(m), StandardCharsets.UTF_8);
  }
}
