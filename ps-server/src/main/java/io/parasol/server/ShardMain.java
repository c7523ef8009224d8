package io.parasol.server;

import io.grpc.StatusRuntimeException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The shard image's command line, {@code java -jar parasol-server.jar server|health ...}: the
 * same {@code server} and {@code health} commands as the full {@code parasol} jar, without the
 * worker's dependencies (no ND4J), so a shard image is a JRE, gRPC and this module.
 */
@Command(name = "parasol", mixinStandardHelpOptions = true, version = "parasol 0.1.0",
    description = "A Parasol shard: serve blocks (server) or check one (health).",
    subcommands = {ServerCommand.class, HealthCommand.class})
public final class ShardMain implements Runnable {

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  /** The command line with one-line errors and a non-zero exit, as the full jar's. */
  public static CommandLine commandLine() {
    return withOneLineErrors(new CommandLine(new ShardMain()));
  }

  /**
   * Parasol's error handling on {@code cl}: a failed command prints one line
   * ("parasol CMD: error: ...") and exits 2; bad flags say so and point at --help.
   */
  public static CommandLine withOneLineErrors(CommandLine cl) {
    cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
      cmd.getErr().println("parasol " + cmd.getCommandName() + ": error: " + oneLine(ex));
      return 2;
    });
    cl.setParameterExceptionHandler((ex, args) -> {
      CommandLine cmd = ex.getCommandLine();
      cmd.getErr().println("parasol " + cmd.getCommandName() + ": error: " + ex.getMessage()
          + " (see --help)");
      return 2;
    });
    return cl;
  }

  /** What a failure says in one line: an RPC's status, or the message of a user's error. */
  public static String oneLine(Throwable ex) {
    if (ex instanceof StatusRuntimeException sre) {
      return "RPC failed: " + sre.getStatus().getCode() + ": " + sre.getStatus().getDescription();
    }
    if (ex instanceof IllegalArgumentException || ex instanceof IllegalStateException
        || ex instanceof java.io.IOException || ex instanceof java.io.UncheckedIOException) {
      return ex.getMessage();
    }
    return ex.toString();
  }

  public static void main(String[] args) {
    // The full jar's logback.xml is not on this jar's path; the shard's own configuration is
    // (a second logback.xml would make logback warn on every start of the full jar).
    if (System.getProperty("logback.configurationFile") == null) {
      System.setProperty("logback.configurationFile", "io/parasol/server/shard-logback.xml");
    }
    System.exit(commandLine().execute(args));
  }
}
