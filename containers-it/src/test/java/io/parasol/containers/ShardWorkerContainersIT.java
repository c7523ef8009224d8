package io.parasol.containers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.WaitContainerResultCallback;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.HealthCheck;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.output.Slf4jLogConsumer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.lifecycle.Startables;
import org.testcontainers.utility.DockerImageName;

/**
 * The shard and worker images of docker/Dockerfile in a real job: two shard containers and three
 * worker containers on the host's network (every connection on 127.0.0.1), training async
 * softmax regression on the bundled digits for 5 epochs. Checks worker 0's final test accuracy,
 * the staleness histogram on the shards' {@code /metrics}, and {@code parasol health} inside the
 * server image.
 *
 * <p>Shards listen on {@code --port 0} and the test reads the bound port from their start-up
 * line, so gRPC ports never race. A metrics port cannot be 0 (0 turns metrics off): the test
 * asks the kernel for a free ephemeral port and releases it just before the shard binds it, a
 * window in which only another process binding that same port could interfere.
 *
 * <p>Runs under {@code -Pcontainers} only (.ci/containers builds the images, then runs it).
 * Without a Docker daemon or the images it fails with a message saying which; it is never
 * skipped (hence no {@code @Testcontainers(disabledWithoutDocker = true)}: the containers are
 * started and stopped here, where their ports are known). No registry is needed: Ryuk is off and
 * the images are local; containers are stopped and removed by the test and {@link #stopShards()}.
 */
class ShardWorkerContainersIT {
  private static final Logger log = LoggerFactory.getLogger(ShardWorkerContainersIT.class);
  private static final String SERVER_IMAGE =
      System.getProperty("parasol.image.server", "parasol/server:local");
  private static final String WORKER_IMAGE =
      System.getProperty("parasol.image.worker", "parasol/worker:local");
  private static final int SHARDS = 2;
  private static final int WORKERS = 3;
  private static final String JOB_FLAGS =
      "--mode async --shards 2 --workers 3 --model softmax --data digits --epochs 5 --seed 1";
  private static final Duration START_TIMEOUT = Duration.ofMinutes(2);
  private static final long JOB_TIMEOUT_MINUTES = 5;
  private static final Pattern LISTENING =
      Pattern.compile("shard (\\d+)/\\d+ listening on 127\\.0\\.0\\.1:(\\d+)");
  private static final Pattern DONE =
      Pattern.compile("worker 0 done: (\\d+) steps, .* test acc ([0-9.]+)");
  private static final Pattern STALENESS_COUNT = Pattern.compile(
      "^parasol_shard_staleness_updates_count\\{([^}]*)\\} ([0-9.eE+-]+)$", Pattern.MULTILINE);

  private static final List<GenericContainer<?>> shards = new ArrayList<>();
  private static final int[] grpcPorts = new int[SHARDS];
  private static final int[] metricsPorts = new int[SHARDS];

  @BeforeAll
  static void startShards() throws IOException {
    assertThat(DockerClientFactory.instance().isDockerAvailable())
        .as("a Docker daemon at DOCKER_HOST=%s: the -Pcontainers tests need one (.ci/containers"
            + " starts it)", System.getenv("DOCKER_HOST"))
        .isTrue();
    DockerClient docker = DockerClientFactory.instance().client();
    for (String image : List.of(SERVER_IMAGE, WORKER_IMAGE)) {
      try {
        docker.inspectImageCmd(image).exec();
      } catch (NotFoundException e) {
        fail("image " + image + " is not built: build it with docker/Dockerfile (see"
            + " docs/deploy-compose.md, or run .ci/containers)");
      }
    }
    for (int s = 0; s < SHARDS; s++) {
      metricsPorts[s] = freeLoopbackPort();
      GenericContainer<?> shard = new GenericContainer<>(DockerImageName.parse(SERVER_IMAGE))
          .withNetworkMode("host")
          .withCommand("server", "--shard", String.valueOf(s), "--shards",
              String.valueOf(SHARDS), "--host", "127.0.0.1", "--port", "0",
              "--metrics-port", String.valueOf(metricsPorts[s]))
          // The image's HEALTHCHECK probes PARASOL_HEALTH_TARGET, a fixed port; these shards
          // pick theirs. The health command is checked with the port they print instead.
          .withCreateContainerCmdModifier(cmd -> cmd.withHealthcheck(
              new HealthCheck().withTest(List.of("NONE"))))
          .withLogConsumer(new Slf4jLogConsumer(log).withPrefix("shard-" + s))
          .waitingFor(Wait.forLogMessage(".*" + LISTENING.pattern() + ".*\\n", 1)
              .withStartupTimeout(START_TIMEOUT));
      shards.add(shard);
      shard.start();
      Matcher m = LISTENING.matcher(shard.getLogs());
      assertThat(m.find()).as("shard %d's start-up line", s).isTrue();
      assertThat(Integer.parseInt(m.group(1))).isEqualTo(s);
      grpcPorts[s] = Integer.parseInt(m.group(2));
    }
  }

