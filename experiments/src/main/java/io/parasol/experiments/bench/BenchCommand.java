package io.parasol.experiments.bench;

import io.parasol.common.FloatCodec;
import io.parasol.proto.v1.ValueEncoding;
import io.parasol.client.PsClient;
import io.parasol.worker.train.JobKeys;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code parasol bench}: how close the push/pull path gets to the wire, how fast a shard applies
 * updates, and what Parasol adds to a training step; each against a reference measured in the
 * same run by the same program.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Benchmarks, each against a reference measured in the same run: pushpull"
        + " (wire path vs raw TCP loopback), apply (shard apply vs array copy), step (a"
        + " training step through Parasol vs a local ND4J loop), train (a whole training job"
        + " vs PyTorch on the same job), model (a step's loss and gradient: Java kernels vs"
        + " ND4J and SameDiff), memory (a shard's heap for N parameters vs the arithmetic"
        + " floor), scaling (train over m workers x S shards vs PyTorch with the same m),"
        + " jobs (a big and a small job on the same shards: step times alone and together).",
    subcommands = {BenchCommand.PushPull.class, BenchCommand.Apply.class,
        BenchCommand.Step.class, BenchCommand.Train.class, BenchCommand.ModelStep.class,
        MemoryBench.Cli.class, ScalingBench.Cli.class, JobsBench.Cli.class})
public final class BenchCommand implements Runnable {

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  static ValueEncoding wire(String s) {
    return FloatCodec.parseEncoding(s);
  }

  static void positive(String flag, double v) {
    if (!(v > 0)) {
      throw new IllegalArgumentException(flag + " must be positive, got " + v);
    }
  }

  /** {@code parasol bench pushpull}. */
  @Command(name = "pushpull", mixinStandardHelpOptions = true,
      description = "Push, pull and push+pull throughput of an embedded cluster on 127.0.0.1,"
          + " against a raw TCP loopback transfer of the same bytes in the same run.")
  static final class PushPull implements Callable<Integer> {
    @Option(names = "--params", defaultValue = "10000000",
        description = "Floats in the model (default: ${DEFAULT-VALUE}).")
    int params;

    @Option(names = "--shards", defaultValue = "2", description = "Shards (default: ${DEFAULT-VALUE}).")
    int shards;

    @Option(names = "--workers", defaultValue = "1",
        description = "Workers pushing and pulling at once (default: ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--wire", defaultValue = "fp32",
        description = "Wire precision: fp32, bf16 or fp16 (default: ${DEFAULT-VALUE}).")
    String wire;

    @Option(names = "--warmup", defaultValue = "5",
        description = "Rounds before measuring (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--reps", defaultValue = "30",
        description = "Measured rounds at most (default: ${DEFAULT-VALUE}).")
    int reps;

    @Option(names = "--max-seconds", defaultValue = "25",
        description = "Time budget of the measured rounds; at least 3 run (default:"
            + " ${DEFAULT-VALUE}).")
    double maxSeconds;

    @Option(names = "--chunk-floats", defaultValue = "0",
        description = "Values per chunk message, client side (0: the default).")
    int chunkFloats;

    @Option(names = "--window", defaultValue = "-1",
        description = "Client HTTP/2 flow-control window in bytes (-1: the client's default, "
            + PsClient.Transport.DEFAULT_WINDOW + "; 0: gRPC's own).")
    int window;

    @Option(names = "--server-window", defaultValue = "0",
        description = "Shard flow-control window in bytes (0: the shard's default).")
    int serverWindow;

    @Option(names = "--source", defaultValue = "offheap",
        description = "Push from and pull into offheap (ND4J) vectors or float arrays:"
            + " offheap or array (default: ${DEFAULT-VALUE}).")
    String source;

    @Option(names = "--only", hidden = true,
        description = "Run one phase only (for profiling): raw_one_way, raw_there_and_back,"
            + " raw_duplex, grpc_push, grpc_pull, grpc_push_pull, push, pull, push_pull or"
            + " push_then_pull.")
    String only;

    @Mixin
    JsonOutput out;

