package io.parasol.bench;

import io.parasol.proto.v1.OptimizerKind;
import io.parasol.server.optim.BlockOptimizer;
import io.parasol.proto.v1.OptimizerSpec;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A shard's update loops on one block (the server optimizers' {@code step}), against
 * {@code System.arraycopy} of the same floats. Drives the public optimizer API
 * of {@code io.parasol.server.optim}; time per block update.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ApplyLoopBench {
  @Param({"sgd", "momentum", "adagrad", "adam"})
  String optimizer;

  /** Floats per block: 2.5 Mi is a block of a 1e7-float model on two shards. */
  @Param({"2500000"})
  int n;

  float[] x;
  float[] g;
  float[] copy;
  BlockOptimizer opt;

  @Setup
  public void setUp() {
    SplittableRandom rng = new SplittableRandom(2);
    x = new float[n];
    g = new float[n];
    copy = new float[n];
    for (int i = 0; i < n; i++) {
      g[i] = (float) (rng.nextDouble() * 2e-3 - 1e-3);
    }
    OptimizerKind kind = switch (optimizer) {
      case "momentum" -> OptimizerKind.OPTIMIZER_MOMENTUM;
      case "adagrad" -> OptimizerKind.OPTIMIZER_ADAGRAD;
      case "adam" -> OptimizerKind.OPTIMIZER_ADAM;
      default -> OptimizerKind.OPTIMIZER_SGD;
    };
    opt = BlockOptimizer.create(OptimizerSpec.newBuilder().setKind(kind).setBeta1(0.9f)
        .setBeta2(0.999f).setEpsilon(1e-8f).build(), n);
  }

  @Benchmark
  public float[] step() {
    opt.step(x, g, 1e-3f);
    return x;
  }

  @Benchmark
  public float[] arraycopy() {
    System.arraycopy(g, 0, copy, 0, n);
    return copy;
  }
}
