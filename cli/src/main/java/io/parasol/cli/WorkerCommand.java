package io.parasol.cli;

import io.parasol.common.BlockLayout;
import io.parasol.proto.v1.JobSpec;
import io.parasol.client.PsClient;
import io.parasol.worker.data.Batches;
import io.parasol.worker.model.Model;
import io.parasol.worker.model.Models;
import io.grpc.CallCredentials;
import io.parasol.common.metrics.MetricsServer;
import io.parasol.common.security.BearerToken;
import io.parasol.common.security.TlsConfig;
import io.parasol.common.security.Tokens;
import io.parasol.worker.train.DelayModel;
import io.parasol.worker.train.JobKeys;
import io.parasol.worker.train.JobSettings;
import io.parasol.worker.train.TrainingData;
import io.parasol.worker.train.TrainingLoop;
import io.parasol.worker.train.WorkerMetrics;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code parasol worker}: one worker process against running shards. */
@Command(name = "worker", mixinStandardHelpOptions = true,
    description = "Run one worker against running shards. Every worker of a job must be given"
        + " the same job flags; the first to arrive declares the job (Init is idempotent).")
public final class WorkerCommand implements Callable<Integer> {
  @Mixin
  JobOptions job;

  @Mixin
  WorkerSummary summary;

  @Option(names = "--connect-timeout", defaultValue = "5s",
      description = "How long to keep trying shards that do not answer (still starting,"
          + " refused, unresolvable) before giving up with their address and the cause"
          + " (default: ${DEFAULT-VALUE}).")
  String connectTimeout;

  @Option(names = "--servers", required = true, split = ",",
      description = "Shard addresses host:port, in shard order, comma-separated.")
  List<String> servers;

  @Option(names = "--worker", required = true, description = "This worker's index k, 0..m-1;"
      + " m..MAX-1 joins the running job (see --max-workers).")
  int worker;

  @Option(names = JobKeys.MAX_WORKERS_FLAG, defaultValue = JobKeys.MAX_WORKERS_DEFAULT,
      description = JobKeys.MAX_WORKERS_HELP)
  int maxWorkers;

  @Option(names = "--tls", description = "Talk TLS to the shards (trusting the system's CAs"
      + " unless --tls-ca is given). Any --tls-* flag turns TLS on.")
  boolean tlsOn;

  @Option(names = "--tls-ca", description = "PEM CA bundle that signed the shards' certificates.")
  String tlsCa;

  @Option(names = "--tls-cert", description = "PEM client certificate, for mTLS.")
  String tlsCert;

  @Option(names = "--tls-key", description = "PEM PKCS#8 key of --tls-cert.")
  String tlsKey;

  @Option(names = "--tls-authority",
      description = "Server name to expect in the shards' certificates (e.g. localhost).")
  String tlsAuthority;

  @Option(names = "--token-file", description = "File holding the bearer token to send.")
  String tokenFile;

  @Option(names = "--token-env",
      description = "Environment variable holding the bearer token (if no --token-file).")
  String tokenEnv;

  @Option(names = "--metrics-host", defaultValue = "127.0.0.1",
      description = "Address the metrics port listens on (default: ${DEFAULT-VALUE}).")
  String metricsHost;

