package io.parasol.experiments;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/**
 * One of the seeds' claims, run against the real system (shards and workers over loopback
 * gRPC) and reported as measured beside predicted figures.
 */
public interface Experiment {

  /** Command-line name. */
  String name();

  /** What it tests and the formula it checks, in a sentence or two (for the report). */
  String description();

  /** Runs the experiment, writing its CSV and plots into {@code dir}. */
  List<Row> run(boolean quick, Path dir, PrintStream out) throws Exception;

  /**
   * One line of the result table. A quantitative row has a prediction and a ratio; a
   * qualitative row (an ordering the theory predicts) has {@code predicted} NaN and says in
   * {@code holds} whether the ordering was observed.
   */
  record Row(String quantity, double measured, double predicted, String unit, Boolean holds) {
    public static Row compare(String quantity, double measured, double predicted, String unit) {
      return new Row(quantity, measured, predicted, unit, null);
    }

    public static Row check(String claim, double measured, boolean holds, String unit) {
      return new Row(claim, measured, Double.NaN, unit, holds);
    }

    public double ratio() {
      return measured / predicted;
    }

    public boolean quantitative() {
      return !Double.isNaN(predicted);
    }
  }
}
