package io.parasol.experiments.bench;

import io.parasol.experiments.runner.Json;
import java.util.Map;
import picocli.CommandLine.Option;

/** Picocli mixin of every bench: {@code --json}, and printing the figures either way. */
public final class JsonOutput {
  @Option(names = "--json", description = "Print the figures as JSON.")
  boolean json;

  /** Prints {@code result} as JSON or as the bench's table. */
  void print(Map<String, Object> result, String table) {
    System.out.print(json ? Json.write(result) : table);
  }
}
