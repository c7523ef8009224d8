package io.parasol.cli.faults;

import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One {@code parasol} command in its own JVM, started from the test classpath, with stdout and
 * stderr going to one log file that the test polls for lines.
 */
final class JvmProcess {
  private static final String JAVA =
      Path.of(System.getProperty("java.home"), "bin", "java").toString();
  private static final long POLL_MILLIS = 50;

  final String name;
  final Process process;
  final Path log;

  private JvmProcess(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
  }

  /** Starts {@code java ... io.parasol.cli.Parasol args}; output goes to dir/name.log. */
  static JvmProcess start(String name, Path dir, List<String> args) throws IOException {
    return start(name, dir, List.of(), Map.of(), args);
  }

  /** As above, with extra JVM options and environment variables. */
  static JvmProcess start(String name, Path dir, List<String> jvmOptions, Map<String, String> env,
      List<String> args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(JAVA, "-Xmx512m", "-XX:+UseSerialGC"));
    cmd.addAll(jvmOptions);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"),
        "io.parasol.cli.Parasol"));
    cmd.addAll(args);
    Path log = dir.resolve(name + ".log");
    for (int i = 1; Files.exists(log); i++) {
      log = dir.resolve(name + "." + i + ".log");
    }
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().put("OMP_NUM_THREADS", "1");
    pb.environment().putAll(env);
    return new JvmProcess(name, pb.start(), log);
  }

  long pid() {
    return process.pid();
  }

  boolean alive() {
    return process.isAlive();
  }

  /** Everything the process wrote so far. */
  String output() {
    try {
      return new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  /** The first line of output matching {@code p} (find, not match). */
  Optional<Matcher> find(Pattern p) {
    for (String line : output().split("\n")) {
      Matcher m = p.matcher(line);
      if (m.find()) {
        return Optional.of(m);
      }
    }
    return Optional.empty();
  }

  /** Waits for a line matching {@code p}; empty if the process exits without writing one. */
  Optional<Matcher> awaitLineOrExit(Pattern p, Duration timeout) throws InterruptedException {
    AtomicReference<Optional<Matcher>> found = new AtomicReference<>();
    try {
      Awaitility.await(name + " writes /" + p + "/").atMost(timeout).pollInSameThread()
          .pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(POLL_MILLIS)).until(() -> {
            boolean wasAlive = alive();
            Optional<Matcher> m = find(p);
            if (m.isPresent() || !wasAlive) {
              found.set(m);
              return true;
            }
            return false;
          });
    } catch (ConditionTimeoutException e) {
      throw new AssertionError(name + ": no line matching /" + p + "/ within " + timeout
          + "; output so far:\n" + tail(40));
    }
    return found.get();
  }

  /** Waits for a line matching {@code p}; fails if the process exits first. */
  Matcher awaitLine(Pattern p, Duration timeout) throws InterruptedException {
    return awaitLineOrExit(p, timeout).orElseThrow(() -> new AssertionError(name
        + " exited with " + process.exitValue() + " before a line matching /" + p
        + "/; output:\n" + tail(40)));
  }

  /** Waits for the process to exit and returns its status; fails at the deadline. */
  int awaitExit(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError(name + " still running after " + timeout + "; output so far:\n"
          + tail(40));
    }
    return process.exitValue();
  }

  /** Sends {@code signal} (e.g. "INT", "TERM") with kill(1). */
  void signal(String signal) throws IOException, InterruptedException {
    Process k = new ProcessBuilder("kill", "-" + signal, Long.toString(pid()))
        .redirectErrorStream(true).start();
    if (!k.waitFor(30, TimeUnit.SECONDS) || k.exitValue() != 0) {
      k.destroyForcibly();
      throw new AssertionError("kill -" + signal + " " + pid() + " failed");
    }
  }

  /** SIGKILL, and wait until it is gone. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new AssertionError(name + " (pid " + pid() + ") survived SIGKILL for 30 s");
    }
  }

  /**
   * Sends {@code SIGSTOP} ({@code stop = true}) or {@code SIGCONT} and waits until
   * /proc/PID/stat shows the process stopped (state T) or running again.
   */
  void freeze(boolean stop, Duration timeout) throws IOException, InterruptedException {
    Process k = new ProcessBuilder("kill", stop ? "-STOP" : "-CONT", Long.toString(pid()))
        .redirectErrorStream(true).start();
    if (!k.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) || k.exitValue() != 0) {
      k.destroyForcibly();
      throw new AssertionError("kill " + (stop ? "-STOP " : "-CONT ") + pid() + " failed");
    }
    Path stat = Path.of("/proc", Long.toString(pid()), "stat");
    char[] state = {'?'};
    try {
      Awaitility.await(name + (stop ? " stopped" : " running")).atMost(timeout)
          .pollInSameThread().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10))
          .until(() -> {
            String s = Files.readString(stat);
            // pid (comm) STATE ...: the state follows the last ')'.
            state[0] = s.charAt(s.lastIndexOf(')') + 2);
            return (state[0] == 'T' || state[0] == 't') == stop;
          });
    } catch (ConditionTimeoutException e) {
      throw new AssertionError(name + " is in state " + state[0] + " after "
          + (stop ? "SIGSTOP" : "SIGCONT"));
    }
  }

  /** The last {@code n} lines of output. */
  String tail(int n) {
    String[] lines = output().split("\n");
    StringBuilder sb = new StringBuilder();
    for (int i = Math.max(0, lines.length - n); i < lines.length; i++) {
      sb.append("  ").append(name).append("| ").append(lines[i]).append('\n');
    }
    return sb.toString();
  }
}
