package io.parasol.cli;

import org.awaitility.Awaitility;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.parasol.common.BlockLayout;
import io.parasol.proto.v1.StatusResponse;
import io.parasol.server.LocalCluster;
import io.parasol.worker.data.Batches;
import io.parasol.worker.data.Scaling;
import io.parasol.worker.model.Model;
import io.parasol.worker.model.Models;
import io.parasol.worker.train.TrainingData;
import io.parasol.client.PsClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A job of two {@code parasol worker}s against in-process shards on 127.0.0.1, each with
 * {@code --summary-json}: worker 0's summary holds the job's final model's test figures (it
 * waits for worker 1, which takes longer), and κ_i = 1 for every block in plain async.
 */
@Tag("slow")
class WorkerSummaryJsonTest {

  private static String[] args(List<String> servers, int worker, long steps, Path json) {
    return new String[] {"worker", "--servers", String.join(",", servers), "--shards", "2",
        "--workers", "2", "--worker", Integer.toString(worker), "--steps",
        Long.toString(steps), "--mode", "async", "--summary-json", json.toString()};
  }

  @Test
  void twoWorkers_writeSummaries_worker0HasTheJobsFinalModel(@TempDir Path dir)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try (LocalCluster cluster = LocalCluster.start(2, null)) {
      List<String> servers = cluster.addresses();
      Path j0 = dir.resolve("w0.json");
      Path j1 = dir.resolve("w1/summary.json");
      // Worker 1 does three times the steps of worker 0 and starts first (worker 0 waits for
      // the workers the shards know as live): worker 0 usually ends first and must wait.
      Future<Integer> w1 = pool.submit(
          () -> Parasol.commandLine().execute(args(servers, 1, 30, j1)));
      awaitLiveOrDone(cluster, w1);
      Future<Integer> w0 = pool.submit(
          () -> Parasol.commandLine().execute(args(servers, 0, 10, j0)));
      assertThat(w1.get()).isZero();
      assertThat(w0.get()).isZero();

      JsonObject s0 = JsonParser.parseString(Files.readString(j0)).getAsJsonObject();
      JsonObject s1 = JsonParser.parseString(Files.readString(j1)).getAsJsonObject();
      assertThat(s0.get("complete").getAsBoolean()).isTrue();
      assertThat(s0.get("worker").getAsInt()).isZero();
      assertThat(s0.get("final_model").getAsBoolean()).isTrue();
      assertThat(s1.get("final_model").getAsBoolean()).isFalse();
      assertThat(s0.get("steps").getAsLong()).isEqualTo(10);
      assertThat(s1.get("steps").getAsLong()).isEqualTo(30);
      assertThat(s0.get("iterations").getAsLong() + s1.get("iterations").getAsLong())
          .isEqualTo(40);
      // Plain async: every push updates every block, on every shard: κ_i = 1.
      JsonArray kappa = s0.getAsJsonArray("shard_kappa");
      assertThat(kappa.size()).isGreaterThan(1);
      for (var k : kappa) {
        assertThat(k.getAsDouble()).isEqualTo(1.0);
      }
      assertThat(s0.getAsJsonArray("shard_iterations").get(0).getAsLong()).isEqualTo(40);

      // The job's final model, evaluated here, is the one worker 0 reported on.
      TrainingData data = TrainingData.load("digits", null, -1, false, false, 0.2,
          Scaling.parse("minmax"), 1);
      Model model = Models.create("softmax", data.train().numFeatures(),
          data.train().numClasses(), Models.Options.DEFAULT);
      List<StatusResponse> status;
      float[] x;
      Holder h = picocli.CommandLine.populateCommand(new Holder(), "--shards", "2",
          "--workers", "2");
      BlockLayout layout = h.job.settings().layout(model);
      try (PsClient c = PsClient.connect(servers, layout, Duration.ofSeconds(10),
          Duration.ofSeconds(10))) {
        c.init(h.job.settings().validated().spec(h.job.jobName, model, layout));
        status = c.status();
        x = new float[layout.dimension()];
        c.pull(0, x, 0, 0);
      }
      assertThat(status.get(0).getBlocks(0).getVersion()).isEqualTo(40);
      Batches.Batch test = Batches.all(data.test());
      Model.Evaluation e = model.evaluate(Nd4j.create(x, new long[] {1, x.length},
          DataType.FLOAT), test.features(), test.targets());
      assertThat(s0.get("test_loss").getAsDouble()).isCloseTo(e.loss(), within(1e-5));
      assertThat(s0.get("test_accuracy").getAsDouble()).isCloseTo(e.accuracy(), within(1e-5));
    } finally {
      pool.shutdownNow();
    }
  }

  /** Until worker 1 is live on shard 0 or has finished already. */
  private static void awaitLiveOrDone(LocalCluster cluster, Future<Integer> w1)
      throws InterruptedException {
    Awaitility.await("worker 1 live on shard 0, or done").atMost(Duration.ofMinutes(5))
        .pollInSameThread().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10))
        .until(() -> w1.isDone()
            || cluster.server(0).core().status().getLiveWorkersCount() > 0);
  }

  /** The job flags as the worker command parses them (defaults: the same layout). */
  @picocli.CommandLine.Command(name = "probe")
  static final class Holder {
    @picocli.CommandLine.Mixin
    JobOptions job;
  }
}
