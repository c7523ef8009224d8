package io.parasol.cli;

import io.parasol.experiments.Experiments;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code parasol experiment NAME...}: the seeds' claims against the real system. */
@Command(name = "experiment", mixinStandardHelpOptions = true,
    description = "Run the seeds' experiments on embedded clusters over loopback gRPC and print"
        + " measured beside predicted figures: sync-runtime, staleness, error-floor,"
        + " local-speedup, aoi, or all.")
public final class ExperimentCommand implements Callable<Integer> {
  @Parameters(arity = "1..*", paramLabel = "NAME",
      description = "sync-runtime, staleness, error-floor, local-speedup, aoi, or all.")
  List<String> names;

  @Option(names = "--quick", description = "Shorter runs with looser agreement (for tests).")
  boolean quick;

  @Option(names = "--out", description = "Output folder (default: runs/experiments/<time>).")
  Path out;

  @Override
  public Integer call() throws Exception {
    Path base = out != null ? out : Path.of("runs", "experiments",
        LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    Experiments.run(names, quick, base, System.out);
    System.out.println("results: " + base.resolve("results.md").toAbsolutePath().normalize());
    return 0;
  }
}
