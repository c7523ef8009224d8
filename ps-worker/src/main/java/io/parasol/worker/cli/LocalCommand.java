package io.parasol.worker.cli;

import io.parasol.worker.local.LocalRunner;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code parasol local}: the embedded cluster. */
@Command(name = "local", mixinStandardHelpOptions = true,
    description = "Train on an embedded cluster: S shards and M workers in one JVM over real"
        + " gRPC on 127.0.0.1. With no flags: softmax on the bundled digits, async, 2 shards,"
        + " 4 workers.")
public final class LocalCommand implements Callable<Integer> {
  @Mixin
  JobOptions job;

  @Option(names = "--summary-json", description = "Write the run's summary as JSON to PATH.")
  Path summaryJson;

  @Option(names = "--quiet", description = "Print only the summary.")
  boolean quiet;

  @Override
  public Integer call() throws Exception {
    LocalRunner.Options o = new LocalRunner.Options(job.settings(), job.model, job.loadData(),
        job.batchSize, job.epochs, job.steps, job.evalEvery, job.rpcTimeout(),
        job.pullTimeout());
    LocalRunner.Summary s = LocalRunner.run(o, null, quiet ? null : System.out);
    System.out.print(LocalRunner.table(s));
    if (summaryJson != null) {
      Path parent = summaryJson.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Files.writeString(summaryJson, s.toJson(), StandardCharsets.UTF_8);
      System.out.println("summary written to " + summaryJson);
    }
    return 0;
  }
}