    @Override
    public Integer call() throws Exception {
      positive("--params", params);
      JobKeys.SHARDS.check(shards);
      positive("--workers", workers);
      positive("--max-seconds", maxSeconds);
      if (reps < 1 || warmup < 0) {
        throw new IllegalArgumentException("--reps must be >= 1 and --warmup >= 0");
      }
      if (!source.equals("offheap") && !source.equals("array")) {
        throw new IllegalArgumentException("--source must be offheap or array, got " + source);
      }
      PushPullBench.Options o = new PushPullBench.Options(params, shards, workers, wire(wire),
          warmup, reps, maxSeconds, chunkFloats > 0 ? chunkFloats : FloatCodec.DEFAULT_CHUNK_FLOATS,
          window < 0 ? PsClient.Transport.DEFAULT_WINDOW : window, serverWindow,
          source.equals("offheap"), only);
      Map<String, Object> r = PushPullBench.run(o, out.json ? null : System.out);
      out.print(r, Tables.pushPull(r));
      return 0;
    }
  }

  /** {@code parasol bench apply}. */
  @Command(name = "apply", mixinStandardHelpOptions = true,
      description = "A shard's update application rate against a plain array copy of the same"
          + " size in the same run.")
  static final class Apply implements Callable<Integer> {
    @Option(names = "--params", defaultValue = "10000000",
        description = "Floats in the model (default: ${DEFAULT-VALUE}).")
    int params;

    @Option(names = "--threads", defaultValue = "1",
        description = "Pushes applied at once, by as many threads (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--optimizer", defaultValue = "sgd",
        description = "Server-side optimizer: sgd, momentum, adagrad or adam (default:"
            + " ${DEFAULT-VALUE}).")
    String optimizer;

    @Option(names = "--warmup", defaultValue = "10",
        description = "Repetitions before measuring (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--reps", defaultValue = "50",
        description = "Measured repetitions at most (default: ${DEFAULT-VALUE}).")
    int reps;

    @Option(names = "--max-seconds", defaultValue = "20",
        description = "Time budget of the measured repetitions (default: ${DEFAULT-VALUE}).")
    double maxSeconds;

    @Mixin
    JsonOutput out;

    @Override
    public Integer call() throws Exception {
      positive("--params", params);
      positive("--threads", threads);
      positive("--max-seconds", maxSeconds);
      ApplyBench.Options o = new ApplyBench.Options(params, threads,
          io.parasol.worker.train.JobSettings.parseOptimizer(optimizer), warmup, Math.max(1, reps),
          maxSeconds);
      Map<String, Object> r = ApplyBench.run(o);
      out.print(r, Tables.apply(r));
      return 0;
    }
  }

