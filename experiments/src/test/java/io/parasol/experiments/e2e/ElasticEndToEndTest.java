package io.parasol.experiments.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.parasol.client.PsClient;
import io.parasol.common.BlockLayout;
import io.parasol.common.MetricNames;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.StatusResponse;
import io.parasol.server.LocalCluster;
import io.parasol.worker.model.Model;
import io.parasol.worker.model.Models;
import io.parasol.worker.train.JobSettings;
import io.parasol.worker.train.TrainingData;
import io.parasol.worker.train.TrainingLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Elastic workers with the real training loop, in every mode, on two shards over loopback: of a
 * job started with two workers and room for three, worker 1 trains a third of the way and
 * leaves (it finishes), and worker 2 joins while worker 0 is at step 5. Worker 0 waits in its
 * step-5 callback until the joiner has completed a step, so the join happens mid-run on every
 * machine, however loaded. Every worker ends, the job reaches its last version (sync, local),
 * and the shards counted one join.
 */
@Tag("slow")
class ElasticEndToEndTest {
  private static final TrainingData DATA = Jobs.digits();
  private static final Model SOFTMAX = Models.create("softmax", DATA.train().numFeatures(),
      DATA.train().numClasses());
  private static final long STEPS = 30;

  @ParameterizedTest
  @EnumSource(value = Mode.class, names = {"MODE_SYNC", "MODE_LOCAL", "MODE_ASYNC", "MODE_SSP"})
  void workerJoinsMidRun_andAnotherLeaves(Mode mode) throws Exception {
    JobSettings js = Jobs.builder(mode, 2, 2, 0.5f).maxWorkers(3).localSteps(2)
        .stalenessBound(2).build();
    BlockLayout layout = js.layout(SOFTMAX);
    JobSpec spec = js.spec("elastic", SOFTMAX, layout);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    ExecutorService pool = Executors.newFixedThreadPool(3);
    List<PsClient> clients = new ArrayList<>();
    try (LocalCluster cluster = LocalCluster.start(2, registry)) {
      for (int k = 0; k < 3; k++) {
        PsClient c = PsClient.connect(cluster.addresses(), layout, Duration.ofSeconds(30),
            Duration.ofSeconds(60));
        clients.add(c);
        c.init(spec);
      }
      CountDownLatch joinerStepped = new CountDownLatch(1);
      TrainingLoop joiner = new TrainingLoop(clients.get(2), SOFTMAX, DATA.part(js, 2), null,
          new TrainingLoop.Config(2, js, STEPS, 32, 0), new TrainingLoop.Listener() {
            @Override
            public void onStep(int worker, long step, double loss) {
              joinerStepped.countDown();
            }
          });
      List<Future<TrainingLoop.Result>> fs = new java.util.concurrent.CopyOnWriteArrayList<>();
      TrainingLoop first = new TrainingLoop(clients.get(0), SOFTMAX, DATA.part(js, 0), null,
          new TrainingLoop.Config(0, js, STEPS, 32, 0), new TrainingLoop.Listener() {
            @Override
            public void onStep(int worker, long step, double loss) {
              if (step == 5) {
                fs.add(pool.submit(joiner::run));
                try {
                  assertThat(joinerStepped.await(60, TimeUnit.SECONDS))
                      .as("the joiner completed a step").isTrue();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                  throw new IllegalStateException(e);
                }
              }
            }
          });
      TrainingLoop leaver = new TrainingLoop(clients.get(1), SOFTMAX, DATA.part(js, 1), null,
          new TrainingLoop.Config(1, js, STEPS / 3, 32, 0), null);
      Future<TrainingLoop.Result> f0 = pool.submit(first::run);
      Future<TrainingLoop.Result> f1 = pool.submit(leaver::run);
      TrainingLoop.Result r0 = f0.get(120, TimeUnit.SECONDS);
      TrainingLoop.Result r1 = f1.get(120, TimeUnit.SECONDS);
      assertThat(fs).hasSize(1);
      TrainingLoop.Result r2 = fs.get(0).get(120, TimeUnit.SECONDS);
      System.out.printf("%s: steps w0 %d, w1 %d, joiner %d (late %d)%n", mode, r0.steps(),
          r1.steps(), r2.steps(), r2.latePushes());
      assertThat(r2.steps()).isPositive();
      assertThat(r1.steps()).isLessThanOrEqualTo(STEPS / 3);
      long last = switch (mode) {
        case MODE_SYNC -> STEPS;
        case MODE_LOCAL -> STEPS / js.localSteps();
        default -> -1;
      };
      for (StatusResponse s : clients.get(0).status()) {
        assertThat(s.getLiveWorkersList()).as("everyone finished").isEmpty();
        assertThat(s.getMaxWorkers()).isEqualTo(3);
        if (last >= 0) {
          s.getBlocksList().forEach(b -> assertThat(b.getVersion()).isEqualTo(last));
        }
      }
      assertThat(registry.get(MetricNames.SHARD_LEASES).tag("event", "joined").counters())
          .allSatisfy(c -> assertThat(c.count()).isEqualTo(1));
    } finally {
      pool.shutdownNow();
      for (PsClient c : clients) {
        c.close();
      }
    }
  }
}
