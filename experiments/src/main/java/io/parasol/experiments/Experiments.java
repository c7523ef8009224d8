package io.parasol.experiments;

import io.parasol.experiments.Experiment.Row;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The registry of experiments and the runner behind {@code parasol experiment}. */
public final class Experiments {
  private Experiments() {}

  /** Every experiment, in the order {@code all} runs them. */
  public static Map<String, Experiment> all() {
    Map<String, Experiment> m = new LinkedHashMap<>();
    for (Experiment e : List.of(new SyncRuntimeExperiment(), new StalenessExperiment(),
        new ErrorFloorExperiment(), new LocalSpeedupExperiment(), new AoiExperiment())) {
      m.put(e.name(), e);
    }
    return m;
  }

  /** One experiment's outcome. */
  public record Outcome(String name, Path dir, List<Row> rows, double seconds) {}

  /**
   * Runs {@code names} ("all" for every one), each into its own folder under {@code base}, and
   * writes {@code base/results.md} with every table.
   */
  public static List<Outcome> run(List<String> names, boolean quick, Path base, PrintStream out)
      throws Exception {
    Map<String, Experiment> known = all();
    List<Experiment> chosen = new ArrayList<>();
    for (String n : names) {
      if (n.equals("all")) {
        chosen.addAll(known.values());
      } else if (known.containsKey(n)) {
        chosen.add(known.get(n));
      } else {
        throw new IllegalArgumentException("unknown experiment '" + n + "'; expected all or one"
            + " of " + String.join(", ", known.keySet()));
      }
    }
    Files.createDirectories(base);
    List<Outcome> outcomes = new ArrayList<>();
    StringBuilder md = new StringBuilder("# Parasol experiments" + (quick ? " (quick)" : "")
        + "\n\n");
    for (Experiment e : chosen) {
      Path dir = base.resolve(e.name());
      Files.createDirectories(dir);
      out.println("== " + e.name() + ": " + e.description());
      long t0 = System.nanoTime();
      List<Row> rows = e.run(quick, dir, out);
      double secs = (System.nanoTime() - t0) / 1e9;
      String table = Runs.writeTable(dir, e.name(), rows);
      out.println(table);
      out.printf(Locale.ROOT, "(%s took %.1f s; files in %s)%n%n", e.name(), secs, dir);
      md.append(e.description()).append("\n\n").append(table).append('\n');
      outcomes.add(new Outcome(e.name(), dir, rows, secs));
    }
    Files.writeString(base.resolve("results.md"), md.toString(), StandardCharsets.UTF_8);
    return outcomes;
  }
}
