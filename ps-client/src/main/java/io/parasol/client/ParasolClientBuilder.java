package io.parasol.client;

import io.grpc.CallCredentials;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.micrometer.core.instrument.MeterRegistry;
import io.parasol.common.BlockLayout;
import io.parasol.common.security.BearerToken;
import io.parasol.common.security.TlsConfig;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.ValueEncoding;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Settings of a {@link ParasolClient}. Required: {@link #servers} and one of the
 * {@code job(...)} methods. {@link #build()} opens the channels, declares or finds the job on
 * every shard (retried within the deadline) and starts the heartbeat.
 */
public final class ParasolClientBuilder {
  private static final Logger log = LoggerFactory.getLogger(ParasolClientBuilder.class);

  private List<String> servers;
  private Job job;
  private JobSpec spec;
  private String jobName;
  private int worker;
  private Duration deadline = Duration.ofSeconds(30);
  private Duration pullDeadline;
  private RetryPolicy retry = RetryPolicy.DEFAULT;
  private TlsConfig tls;
  private String token;
  private boolean heartbeats = true;
  private Duration heartbeatPeriod;
  private Ticker ticker;
  private final List<ClientInterceptor> interceptors = new ArrayList<>();
  private MeterRegistry registry;
  private ValueEncoding wire = ValueEncoding.VALUE_ENCODING_FP32;

  ParasolClientBuilder() {}

  /** The shards' {@code host:port} addresses, in shard order. */
  public ParasolClientBuilder servers(List<String> addresses) {
    if (addresses == null || addresses.isEmpty()) {
      throw new IllegalArgumentException("no shard addresses");
    }
    this.servers = List.copyOf(addresses);
    return this;
  }

  public ParasolClientBuilder servers(String... addresses) {
    return servers(List.of(addresses));
  }

  /** Declares {@code job} (its spec for as many shards as {@link #servers} lists). */
  public ParasolClientBuilder job(Job j) {
    this.job = j;
    this.spec = null;
    this.jobName = null;
    return this;
  }

  /** Declares a complete spec (its num_shards must match {@link #servers}). */
  public ParasolClientBuilder job(JobSpec s) {
    this.spec = s;
    this.job = null;
    this.jobName = null;
    return this;
  }

  /**
   * Joins a job that another process declared, by name: its layout (block ids and lengths)
   * and fingerprint are read from the shards' status; NOT_FOUND if they serve another job.
   */
  public ParasolClientBuilder job(String name) {
    this.jobName = name;
    this.job = null;
    this.spec = null;
    return this;
  }

  /** This worker's index k in 0..m−1 (default 0). */
  public ParasolClientBuilder worker(int k) {
    this.worker = k;
    return this;
  }

  /** The most time one push, status call or Init may take, retries included (30 s). */
  public ParasolClientBuilder deadline(Duration d) {
    this.deadline = positive(d, "deadline");
    return this;
  }

  /** The most time one pull may take, barrier wait and retries included (the deadline). */
  public ParasolClientBuilder pullDeadline(Duration d) {
    this.pullDeadline = positive(d, "pull deadline");
    return this;
  }

  /** Backoff and attempts for transient failures ({@link RetryPolicy#DEFAULT}). */
  public ParasolClientBuilder retries(RetryPolicy policy) {
    this.retry = policy;
    return this;
  }

  /** TLS to the shards ({@link TlsConfig#client}); plaintext when not set. */
  public ParasolClientBuilder tls(TlsConfig config) {
    if (config != null && config.isServer()) {
      throw new IllegalArgumentException("a client needs a client TLS configuration");
    }
    this.tls = config;
    return this;
  }

  /**
   * A bearer token for shards that require one ({@code common.security.Tokens} loads one
   * from a file or variable). With TLS the token is never sent over a plaintext channel;
   * without, it travels in clear text (a warning is logged).
   */
  public ParasolClientBuilder token(String bearerToken) {
    this.token = bearerToken;
    return this;
  }

  /** Background heartbeats on (default) or off. */
  public ParasolClientBuilder heartbeats(boolean on) {
    this.heartbeats = on;
    return this;
  }

  /** The heartbeat period (default: a quarter of the job's lease, at least 50 ms). */
  public ParasolClientBuilder heartbeatPeriod(Duration period) {
    this.heartbeatPeriod = positive(period, "heartbeat period");
    return this;
  }

  /** What runs the heartbeats (default: a daemon thread); tests pass a manual one. */
  public ParasolClientBuilder ticker(Ticker t) {
    this.ticker = t;
    return this;
  }

  /** Interceptors on every channel (tracing, logging, tests). */
  public ParasolClientBuilder intercept(ClientInterceptor... is) {
    interceptors.addAll(List.of(is));
    return this;
  }

  /** gRPC client metrics on {@code r} (none by default). */
  public ParasolClientBuilder meterRegistry(MeterRegistry r) {
    this.registry = r;
    return this;
  }

  /** The wire precision of pushed and pulled values (float32 by default). */
  public ParasolClientBuilder wire(ValueEncoding encoding) {
    this.wire = encoding;
    return this;
  }

  /**
   * Connects: opens one channel per shard, declares the job (Init, idempotent) or finds it by
   * name, and starts the heartbeat.
   *
   * @throws IllegalArgumentException if a setting is missing or inconsistent
   * @throws StatusRuntimeException if the shards refuse the job (FAILED_PRECONDITION: another
   *     job, INVALID_ARGUMENT: a bad spec) or cannot be reached within the deadline
   */
  public ParasolClient build() {
    if (servers == null) {
      throw new IllegalArgumentException("no shard addresses: call servers(...)");
    }
    if (job == null && spec == null && jobName == null) {
      throw new IllegalArgumentException("no job: call job(...)");
    }
    JobSpec declared = job != null ? job.spec(servers.size()) : spec;
    if (declared != null) {
      if (declared.getNumShards() != servers.size()) {
        throw new IllegalArgumentException(servers.size() + " shard addresses for a job of "
            + declared.getNumShards() + " shards");
      }
      checkWorker(declared);
    }
    Duration pd = pullDeadline != null ? pullDeadline : deadline;
    List<ManagedChannel> channels = Channels.open(servers, tls, interceptors, registry);
    CallCredentials creds = null;
    if (token != null) {
      creds = tls != null ? BearerToken.requiringTls(token) : new BearerToken(token);
      if (tls == null) {
        log.warn("the bearer token travels in clear text without TLS");
      }
    }
    PsClient.Transport transport = PsClient.Transport.DEFAULT.withEncoding(wire);
    PsClient ps = null;
    try {
      JobSpec s = declared;
      String fingerprint = null;
      if (s == null) {
        Channels.Joined joined = Channels.find(channels, creds, jobName, deadline, retry);
        s = joined.spec();
        fingerprint = joined.fingerprint();
        checkWorker(s);
      }
      BlockLayout layout = BlockLayout.fromSpecs(s.getBlocksList(), s.getNumShards());
      ps = new PsClient(channels, layout, deadline, pd, retry, creds, true, transport);
      ps.retryBudget(deadline);
      ps.connectTimeout(deadline); // Init waits for shards still starting, within the deadline
      if (declared != null) {
        ps.init(declared);
      } else {
        ps.useJob(jobName, fingerprint);
      }
      ps.retryBudget(deadline.compareTo(pd) >= 0 ? deadline : pd);
      Ticker t = !heartbeats ? null
          : ticker != null ? ticker : Ticker.daemon("parasol-heartbeat-" + worker);
      return new ParasolClient(ps, s, worker, deadline, pd, t, heartbeatPeriod);
    } catch (RuntimeException e) {
      if (ps != null) {
        ps.close();
      } else {
        Channels.close(channels);
      }
      throw e;
    }
  }

  private void checkWorker(JobSpec s) {
    int max = io.parasol.common.JobSpecs.maxWorkers(s);
    if (worker < 0 || worker >= max) {
      throw new IllegalArgumentException("worker must be in 0.." + (max - 1)
          + ", got " + worker);
    }
  }

  private static Duration positive(Duration d, String what) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(what + " must be positive, got " + d);
    }
    return d;
  }
}