  @AfterAll
  static void stopShards() {
    shards.forEach(GenericContainer::stop);
  }

  @Test
  void healthCommand_inServerImage_answersForTheShard() throws Exception {
    GenericContainer<?> shard = shards.get(0);
    String target = "127.0.0.1:" + grpcPorts[0];

    ExecResult serving = shard.execInContainer("parasol", "health", "--target", target);
    assertThat(serving.getExitCode()).as(serving.getStderr()).isZero();
    assertThat(serving.getStdout().strip()).isEqualTo(target + ": SERVING");

    ExecResult service = shard.execInContainer("parasol", "health", "--target", target,
        "--service", "parasol.v1.Shard");
    assertThat(service.getExitCode()).as(service.getStderr()).isZero();

    ExecResult unknown = shard.execInContainer("parasol", "health", "--target", target,
        "--service", "no.such.Service");
    assertThat(unknown.getExitCode()).isEqualTo(1);
    assertThat(unknown.getStderr()).contains("NOT_FOUND");
  }

  @Test
  void asyncJob_onShardAndWorkerContainers_reachesAccuracyAndExportsStaleness()
      throws Exception {
    String servers = "127.0.0.1:" + grpcPorts[0] + ",127.0.0.1:" + grpcPorts[1];
    List<GenericContainer<?>> workers = new ArrayList<>();
    try {
      for (int k = 0; k < WORKERS; k++) {
        workers.add(new GenericContainer<>(DockerImageName.parse(WORKER_IMAGE))
            .withNetworkMode("host")
            // The job flags come from the environment, as docker/job.env gives them in compose.
            .withEnv(Map.of("PARASOL_JOB_FLAGS", JOB_FLAGS, "OMP_NUM_THREADS", "1"))
            .withCommand("worker", "--worker", String.valueOf(k), "--servers", servers)
            .withLogConsumer(new Slf4jLogConsumer(log).withPrefix("worker-" + k))
            .waitingFor(Wait.forLogMessage(".*worker " + k + "/" + WORKERS + ": job .*\\n", 1)
                .withStartupTimeout(START_TIMEOUT)));
      }
      Startables.deepStart(workers).join();
      DockerClient docker = DockerClientFactory.instance().client();
      for (int k = 0; k < WORKERS; k++) {
        Integer exit = docker.waitContainerCmd(workers.get(k).getContainerId())
            .exec(new WaitContainerResultCallback())
            .awaitStatusCode(JOB_TIMEOUT_MINUTES, TimeUnit.MINUTES);
        assertThat(exit).as("worker %d's exit status; its output:%n%s", k,
            workers.get(k).getLogs()).isZero();
      }

      Matcher done = DONE.matcher(workers.get(0).getLogs());
      assertThat(done.find()).as("worker 0's last line in:%n%s", workers.get(0).getLogs())
          .isTrue();
      double accuracy = Double.parseDouble(done.group(2));
      log.info("worker 0: {} steps, test accuracy {}", done.group(1), accuracy);
      assertThat(accuracy).isGreaterThanOrEqualTo(0.90);
    } finally {
      workers.forEach(GenericContainer::stop);
    }

    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    for (int s = 0; s < SHARDS; s++) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + metricsPorts[s] + "/metrics"))
          .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      String body = r.body();
      assertThat(body).as("shard %d's /metrics", s)
          .contains("parasol_shard_staleness_updates_bucket{")
          .containsPattern("parasol_shard_staleness_updates_bucket\\{[^}]*le=\"0\\.5\"");
      double updates = 0;
      Matcher m = STALENESS_COUNT.matcher(body);
      while (m.find()) {
        assertThat(m.group(1)).contains("mode=\"async\"").contains("shard=\"" + s + "\"");
        updates += Double.parseDouble(m.group(2));
      }
      log.info("shard {}: {} staleness samples", s, updates);
      assertThat(updates).as("shard %d's staleness samples", s).isPositive();
    }
  }

  /** A port the kernel considers free on 127.0.0.1 now; released on return. */
  private static int freeLoopbackPort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      return socket.getLocalPort();
    }
  }
}