  @Override
  public Integer call() {
    JobSettings js = job.settings().toBuilder().maxWorkers(maxWorkers).build().validated();
    if (worker < 0 || worker >= js.workerCapacity()) {
      throw new IllegalArgumentException("--worker must be in 0.." + (js.workerCapacity() - 1)
          + (js.workerCapacity() > js.numWorkers() ? "" : " (give every worker --max-workers"
          + " to let workers join)") + ", got " + worker);
    }
    if (servers.size() != js.numShards()) {
      throw new IllegalArgumentException("--servers lists " + servers.size()
          + " addresses but --shards is " + js.numShards());
    }
    TrainingData data = job.loadData();
    Model model = Models.create(job.model(), data.train().numFeatures(),
        data.train().numClasses(), job.modelOptions());
    BlockLayout layout = js.layout(model);
    long steps = stepsOf(data.part(js, worker).numExamples());
    // The schedule's horizon: the same figure on every worker (worker 0's part), whatever the
    // size of this worker's part, so that the workers' specs agree.
    JobSpec spec = js.spec(job.jobName, model, layout, stepsOf(data.part(js, 0).numExamples()));
    MetricsServer metrics = null;
    if (job.metricsPort > 0) {
      try {
        metrics = MetricsServer.start(MetricsServer.newRegistry(), metricsHost, job.metricsPort);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
    boolean useTls = tlsOn || tlsCa != null || tlsCert != null || tlsKey != null
        || tlsAuthority != null;
    TlsConfig tls = useTls ? TlsConfig.client(tlsCa, tlsCert, tlsKey, tlsAuthority) : null;
    String token = Tokens.load(tokenFile, tokenEnv);
    CallCredentials creds = token == null ? null
        : tls != null ? BearerToken.requiringTls(token) : new BearerToken(token);
    if (token != null && tls == null) {
      System.err.println("parasol worker: warning: the bearer token travels in clear text"
          + " without --tls");
    }
    PsClient.Connection conn = new PsClient.Connection(servers,
        tls == null ? null : tls.channelCredentials(), tls == null ? null
        : tls.authorityOverride(), creds);
    try (PsClient client = PsClient.connect(conn, layout, job.rpcTimeout(),
        job.pullTimeout(), metrics == null ? null : metrics.registry(),
        PsClient.Transport.DEFAULT.withEncoding(job.wire()))) {
      client.connectTimeout(parseConnectTimeout());
      String fp = client.init(spec);
      System.out.printf(Locale.ROOT, "worker %d/%d%s: job %s, %s mode, %d steps%n", worker,
          js.numWorkers(), worker >= js.numWorkers() ? " (joining; room for "
          + js.workerCapacity() + ")" : "", fp, JobSettings.modeName(js.mode()), steps);
      TrainingLoop loop = new TrainingLoop(client, model, data.part(js, worker), data.test(),
          new TrainingLoop.Config(worker, js, steps, job.batchSize,
              worker == 0 ? job.evalEvery : 0, job.computeDelay(), job.commDelay(),
              job.arrivals(), job.allowDivergence),
          new TrainingLoop.Listener() {
            @Override
            public void onEval(int w, long step, Model.Evaluation e) {
              System.out.printf(Locale.ROOT, "  step %6d  test loss %.4f  test acc %.4f%n", step,
                  e.loss(), e.accuracy());
            }
          }, metrics == null ? null : new WorkerMetrics(metrics.registry(), worker, job.jobName),
          DelayModel.REAL);
      TrainingLoop.Result r = loop.run();
      boolean finalModel = worker == 0 && summary.wanted();
      if (finalModel) {
        WorkerSummary.awaitOthersDone(client);
      }
      float[] x = new float[layout.dimension()];
      // The final model: sync and local jobs end at a known version.
      long last = switch (js.mode()) {
        case MODE_SYNC -> steps;
        case MODE_LOCAL -> (steps + js.localSteps() - 1) / js.localSteps();
        default -> 0;
      };
      client.pull(worker, x, last, 0);
      Batches.Batch test = Batches.all(data.test());
      Model.Evaluation e = model.evaluate(Nd4j.create(x, new long[] {1, x.length},
          DataType.FLOAT), test.features(), test.targets());
      System.out.printf(Locale.ROOT, "worker %d done: %d steps, %d late, %d rollbacks,"
              + " %d updates lost, last loss %.4f, test loss %.4f, test acc %.4f%n", worker,
          r.steps(), r.latePushes(), r.rollbacks(), r.updatesLost(), r.lastLoss(), e.loss(),
          e.accuracy());
      if (summary.wanted()) {
        summary.write(WorkerSummary.of(worker, JobSettings.modeName(js.mode()), js.numShards(),
            js.numWorkers(), model.name(), data.source(), r, e, finalModel, client.status()));
        System.out.println("summary written to " + summary.path);
      }
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("worker " + worker + " interrupted", ie);
    } catch (java.io.IOException io) {
      throw new java.io.UncheckedIOException(io);
    } finally {
      if (metrics != null) {
        metrics.close();
      }
    }
    return 0;
  }

  /** Steps per worker for a part of {@code examples}: --steps, or --epochs passes over it. */
  private long stepsOf(int examples) {
    return job.steps > 0 ? job.steps
        : (long) job.epochs * Math.max(1, (examples + job.batchSize - 1) / job.batchSize);
  }

  private java.time.Duration parseConnectTimeout() {
    java.time.Duration d = JobOptions.parseDuration("--connect-timeout", connectTimeout);
    if (d.isZero() || d.isNegative()) {
      throw new IllegalArgumentException("--connect-timeout must be positive, got "
          + connectTimeout);
    }
    return d;
  }
}
