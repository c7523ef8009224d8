package io.parasol.experiments;

import static org.assertj.core.api.Assertions.assertThat;

import io.parasol.experiments.Experiment.Row;
import io.parasol.experiments.report.Csv;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every experiment's --quick run against the real system: the measured/predicted ratios of
 * the experiments that measure counts (staleness, Age of Information) lie within tolerant
 * bounds; those that measure wall time (sync-runtime, local-speedup: injected delays against
 * the clock) report finite, positive speed-ups, and their comparison with theory is the
 * experiment's printed figure (docs/experiments.md), not an assertion: a test must hold on a
 * loaded machine, where wall time is not the model's. The CSV, PNG and markdown files exist and
 * parse.
 */
@Tag("slow")
class ExperimentsQuickTest {
  @TempDir
  static Path base;

  private static Map<String, Experiments.Outcome> outcomes;

  /** Quick-mode bounds on measured/predicted, per experiment that measures no wall time. */
  private static final Map<String, double[]> BOUNDS = Map.of(
      "staleness", new double[] {0.7, 1.15},
      "aoi", new double[] {0.8, 1.15});

  /** Experiments whose quantities are wall-clock ratios. */
  private static final List<String> TIMED = List.of("sync-runtime", "local-speedup");

  @BeforeAll
  static void runAll() throws Exception {
    outcomes = new java.util.LinkedHashMap<>();
    for (Experiments.Outcome o : Experiments.run(List.of("all"), true, base, System.out)) {
      outcomes.put(o.name(), o);
    }
  }

  @Test
  void everyExperiment_ranAndWroteItsFiles() throws IOException {
    assertThat(outcomes.keySet()).containsExactly("sync-runtime", "staleness", "error-floor",
        "local-speedup", "aoi");
    assertThat(Files.readString(base.resolve("results.md"))).contains("| quantity |");
    for (Experiments.Outcome o : outcomes.values()) {
      List<String[]> table = Csv.read(o.dir().resolve("table.csv"));
      assertThat(table).hasSize(o.rows().size() + 1);
      assertThat(Files.readString(o.dir().resolve("table.md"))).contains("| measured |");
      try (Stream<Path> files = Files.list(o.dir())) {
        List<Path> pngs = files.filter(p -> p.toString().endsWith(".png")).toList();
        assertThat(pngs).as(o.name() + " plots").isNotEmpty();
        for (Path png : pngs) {
          BufferedImage img = ImageIO.read(png.toFile());
          assertThat(img).as(png.toString()).isNotNull();
          assertThat(img.getWidth()).isGreaterThan(100);
        }
      }
      try (Stream<Path> files = Files.list(o.dir())) {
        for (Path c : files.filter(p -> p.toString().endsWith(".csv")).toList()) {
          assertThat(Csv.read(c)).as(c.toString()).hasSizeGreaterThan(1);
        }
      }
    }
  }

  @Test
  void quantitativeRows_matchTheirPredictionsWithinQuickBounds() {
    for (var e : BOUNDS.entrySet()) {
      List<Row> rows = outcomes.get(e.getKey()).rows();
      assertThat(rows.stream().filter(Row::quantitative)).isNotEmpty();
      for (Row r : rows) {
        if (r.quantitative()) {
          assertThat(r.ratio()).as(e.getKey() + ": " + r.quantity())
              .isBetween(e.getValue()[0], e.getValue()[1]);
        }
      }
    }
  }

  @Test
  void timedRows_reportFinitePositiveRatios() {
    for (String name : TIMED) {
      List<Row> rows = outcomes.get(name).rows();
      assertThat(rows.stream().filter(Row::quantitative)).as(name).isNotEmpty();
      for (Row r : rows) {
        if (r.quantitative()) {
          assertThat(r.ratio()).as(name + ": " + r.quantity()).isFinite().isPositive();
        }
      }
    }
  }

  @Test
  void qualitativeRows_reportFiniteMeasurements() {
    for (Experiments.Outcome o : outcomes.values()) {
      for (Row r : o.rows()) {
        if (!r.quantitative()) {
          assertThat(r.holds()).as(r.quantity()).isNotNull();
          assertThat(r.measured()).as(r.quantity()).isFinite();
        }
      }
    }
    // The orderings that quick runs show reliably.
    assertThat(row("error-floor", "eta/tau below fixed-rate").holds()).isTrue();
    assertThat(row("error-floor", "sync floor below fixed-rate").holds()).isTrue();
    assertThat(row("local-speedup", "final loss grows with tau").holds()).isTrue();
  }

  private static Row row(String experiment, String fragment) {
    return outcomes.get(experiment).rows().stream()
        .filter(r -> r.quantity().contains(fragment)).findFirst().orElseThrow();
  }
}
