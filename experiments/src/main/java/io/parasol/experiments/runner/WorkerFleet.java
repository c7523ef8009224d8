package io.parasol.experiments.runner;

import io.micrometer.core.instrument.MeterRegistry;
import io.parasol.client.PsClient;
import io.parasol.common.BlockLayout;
import io.parasol.proto.v1.JobSpec;
import io.parasol.server.LocalCluster;
import io.parasol.worker.model.Model;
import io.parasol.worker.train.DelayModel;
import io.parasol.worker.train.JobSettings;
import io.parasol.worker.train.TrainingData;
import io.parasol.worker.train.TrainingLoop;
import io.parasol.worker.train.WorkerMetrics;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The worker threads of a local run: one {@link PsClient} (its own channels) and one thread per
 * worker, each running a {@link TrainingLoop}. The first worker to fail (divergence, a refused
 * push) ends the run: {@link #close} interrupts the others and closes every client.
 */
final class WorkerFleet implements AutoCloseable {
  private final LocalRunner.Options o;
  private final MeterRegistry registry;
  private final ExecutorService pool;
  private final List<PsClient> clients = new ArrayList<>();

  /** Connects {@code m} clients to the cluster's shards. */
  WorkerFleet(LocalCluster cluster, BlockLayout layout, LocalRunner.Options o,
      MeterRegistry registry, int m) {
    this.o = o;
    this.registry = registry;
    this.pool = Executors.newFixedThreadPool(m, r -> {
      Thread t = new Thread(r, "worker");
      t.setDaemon(true);
      return t;
    });
    try {
      for (int k = 0; k < m; k++) {
        clients.add(PsClient.connect(PsClient.Connection.plaintext(cluster.addresses()),
            layout, o.rpcTimeout(), o.pullTimeout(), registry,
            PsClient.Transport.DEFAULT.withEncoding(o.wire())));
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** Worker k's client. */
  PsClient client(int k) {
    return clients.get(k);
  }

  /**
   * Runs every worker for {@code steps} steps (worker 0 evaluates) and returns their results in
   * the order they finished; rethrows the first failure.
   */
  List<TrainingLoop.Result> train(JobSpec spec, Model model, TrainingData data, long steps,
      TrainingLoop.Listener listener) throws InterruptedException {
    JobSettings js = o.job();
    CompletionService<TrainingLoop.Result> done = new ExecutorCompletionService<>(pool);
    for (int k = 0; k < clients.size(); k++) {
      PsClient c = clients.get(k);
      c.init(spec);
      TrainingLoop loop = new TrainingLoop(c, model, data.part(js, k), data.test(),
          new TrainingLoop.Config(k, js, steps, o.batchSize(), k == 0 ? o.evalEvery() : 0,
              o.computeDelayOf(k), o.commDelay(), o.arrivals(), o.allowDivergence()),
          listener, registry == null ? null : new WorkerMetrics(registry, k, spec.getJobName()),
          DelayModel.REAL).estimateLipschitz(o.estimateLipschitz());
      done.submit(loop::run);
    }
    List<TrainingLoop.Result> results = new ArrayList<>();
    for (int k = 0; k < clients.size(); k++) {
      try {
        results.add(done.take().get());
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        if (cause instanceof RuntimeException re) {
          throw re;
        }
        throw new IllegalStateException(cause);
      }
    }
    return results;
  }

  @Override
  public void close() {
    pool.shutdownNow();
    for (PsClient c : clients) {
      c.close();
    }
  }
}
