package io.parasol.client;

import io.parasol.common.BlockLayout;
import io.parasol.common.JobSpecs;
import io.parasol.proto.v1.InitKind;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.OptimizerKind;
import io.parasol.proto.v1.OptimizerSpec;
import io.parasol.proto.v1.StalenessLr;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A training job as its user declares it: the model's tensors (names and shapes, in the order of
 * the flat parameter vector) and how the shards train them (mode, optimizer, step size, number
 * of workers, seed). Immutable; {@link #spec(int)} turns it into the {@link JobSpec} every
 * process computes identically, with the tensors split into coordinate blocks by
 * {@link BlockLayout}.
 *
 * <pre>{@code
 * Job job = Job.builder("my-mlp")
 *     .tensor("W1", 64, 32).tensor("b1", 32)        // W: Glorot uniform, b: zeros
 *     .tensor("W2", 32, 10).tensor("b2", 10)
 *     .mode(Mode.MODE_ASYNC).learningRate(0.1f).workers(4).seed(1)
 *     .build();
 * }</pre>
 *
 * <p>Initial values are drawn by the shards from the seed: by default a tensor of rank 2 or more
 * is uniform on [-s, s] with the Glorot scale s = sqrt(6 / (fanIn + fanOut)), where fanOut is
 * the last dimension and fanIn the product of the others, and a vector (at most one dimension
 * above 1, such as a bias of shape [1, n]) is zero.
 */
public final class Job {
  /** How a tensor's initial values are drawn. */
  public record Init(InitKind kind, float scale) {
    public Init {
      Objects.requireNonNull(kind, "kind");
      if (!Float.isFinite(scale) || scale < 0) {
        throw new IllegalArgumentException("init scale must be finite and >= 0, got " + scale);
      }
    }

    public static Init zeros() {
      return new Init(InitKind.INIT_ZEROS, 0f);
    }

    /** Uniform on [-scale, scale]. */
    public static Init uniform(float scale) {
      return new Init(InitKind.INIT_UNIFORM, scale);
    }

    /** Normal with mean 0 and standard deviation {@code std}. */
    public static Init normal(float std) {
      return new Init(InitKind.INIT_NORMAL, std);
    }

    /** Glorot uniform for a matrix (or higher rank), zeros for a vector (such as [1, n]). */
    public static Init defaultFor(long[] shape) {
      if (java.util.Arrays.stream(shape).filter(s -> s > 1).count() < 2) {
        return zeros();
      }
      long fanOut = shape[shape.length - 1];
      long fanIn = 1;
      for (int i = 0; i < shape.length - 1; i++) {
        fanIn *= shape[i];
      }
      return uniform((float) Math.sqrt(6.0 / (fanIn + fanOut)));
    }
  }

  private final String name;
  private final String model;
  private final List<BlockLayout.Tensor> tensors;
  private final Map<String, Float> tensorLearningRates;
  private final int maxBlockSize;
  private final JobSpec settings;

  private Job(Builder b) {
    this.name = b.name;
    this.model = b.model;
    this.tensors = List.copyOf(b.tensors);
    this.tensorLearningRates = Map.copyOf(b.tensorLearningRates);
    this.maxBlockSize = b.maxBlockSize;
    this.settings = b.settings.build();
  }

  /** Starts a job named {@code name} (the shards' {@code job} label). */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  public String name() {
    return name;
  }

  /** The model's tensors in flat-vector order. */
  public List<BlockLayout.Tensor> tensors() {
    return tensors;
  }

  /** The length d of the flat parameter vector. */
  public int dimension() {
    long d = 0;
    for (BlockLayout.Tensor t : tensors) {
      d += t.size();
    }
    return (int) d;
  }

  /** The tensors split into blocks and assigned to {@code numShards} shards. */
  public BlockLayout layout(int numShards) {
    return BlockLayout.of(tensors, numShards, maxBlockSize);
  }

  /**
   * The job spec for {@code numShards} shards.
   *
   * @throws IllegalArgumentException listing every problem if the spec is not valid
   */
  public JobSpec spec(int numShards) {
    BlockLayout layout = layout(numShards);
    float[] lrs = null;
    if (!tensorLearningRates.isEmpty()) {
      lrs = new float[layout.numBlocks()];
      for (BlockLayout.Block b : layout.blocks()) {
        String tensor = b.name().contains("[") ? b.name().substring(0, b.name().indexOf('['))
            : b.name();
        lrs[b.id()] = tensorLearningRates.getOrDefault(tensor, 0f);
      }
    }
    JobSpec spec = settings.toBuilder().setJobName(name).setModel(model)
        .setNumShards(numShards).addAllBlocks(layout.toSpecs(lrs)).build();
    List<String> problems = JobSpecs.problems(spec);
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("job '" + name + "': " + String.join("; ", problems));
    }
    return spec;
  }

  /** Collects a job's tensors and settings; {@link #build} checks them. */
  public static final class Builder {
    private final String name;
    private String model = "";
    private final List<BlockLayout.Tensor> tensors = new ArrayList<>();
    private final Map<String, Float> tensorLearningRates = new LinkedHashMap<>();
    private int maxBlockSize;
    private final JobSpec.Builder settings = JobSpec.newBuilder().setMode(Mode.MODE_ASYNC)
        .setNumWorkers(1).setLearningRate(0.1f).setSeed(1);

    private Builder(String name) {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("a job needs a name");
      }
      this.name = name;
    }

    /** Adds a tensor of {@code shape} with the default initialisation (see {@link Job}). */
    public Builder tensor(String tensorName, long... shape) {
      return tensor(tensorName, Init.defaultFor(shape), shape);
    }

    /** Adds a tensor of {@code shape}, initialised as {@code init} says. */
    public Builder tensor(String tensorName, Init init, long... shape) {
      if (shape.length == 0) {
        throw new IllegalArgumentException("tensor " + tensorName + " has no shape");
      }
      long size = 1;
      for (long s : shape) {
        if (s <= 0) {
          throw new IllegalArgumentException("tensor " + tensorName + " has a dimension " + s);
        }
        size *= s;
        if (size > Integer.MAX_VALUE - 8) {
          throw new IllegalArgumentException("tensor " + tensorName + " is too large");
        }
      }
      for (BlockLayout.Tensor t : tensors) {
        if (t.name().equals(tensorName)) {
          throw new IllegalArgumentException("tensor " + tensorName + " is declared twice");
        }
      }
      tensors.add(new BlockLayout.Tensor(tensorName, (int) size, init.kind(), init.scale()));
      return this;
    }

    /** A step size η_i for every block of one tensor, instead of the job's. */
    public Builder tensorLearningRate(String tensorName, float lr) {
      if (!(lr > 0) || !Float.isFinite(lr)) {
        throw new IllegalArgumentException("learning rate of " + tensorName
            + " must be positive, got " + lr);
      }
      tensorLearningRates.put(tensorName, lr);
      return this;
    }

    /** A name for the model (informational: the shards show it). */
    public Builder model(String modelName) {
      this.model = Objects.requireNonNull(modelName);
      return this;
    }

    /** Sync, async (the default) or ssp; local-update jobs push models, not gradients. */
    public Builder mode(Mode mode) {
      settings.setMode(mode);
      return this;
    }

    public Builder learningRate(float lr) {
      settings.setLearningRate(lr);
      return this;
    }

    /** The number m of workers (default 1). */
    public Builder workers(int m) {
      settings.setNumWorkers(m);
      return this;
    }

    /**
     * Elastic workers: indices m..max-1 may join the running job (default 0: none). Workers
     * 0..m-1 start live; sync and local rounds follow the live set (see README, "Elastic
     * workers").
     */
    public Builder maxWorkers(int max) {
      settings.setMaxWorkers(max);
      return this;
    }

    /** The shards' initial values are a function of this seed (default 1). */
    public Builder seed(long seed) {
      settings.setSeed(seed);
      return this;
    }

    /** The shards' optimizer (default SGD) with its β1, β2 and ε. */
    public Builder optimizer(OptimizerKind kind, float beta1, float beta2, float epsilon) {
      settings.setOptimizer(OptimizerSpec.newBuilder().setKind(kind).setBeta1(beta1)
          .setBeta2(beta2).setEpsilon(epsilon));
      return this;
    }

    /** sync: the number K of gradients that completes a step (0: every live worker). */
    public Builder quorum(int k) {
      settings.setQuorum(k);
      return this;
    }

    /** ssp: the most steps a worker may lead the slowest. */
    public Builder stalenessBound(int s) {
      settings.setStalenessBound(s);
      return this;
    }

    /** async/ssp: updates staler than this are dropped (0: no limit). */
    public Builder maxStaleness(int tau) {
      settings.setMaxStaleness(tau);
      return this;
    }

    /** async/ssp: the step size becomes η / max(1, τ). */
    public Builder stalenessAwareLearningRate(boolean on) {
      settings.setStalenessLr(on ? StalenessLr.STALENESS_LR_INVERSE
          : StalenessLr.STALENESS_LR_CONSTANT);
      return this;
    }

    /**
     * The step-size schedule ({@link io.parasol.common.LrSchedules}: {@code constant},
     * {@code cosine[:F]}, {@code step:P1[,P2...]:FACTOR}) over {@code horizon} updates of each
     * block: the steps of a sync job, the pushes that reach a block in async and ssp, the rounds
     * of a local job (whose workers apply the schedule to their local steps themselves).
     */
    public Builder lrSchedule(String schedule, long horizon) {
      io.parasol.proto.v1.LrSchedule s =
          io.parasol.common.LrSchedules.parse(schedule, "lr schedule");
      if (s.getKind() == io.parasol.proto.v1.LrScheduleKind.LR_SCHEDULE_CONSTANT) {
        settings.clearLrSchedule();
      } else {
        if (horizon < 1) {
          throw new IllegalArgumentException("lr schedule " + schedule
              + " needs a horizon of at least 1 update, got " + horizon);
        }
        settings.setLrSchedule(s.toBuilder().setHorizon(horizon));
      }
      return this;
    }

    /** How long a worker stays live without a call (default 10 s). */
    public Builder lease(Duration lease) {
      long ms = lease.toMillis();
      if (ms < 1 || ms > JobSpecs.MAX_COUNT) {
        throw new IllegalArgumentException("lease must be between 1 ms and "
            + JobSpecs.MAX_COUNT + " ms, got " + lease);
      }
      settings.setLeaseMillis((int) ms);
      return this;
    }

    /** The largest block in floats (0, the default: about four blocks per shard). */
    public Builder maxBlockSize(int floats) {
      if (floats < 0) {
        throw new IllegalArgumentException("max block size must be >= 0, got " + floats);
      }
      this.maxBlockSize = floats;
      return this;
    }

    /**
     * The job; its spec is checked against one shard here and again for the real number of
     * shards when a client connects.
     *
     * @throws IllegalArgumentException listing every problem
     */
    public Job build() {
      if (tensors.isEmpty()) {
        throw new IllegalArgumentException("job '" + name + "' declares no tensors");
      }
      for (String t : tensorLearningRates.keySet()) {
        if (tensors.stream().noneMatch(x -> x.name().equals(t))) {
          throw new IllegalArgumentException("a learning rate for unknown tensor " + t);
        }
      }
      if (settings.getMode() == Mode.MODE_LOCAL) {
        throw new IllegalArgumentException("local-update jobs are not supported by"
            + " ParasolClient yet; use sync, async or ssp");
      }
      Job job = new Job(this);
      job.spec(1);
      return job;
    }
  }
}
