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
    CommandLine cl = new CommandLine(new ShardMain());
    cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
      String msg = ex instanceof StatusRuntimeException sre
          ? "RPC failed: " + sre.getStatus().getCode() + ": " + sre.getStatus().getDescription()
          : ex instanceof IllegalArgumentException || ex instanceof IllegalStateException
              || ex instanceof java.io.IOException || ex instanceof java.io.UncheckedIOException
              ? ex.getMessage() : ex.toString();
      cmd.getErr().println("parasol " + cmd.getCommandName() + ": error: " + msg);
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

  public static void main(String[] args) {
    // The full jar's logback.xml is not on this jar's path; the shard's own configuration is
    // (a second logback.xml would make logback warn on every start of the full jar).
    if (System.getProperty("logback.configurationFile") == null) {
      System.setProperty("logback.configurationFile", "io/parasol/server/shard-logback.xml");
    }
    System.exit(commandLine().execute(args));
  }
}
