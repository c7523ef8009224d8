package io.parasol.worker.train;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.parasol.common.MetricNames;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** One worker's meters: loss, test loss and accuracy, throughput and time per phase. */
public final class WorkerMetrics {
  private final MeterRegistry registry;
  private final String worker;
  private final AtomicLong lossBits = new AtomicLong(Double.doubleToLongBits(Double.NaN));
  private final AtomicLong testLossBits = new AtomicLong(Double.doubleToLongBits(Double.NaN));
  private final AtomicLong testAccBits = new AtomicLong(Double.doubleToLongBits(Double.NaN));
  private final Counter examples;
  private final Counter steps;
  private final Counter rollbacks;
  private final Counter iterations;
  private boolean lipschitzRegistered;
  private final Timer compute;
  private final Timer pull;
  private final Timer wait;
  private final Timer push;
  private final DistributionSummary staleness;
  private boolean evaluatorRegistered;
  /** worker, and the job where known: the tags of every meter. */
  private final Tags base;

  public WorkerMetrics(MeterRegistry registry, int workerIndex) {
    this(registry, workerIndex, null);
  }

  /**
   * The meters of worker {@code workerIndex} of job {@code jobName}: every series carries the
   * job's name as the {@link MetricNames#JOB_TAG} label, as its job's shard series do (null:
   * no such label).
   */
  public WorkerMetrics(MeterRegistry registry, int workerIndex, String jobName) {
    this.registry = registry;
    this.worker = Integer.toString(workerIndex);
    this.base = jobName == null ? Tags.of("worker", worker)
        : Tags.of("worker", worker, MetricNames.JOB_TAG, jobName.isEmpty() ? "default" : jobName);
    Gauge.builder(MetricNames.WORKER_LOSS, lossBits, b -> Double.longBitsToDouble(b.get()))
        .description("The worker's latest mini-batch training loss")
        .tags(base)
        .register(registry);
    examples = Counter.builder(MetricNames.WORKER_EXAMPLES)
        .description("Training examples processed")
        .baseUnit("examples")
        .tags(base)
        .register(registry);
    steps = Counter.builder(MetricNames.WORKER_STEPS)
        .description("Training steps completed (gradient computed and pushed)")
        .baseUnit("steps")
        .tags(base)
        .register(registry);
    rollbacks = Counter.builder(MetricNames.WORKER_ROLLBACKS)
        .description("Shard rollbacks (a shard restarted from a checkpoint or lost its job)"
            + " that the worker noticed and recovered from by pulling again")
        .baseUnit("rollbacks")
        .tags(base)
        .register(registry);
    iterations = Counter.builder(MetricNames.WORKER_ITERATIONS)
        .description("async/ssp: pushes a shard applied, each one global iteration n")
        .tags(base)
        .register(registry);
    compute = phase("compute");
    pull = phase("pull");
    wait = phase("wait");
    push = phase("push");
    staleness = DistributionSummary.builder(MetricNames.WORKER_STALENESS)
        .description("Staleness tau the worker's pushes met, averaged over the pushed blocks")
        .baseUnit("updates")
        .tags(base)
        .register(registry);
  }

  private Timer phase(String name) {
    return Timer.builder(MetricNames.WORKER_TIME)
        .description("Time per step phase: compute (gradient, local steps, injected delay),"
            + " pull (transfer), wait (at the shard's barrier or ssp bound), push")
        .tags(base).tags("phase", name)
        .register(registry);
  }

  void step(double loss, int batch, long computeNs, long pullNs, long waitNs, long pushNs) {
    lossBits.set(Double.doubleToLongBits(loss));
    examples.increment(batch);
    steps.increment();
    compute.record(computeNs, TimeUnit.NANOSECONDS);
    pull.record(Math.max(0, pullNs - waitNs), TimeUnit.NANOSECONDS);
    wait.record(waitNs, TimeUnit.NANOSECONDS);
    push.record(pushNs, TimeUnit.NANOSECONDS);
  }

  /**
   * A shard rollback the worker noticed: one rollback, and the updates it lost (when known) on
   * the {@link MetricNames#WORKER_UPDATES_LOST} counter of its shard.
   */
  void rollback(io.parasol.client.ShardRollback r) {
    rollbacks.increment();
    Counter lost = Counter.builder(MetricNames.WORKER_UPDATES_LOST)
        .description("Updates lost at shard rollbacks as the worker saw them: per rollback,"
            + " the most any block of the shard lost (highest version seen before minus the"
            + " version restored); a lower bound")
        .tags(base).tags("shard", Integer.toString(r.shard()))
        .register(registry);
    if (r.lossKnown()) {
      lost.increment(r.updatesLost());
    }
  }

  void iteration() {
    iterations.increment();
  }

  /** Registers gauges of the worker's L_ij estimates (once; they read the live matrix). */
  synchronized void lipschitz(LipschitzEstimator est, int blocks) {
    if (lipschitzRegistered) {
      return;
    }
    lipschitzRegistered = true;
    for (int i = 0; i < blocks; i++) {
      for (int j = 0; j < blocks; j++) {
        if (i == j) {
          continue;
        }
        final int bi = i;
        final int bj = j;
        Gauge.builder(MetricNames.WORKER_LIPSCHITZ, est, e -> e.get(bi, bj))
            .description("--estimate-lipschitz: the worker's estimate of L_ij, how much the"
                + " gradient of block i moves per unit move of block j (source)")
            .tags(base).tags("block", Integer.toString(i), "source",
                Integer.toString(j))
            .register(registry);
      }
    }
  }

  void staleness(double meanTau) {
    staleness.record(meanTau);
  }

  synchronized void evaluated(double testLoss, double testAccuracy) {
    if (!evaluatorRegistered) {
      Gauge.builder(MetricNames.WORKER_TEST_LOSS, testLossBits,
              b -> Double.longBitsToDouble(b.get()))
          .description("Test loss of the model this worker pulled (the evaluator)")
          .tags(base)
          .register(registry);
      Gauge.builder(MetricNames.WORKER_TEST_ACCURACY, testAccBits,
              b -> Double.longBitsToDouble(b.get()))
          .description("Test accuracy of the model this worker pulled (the evaluator)")
          .tags(base)
          .register(registry);
      evaluatorRegistered = true;
    }
    testLossBits.set(Double.doubleToLongBits(testLoss));
    testAccBits.set(Double.doubleToLongBits(testAccuracy));
  }
}