  /** {@code parasol bench step}. */
  @Command(name = "step", mixinStandardHelpOptions = true,
      description = "One worker's training step through Parasol (async, embedded shards)"
          + " against the same step in a plain local ND4J loop, in the same run.")
  static final class Step implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "softmax",
        description = "Model: softmax, logistic, linear or mlp[:H,...] (default:"
            + " ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--params", defaultValue = "1000000",
        description = "Parameters, about: the feature count is chosen to match (default:"
            + " ${DEFAULT-VALUE}).")
    int params;

    @Option(names = "--classes", defaultValue = "10",
        description = "Classes of the synthetic data (default: ${DEFAULT-VALUE}).")
    int classes;

    @Option(names = "--batch-size", defaultValue = "128",
        description = "Mini-batch size (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--shards", defaultValue = "1", description = "Shards (default: ${DEFAULT-VALUE}).")
    int shards;

    @Option(names = "--wire", defaultValue = "fp32",
        description = "Wire precision: fp32, bf16 or fp16 (default: ${DEFAULT-VALUE}).")
    String wire;

    @Option(names = "--warmup", defaultValue = "5",
        description = "Steps before measuring, per variant (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--steps", defaultValue = "40",
        description = "Measured steps per variant at most (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--max-seconds", defaultValue = "30",
        description = "Time budget of the measured steps (default: ${DEFAULT-VALUE}).")
    double maxSeconds;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the synthetic data.")
    long seed;

    @Mixin
    JsonOutput out;

    @Override
    public Integer call() throws Exception {
      positive("--params", params);
      JobKeys.BATCH_SIZE.check(batchSize);
      JobKeys.SHARDS.check(shards);
      positive("--max-seconds", maxSeconds);
      StepBench.Options o = new StepBench.Options(model, params, classes, batchSize, shards,
          wire(wire), warmup, Math.max(1, steps), maxSeconds, seed);
      Map<String, Object> r = StepBench.run(o, out.json ? null : System.out);
      out.print(r, Tables.step(r));
      return 0;
    }
  }

  /** {@code parasol bench train}. */
  @Command(name = "train", mixinStandardHelpOptions = true,
      description = "A training job on the embedded cluster and, where the Python interpreter"
          + " imports torch, the same job on PyTorch 1 thread per process (DDP/gloo for sync,"
          + " an RPC parameter server for async), in the same run: samples/s, time to the"
          + " target test accuracy, and the ratios.")
  static final class Train implements Callable<Integer> {
    @Mixin
    PeerJobOptions job;

    @Option(names = "--mode", defaultValue = "sync,async", split = ",",
        description = "Modes to run: sync, async (default: ${DEFAULT-VALUE}).")
    List<String> modes;

    @Option(names = JobKeys.WORKERS_FLAG, defaultValue = JobKeys.WORKERS_DEFAULT,
        description = "Workers (default: ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = JobKeys.SHARDS_FLAG, defaultValue = JobKeys.SHARDS_DEFAULT,
        description = "Parasol shards (default: ${DEFAULT-VALUE}).")
    int shards;

    @Option(names = "--target-accuracy", defaultValue = "0.8",
        description = "Test accuracy for the time-to-target figure (default: ${DEFAULT-VALUE}).")
    double target;

    @Option(names = JobKeys.EVAL_EVERY_FLAG, defaultValue = JobKeys.EVAL_EVERY_DEFAULT,
        description = "Evaluate every N steps of worker 0 (default: ${DEFAULT-VALUE}).")
    int evalEvery;

    @Option(names = "--reps", defaultValue = "1",
        description = "Runs of each side per mode, alternating (default: ${DEFAULT-VALUE}).")
    int reps;

    @Mixin
    JsonOutput out;

    @Override
    public Integer call() throws Exception {
      JobKeys.WORKERS.check(workers);
      JobKeys.SHARDS.check(shards);
      JobKeys.EVAL_EVERY.check(evalEvery);
      positive("--reps", reps);
      boolean peer = job.check("bench train");
      TrainBench.Options o = new TrainBench.Options(modes, job.model, job.data, workers,
          shards, job.batchSize, job.lr(), job.lrSchedule(), job.epochs, job.seed, target,
          evalEvery, job.python, peer, reps);
      Map<String, Object> r = TrainBench.run(o, out.json ? new java.io.PrintStream(
          java.io.OutputStream.nullOutputStream()) : System.out);
      out.print(r, TrainBench.table(r));
      return 0;
    }
  }

  /** {@code parasol bench model}. */
  @Command(name = "model", mixinStandardHelpOptions = true,
      description = "One worker step's loss and gradient, each way Parasol computes it, on the"
          + " same batch in the same run: the MLP 784-64-10 as the Java kernel, hand-written"
          + " ND4J and a SameDiff graph; the LeNet CNN as the Java kernel and a SameDiff graph.")
  static final class ModelStep implements Callable<Integer> {
    @Option(names = "--batch-size", defaultValue = "32",
        description = "Mini-batch size (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--warmup", defaultValue = "20",
        description = "Rounds before measuring (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--steps", defaultValue = "60",
        description = "Measured rounds (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the synthetic batch.")
    long seed;

    @Mixin
    JsonOutput out;

    @Override
    public Integer call() {
      JobKeys.BATCH_SIZE.check(batchSize);
      positive("--steps", steps);
      Map<String, Object> r = ModelBench.run(new ModelBench.Options(batchSize,
          Math.max(0, warmup), steps, seed), out.json ? null : System.out);
      out.print(r, ModelBench.table(r));
      return 0;
    }
  }
}
