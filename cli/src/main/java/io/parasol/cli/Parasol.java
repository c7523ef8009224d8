package io.parasol.cli;

import io.grpc.StatusRuntimeException;
import io.parasol.server.ServerCommand;
import io.parasol.worker.train.DivergenceWatch;
import java.io.UncheckedIOException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code parasol} command: local, server, worker, experiment, bench and health. */
@Command(name = "parasol", mixinStandardHelpOptions = true, version = "parasol 0.1.0",
    description = "A parameter server for distributed SGD over gRPC.",
    subcommands = {LocalCommand.class, ServerCommand.class, WorkerCommand.class,
        io.parasol.experiments.bench.BenchCommand.class,
        ExperimentCommand.class, io.parasol.server.HealthCommand.class, ModelCommand.class})
public final class Parasol implements Runnable {
  /** Exit status of a run whose training loss diverged (see --allow-divergence). */
  public static final int EXIT_DIVERGED = 3;

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  /** The command line with Parasol's error handling: one line, non-zero exit, no trace. */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Parasol());
    cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
      String msg;
      if (ex instanceof DivergenceWatch.DivergedException de) {
        cmd.getErr().println("parasol " + cmd.getCommandName() + ": error: " + de.getMessage());
        return EXIT_DIVERGED;
      }
      if (ex instanceof StatusRuntimeException sre) {
        msg = "RPC failed: " + sre.getStatus().getCode() + ": " + sre.getStatus().getDescription();
      } else if (ex instanceof IllegalArgumentException || ex instanceof UncheckedIOException
          || ex instanceof java.io.IOException || ex instanceof IllegalStateException) {
        msg = ex.getMessage();
      } else {
        msg = ex.toString();
      }
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
    System.exit(commandLine().execute(args));
  }
}
