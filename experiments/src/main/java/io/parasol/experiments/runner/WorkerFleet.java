package io.parasol.experiments.runner;

import io.micrometer.core.instrument.MeterRegistry;
import io.parasol.client.PsClient;
import io.parasol.common.BlockLayout;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.StatusResponse;
import io.parasol.server.LocalCluster;
import io.parasol.worker.model.Model;
import io.parasol.worker.train.DelayModel;
import io.parasol.worker.train.JobSettings;
import io.parasol.worker.train.TrainingData;
import io.parasol.worker.train.TrainingLoop;
import io.parasol.worker.train.WorkerMetrics;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionService;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The worker threads of a local run: one {@link PsClient} (its own channels) and one thread per
 * worker, each running a {@link TrainingLoop}. The first worker to fail (divergence, a refused
 * push) ends the run: {@link #close} interrupts the others and closes every client.
 *
 * <p>Elastic workers follow an {@link ElasticPlan}: worker 0's step callback starts the joiners
 * due at that step and waits until each has completed its first step (so the join lands at that
 * step however loaded the machine), and a leaver's loop is given the steps up to its leave
 * step, after which it leaves as every finished worker does.
 */
final class WorkerFleet implements AutoCloseable {
  private final LocalRunner.Options o;
  private final MeterRegistry registry;
  private final List<ElasticPlan.Worker> workers;
  private final ExecutorService pool;
  private final List<PsClient> clients = new ArrayList<>();
  /** Membership changes as they happened: joins from worker 0's thread, leaves from each's. */
  private final List<Event> events = new CopyOnWriteArrayList<>();
  private volatile long started;

  /** A membership change: workers joined or left at worker 0's step; -1: not read. */
  private record Event(long step, boolean join, List<Integer> workers, int liveOnShards) {}

  /** Connects one client per worker of the plan (initial and joiners) to the cluster's shards. */
  WorkerFleet(LocalCluster cluster, BlockLayout layout, LocalRunner.Options o,
      MeterRegistry registry, List<ElasticPlan.Worker> workers) {
    this.o = o;
    this.registry = registry;
    this.workers = List.copyOf(workers);
    this.pool = Executors.newFixedThreadPool(workers.size(), r -> {
      Thread t = new Thread(r, "worker");
      t.setDaemon(true);
      return t;
    });
    try {
      for (int k = 0; k < workers.size(); k++) {
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
   * Runs the initial workers for {@code steps} steps (worker 0 evaluates), and the joiners and
   * leavers as planned; returns every worker's result in the order they finished and rethrows
   * the first failure.
   */
  List<TrainingLoop.Result> train(JobSpec spec, Model model, TrainingData data, long steps,
      TrainingLoop.Listener listener, java.util.function.LongConsumer onStart)
      throws InterruptedException {
    CompletionService<TrainingLoop.Result> done = new ExecutorCompletionService<>(pool);
    AtomicInteger submitted = new AtomicInteger();
    TreeMap<Long, List<ElasticPlan.Worker>> joins = new TreeMap<>();
    for (ElasticPlan.Worker w : workers) {
      if (w.joins()) {
        joins.computeIfAbsent(w.start(), s -> new ArrayList<>()).add(w);
      }
    }
    Starter starter = (w, l, firstStep) -> {
      TrainingLoop loop = loop(w, spec, model, data, steps, l);
      submit(done, submitted, w, loop, firstStep);
    };
    // Start-up (each worker's Init, its loop and what the loop reads) comes before the clock,
    // as the PyTorch peer's rendezvous does: the clock starts once every initial worker is ready.
    List<ElasticPlan.Worker> initial = new ArrayList<>();
    List<TrainingLoop> loops = new ArrayList<>();
    for (ElasticPlan.Worker w : workers) {
      if (!w.joins()) {
        initial.add(w);
        loops.add(loop(w, spec, model, data, steps, w.index() == 0 && !joins.isEmpty()
            ? new JoinTrigger(listener, joins, starter) : listener).prepare());
      }
    }
    started = System.nanoTime();
    if (onStart != null) {
      onStart.accept(started);
    }
    for (int i = 0; i < initial.size(); i++) {
      submit(done, submitted, initial.get(i), loops.get(i), null);
    }
    // Worker 0 submits the joiners before it finishes, so every loop is counted by then.
    List<TrainingLoop.Result> results = new ArrayList<>();
    while (results.size() < submitted.get()) {
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

  /** When the last {@link #train} started its workers' steps ({@link System#nanoTime()}). */
  long started() {
    return started;
  }

  private void submit(CompletionService<TrainingLoop.Result> done, AtomicInteger submitted,
      ElasticPlan.Worker w, TrainingLoop loop, Runnable firstStep) {
    submitted.incrementAndGet();
    done.submit(() -> {
      try {
        TrainingLoop.Result r = loop.run();
        if (w.leave() >= 0) {
          events.add(new Event(w.leave(), false, List.of(w.index()), -1));
        }
        return r;
      } finally {
        if (firstStep != null) {
          firstStep.run(); // a joiner that ended (or failed) before its first step
        }
      }
    });
  }

  private TrainingLoop loop(ElasticPlan.Worker w, JobSpec spec, Model model, TrainingData data,
      long steps, TrainingLoop.Listener listener) {
    JobSettings js = o.job();
    int k = w.index();
    boolean rounds = js.mode() == Mode.MODE_SYNC || js.mode() == Mode.MODE_LOCAL;
    PsClient c = clients.get(k);
    c.init(spec);
    return new TrainingLoop(c, model, data.part(js, k), data.test(),
        new TrainingLoop.Config(k, js, w.steps(steps, rounds), o.batchSize(),
            k == 0 ? o.evalEvery() : 0, o.computeDelayOf(k), o.commDelay(), o.arrivals(),
            o.allowDivergence()),
        listener, registry == null ? null : new WorkerMetrics(registry, k, spec.getJobName()),
        DelayModel.REAL).estimateLipschitz(o.estimateLipschitz());
  }

  /**
   * Starts one worker's loop; {@code firstStep} (may be null) runs when the loop ends, and its
   * listener runs it at its first step too (so it must be idempotent).
   */
  @FunctionalInterface
  private interface Starter {
    void start(ElasticPlan.Worker w, TrainingLoop.Listener listener, Runnable firstStep);
  }

  /** Worker 0's listener: forwards, and starts the joiners due at each step it completes. */
  private final class JoinTrigger implements TrainingLoop.Listener {
    private final TrainingLoop.Listener next;
    private final TreeMap<Long, List<ElasticPlan.Worker>> due;
    private final Starter starter;

    JoinTrigger(TrainingLoop.Listener next, TreeMap<Long, List<ElasticPlan.Worker>> due,
        Starter starter) {
      this.next = next;
      this.due = due;
      this.starter = starter;
    }

    @Override
    public void onStep(int worker, long step, double loss) {
      next.onStep(worker, step, loss);
      while (!due.isEmpty() && due.firstKey() <= step) {
        List<ElasticPlan.Worker> group = due.pollFirstEntry().getValue();
        CountDownLatch joined = new CountDownLatch(group.size());
        for (ElasticPlan.Worker w : group) {
          AtomicBoolean stepped = new AtomicBoolean();
          Runnable firstStep = () -> {
            if (stepped.compareAndSet(false, true)) {
              joined.countDown();
            }
          };
          starter.start(w, new TrainingLoop.Listener() {
            @Override
            public void onStep(int k, long s, double l) {
              next.onStep(k, s, l);
              firstStep.run();
            }
          }, firstStep);
        }
        try {
          joined.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new CancellationException("worker 0 interrupted waiting for joiners");
        }
        int live = clients.get(0).status().stream()
            .mapToInt(StatusResponse::getLiveWorkersCount).max().orElse(-1);
        events.add(new Event(step, true,
            group.stream().map(ElasticPlan.Worker::index).toList(), live));
      }
    }

    @Override
    public void onEval(int worker, long step, Model.Evaluation eval) {
      next.onEval(worker, step, eval);
    }
  }

  /**
   * The elastic part of the summary: {@code max_workers}, the membership over worker 0's steps
   * (each change with the live count it leaves, and at joins the live count the shards
   * reported once the joiners had stepped) and each worker's completed steps, by index.
   */
  Map<String, Object> membership(int capacity, List<TrainingLoop.Result> results) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("max_workers", capacity);
    List<Event> sorted = new ArrayList<>(events);
    sorted.sort(Comparator.comparingLong(Event::step).thenComparing(e -> !e.join()));
    List<Map<String, Object>> timeline = new ArrayList<>();
    List<Integer> initial = workers.stream().filter(w -> !w.joins())
        .map(ElasticPlan.Worker::index).toList();
    int live = initial.size();
    timeline.add(change(0, "joined", initial, live, -1));
    for (int i = 0; i < sorted.size(); ) {
      Event e = sorted.get(i);
      List<Integer> who = new ArrayList<>(e.workers());
      int j = i + 1;
      for (; j < sorted.size() && sorted.get(j).step() == e.step()
          && sorted.get(j).join() == e.join(); j++) {
        who.addAll(sorted.get(j).workers());
      }
      who.sort(null);
      live += e.join() ? who.size() : -who.size();
      timeline.add(change(e.step(), e.join() ? "joined" : "left", who, live, e.liveOnShards()));
      i = j;
    }
    m.put("membership", timeline);
    long[] steps = new long[workers.size()];
    for (TrainingLoop.Result r : results) {
      steps[r.worker()] = r.steps();
    }
    m.put("worker_steps", Arrays.stream(steps).boxed().toList());
    return m;
  }

  private static Map<String, Object> change(long step, String what, List<?> who, int live,
      int liveOnShards) {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("step", step);
    c.put(what, who);
    c.put("live", live);
    if (liveOnShards >= 0) {
      c.put("live_on_shards", liveOnShards);
    }
    return c;
  }

  @Override
  public void close() {
    pool.shutdownNow();
    for (PsClient c : clients) {
      c.close();
    }
  }
}
