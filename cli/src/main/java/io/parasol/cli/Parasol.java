package io.parasol.cli;

import io.parasol.server.ServerCommand;
import io.parasol.worker.train.DivergenceWatch;
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
    CommandLine cl = io.parasol.server.ShardMain.withOneLineErrors(new CommandLine(new Parasol()));
    cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
      boolean diverged = ex instanceof DivergenceWatch.DivergedException;
      cmd.getErr().println("parasol " + cmd.getCommandName() + ": error: "
          + (diverged ? ex.getMessage() : io.parasol.server.ShardMain.oneLine(ex)));
      return diverged ? EXIT_DIVERGED : 2;
    });
    return cl;
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }
}
