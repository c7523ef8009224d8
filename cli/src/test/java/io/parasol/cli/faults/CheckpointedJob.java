package io.parasol.cli.faults;

import static io.parasol.cli.faults.Cluster.awaitStable;
import static io.parasol.cli.faults.Cluster.awaitStatus;
import static io.parasol.cli.faults.Cluster.minVersion;
import static io.parasol.cli.faults.Cluster.status;
import static io.parasol.cli.faults.Cluster.versions;

import io.parasol.proto.v1.StatusResponse;
import io.parasol.server.checkpoint.Checkpoints;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.IntFunction;

/**
 * One job on a {@link Cluster} whose shards checkpoint ({@code --checkpoint-updates window},
 * {@code --checkpoint-interval 1}) into folders of their own, and the kill -9 and restart of
 * one of its shards with the workers frozen (SIGSTOP) around the kill, so that the shard's
 * versions at the kill are known exactly.
 */
final class CheckpointedJob {
  final Cluster cluster;
  final long window;
  final int[] ports;
  final JvmProcess[] shards;
  final Path[] dirs;
  JvmProcess[] workers = new JvmProcess[0];

  /** One kill and restart of a shard: its versions at the kill, saved and restored. */
  record Restart(int shard, Map<Integer, Long> atKill, Map<Integer, Long> saved,
      Map<Integer, Long> restored, StatusResponse first, long killedNanos,
      long restartedNanos) {

    /** Updates of each block applied before the kill and not in the checkpoint. */
    Map<Integer, Long> lost() {
      Map<Integer, Long> out = new TreeMap<>();
      atKill.forEach((id, v) -> out.put(id, v - restored.getOrDefault(id, 0L)));
      return out;
    }
  }

  /** Starts the cluster's shards, each checkpointing into tmp/ckpt-S every window updates. */
  CheckpointedJob(Cluster cluster, Path tmp, long window) throws Exception {
    this.cluster = cluster;
    this.window = window;
    ports = new int[cluster.shards];
    shards = new JvmProcess[cluster.shards];
    dirs = new Path[cluster.shards];
    for (int s = 0; s < cluster.shards; s++) {
      dirs[s] = Files.createDirectories(tmp.resolve("ckpt-" + s));
      shards[s] = cluster.startShard(s, 0, checkpointFlags(s));
      ports[s] = cluster.port(shards[s], s);
    }
  }

  List<String> checkpointFlags(int shard) {
    return List.of("--checkpoint-dir", dirs[shard].toString(), "--checkpoint-updates",
        Long.toString(window), "--checkpoint-interval", "1");
  }

  /**
   * Starts every worker of the job. {@code gated}: each worker is frozen as soon as both
   * shards list it live, and all go on together once every one is, so that none finishes
   * before the slowest JVM has started (the lease must outlast the wait). {@code perWorker}:
   * flags of worker k on top of {@code extra}.
   */
  JvmProcess[] startWorkers(long steps, String lease, String mode, List<String> extra,
      boolean gated, IntFunction<List<String>> perWorker) throws Exception {
    workers = new JvmProcess[cluster.workers];
    for (int k = 0; k < cluster.workers; k++) {
      List<String> flags = new ArrayList<>(extra);
      flags.addAll(perWorker.apply(k));
      workers[k] = cluster.startWorker(k, ports, steps, lease, mode, flags);
    }
    if (gated) {
      Set<Integer> frozen = new HashSet<>();
      Cluster.poll("every worker live on every shard", Duration.ofSeconds(240), () -> {
        try {
          StatusResponse[] all = Cluster.statusAll(ports);
          for (int k = 0; k < workers.length; k++) {
            final int w = k;
            boolean live = java.util.Arrays.stream(all)
                .allMatch(st -> st.getLiveWorkersList().contains(w));
            if (live && frozen.add(k)) {
              workers[k].freeze(true, Duration.ofSeconds(5));
            } else if (!frozen.contains(k) && !workers[k].alive()) {
              throw new AssertionError(workers[k].name + " exited with "
                  + workers[k].process.exitValue() + ":\n" + workers[k].tail(30));
            }
          }
          return frozen.size();
        } catch (io.grpc.StatusRuntimeException e) {
          return null;
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new AssertionError(e);
        }
      }, n -> n == workers.length, n -> n + " of " + workers.length + " workers frozen");
      freezeAll(false);
    }
    return workers;
  }

  void freezeAll(boolean stop) throws Exception {
    for (JvmProcess w : workers) {
      w.freeze(stop, Duration.ofSeconds(5));
    }
  }

  /**
   * SIGKILLs shard {@code s} while the workers are frozen and starts it again on its port with
   * the same flags. The kill waits for a moment when the shard's newest checkpoint is older
   * than its state, so that updates are really lost (up to 10 tries; the shard's own timer may
   * still catch the checkpoint up between that look and the kill). {@code frozenThroughRestart}:
   * the workers stay frozen until the new shard restored its checkpoint (they meet it with what
   * they read from the old one); else they go on right after the kill and retry against the
   * dead port until the shard is back.
   */
  Restart killAndRestart(int s, boolean frozenThroughRestart) throws Exception {
    Map<Integer, Long> atKill = null;
    Map<Integer, Long> saved = null;
    long killed = 0;
    for (int attempt = 1; atKill == null; attempt++) {
      freezeAll(true);
      Map<Integer, Long> now = versions(awaitStable(ports[s], Duration.ofSeconds(3)));
      Map<Integer, Long> inCheckpoint = checkpointVersions(s);
      if (attempt == 10 || inCheckpoint.entrySet().stream()
          .anyMatch(e -> e.getValue() < now.get(e.getKey()))) {
        atKill = now;
        shards[s].kill();
        killed = System.nanoTime();
        saved = checkpointVersions(s);
      }
      if (atKill == null || !frozenThroughRestart) {
        freezeAll(false);
      }
      if (atKill == null) {
        long v = minVersion(status(ports[s]));
        awaitStatus("progress past " + v + " on shard " + s, new int[] {ports[s]},
            Duration.ofSeconds(30), st -> minVersion(st) >= v + 2, workers);
      }
    }
    shards[s] = cluster.startShard(s, ports[s], checkpointFlags(s));
    StatusResponse first = status(ports[s]);
    long restarted = System.nanoTime();
    Map<Integer, Long> restored = Cluster.parseVersions(
        shards[s].awaitLine(Cluster.RESTORED, Duration.ofSeconds(30)).group(2));
    if (frozenThroughRestart) {
      freezeAll(false);
    }
    return new Restart(s, atKill, saved, restored, first, killed, restarted);
  }

  /** Block versions in shard {@code s}'s newest valid checkpoint (empty when there is none). */
  Map<Integer, Long> checkpointVersions(int s) {
    Checkpoints.Snapshot snap = new Checkpoints(dirs[s], s).load();
    Map<Integer, Long> out = new TreeMap<>();
    if (snap != null) {
      for (Checkpoints.BlockState b : snap.blocks()) {
        out.put(b.id(), b.version());
      }
    }
    return out;
  }
}
