package io.parasol.experiments;

import io.parasol.worker.data.Dataset;
import io.parasol.worker.data.Scaling;
import io.parasol.experiments.Experiment.Row;
import io.parasol.server.LocalCluster;
import io.parasol.experiments.runner.LocalRunner;
import io.parasol.experiments.report.Csv;
import io.parasol.worker.train.Arrivals;
import io.parasol.worker.train.DelayModel;
import io.parasol.worker.train.JobSettings;
import io.parasol.worker.train.TrainingData;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/** What the experiments share: data, a way to run a job, and the result table. */
final class Runs {
  private Runs() {}

  private static TrainingData digits;
  private static TrainingData binaryDigits;
  private static TrainingData digitsRegression;

  static synchronized TrainingData digits() {
    if (digits == null) {
      digits = TrainingData.load("digits", null, -1, false, false, 0.2, Scaling.MINMAX, 1);
    }
    return digits;
  }

  /** Digits with the digit as a real-valued target, for least-squares regression. */
  static synchronized TrainingData digitsRegression() {
    if (digitsRegression == null) {
      digitsRegression = TrainingData.load("digits", null, -1, false, true, 0.2,
          Scaling.MINMAX, 1);
    }
    return digitsRegression;
  }

  /** Digits with the label "digit >= 5", for the logistic model. */
  static synchronized TrainingData binaryDigits() {
    if (binaryDigits == null) {
      TrainingData d = digits();
      binaryDigits = new TrainingData("digits>=5", binary(d.train()), binary(d.test()));
    }
    return binaryDigits;
  }

  private static Dataset binary(Dataset d) {
    float[] y = new float[d.numExamples()];
    for (int i = 0; i < y.length; i++) {
      y[i] = d.targets()[i] >= 5 ? 1f : 0f;
    }
    return new Dataset(d.numExamples(), d.numFeatures(), d.features(), y, 2);
  }

  /** A job description for {@link #run}. */
  static final class Job {
    JobSettings settings;
    String model = "softmax";
    TrainingData data = digits();
    int batchSize = 32;
    long steps;
    int evalEvery = 0;
    DelayModel compute = DelayModel.NONE;
    DelayModel comm = DelayModel.NONE;
    Arrivals arrivals = Arrivals.ALWAYS;
    Consumer<LocalCluster> onStart;
    boolean estimateLipschitz;

    Job(JobSettings settings, long steps) {
      this.settings = settings;
      this.steps = steps;
    }
  }

  private static boolean warm;

  /**
   * Runs a throwaway job once per JVM, so the JIT has compiled the hot paths before anything
   * is timed.
   */
  static synchronized void warmUp() throws IOException, InterruptedException {
    if (!warm) {
      run(new Job(JobSettings.defaults(io.parasol.proto.v1.Mode.MODE_SYNC, 1, 4, 0.1f), 150));
      run(new Job(JobSettings.builder(io.parasol.proto.v1.Mode.MODE_LOCAL, 1, 4, 0.1f)
          .localSteps(4).build(), 150));
      warm = true;
    }
  }

  static LocalRunner.Summary run(Job j) throws IOException, InterruptedException {
    // Experiments watch runs diverge (the error floor's fixed-rate async rows): divergence is
    // a measured outcome here, not an error.
    LocalRunner.Options o = LocalRunner.Options.builder(j.settings, j.model, j.data)
        .batchSize(j.batchSize).epochs(0).steps(j.steps).evalEvery(j.evalEvery)
        .timeouts(Duration.ofSeconds(60), Duration.ofSeconds(300)).computeDelay(j.compute)
        .commDelay(j.comm).arrivals(j.arrivals).allowDivergence(true)
        .estimateLipschitz(j.estimateLipschitz).build();
    return LocalRunner.run(o, null, null, null, j.onStart);
  }

  /** H_m = 1 + 1/2 + ... + 1/m. */
  static double harmonic(int m) {
    double h = 0;
    for (int k = 1; k <= m; k++) {
      h += 1.0 / k;
    }
    return h;
  }

  /** Writes table.md and table.csv; returns the markdown. */
  static String writeTable(Path dir, String title, List<Row> rows) throws IOException {
    StringBuilder md = new StringBuilder();
    md.append("### ").append(title).append("\n\n");
    md.append("| quantity | measured | predicted | ratio |\n| --- | --- | --- | --- |\n");
    List<Object[]> csv = new ArrayList<>();
    for (Row r : rows) {
      String unit = r.unit().isEmpty() ? "" : " " + r.unit();
      if (r.quantitative()) {
        md.append(String.format(Locale.ROOT, "| %s | %.4g%s | %.4g%s | %.3f |%n", r.quantity(),
            r.measured(), unit, r.predicted(), unit, r.ratio()));
      } else {
        md.append(String.format(Locale.ROOT, "| %s | %.4g%s | %s | %s |%n", r.quantity(),
            r.measured(), unit, "ordering", r.holds() ? "holds" : "does not hold"));
      }
      csv.add(new Object[] {r.quantity(), r.measured(), r.quantitative() ? r.predicted() : null,
          r.quantitative() ? r.ratio() : null, r.holds(), r.unit()});
    }
    Files.writeString(dir.resolve("table.md"), md.toString(), StandardCharsets.UTF_8);
    Csv.writeObjects(dir.resolve("table.csv"),
        List.of("quantity", "measured", "predicted", "ratio", "holds", "unit"), csv);
    return md.toString();
  }

  static double[] seq(int n, java.util.function.IntToDoubleFunction f) {
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      out[i] = f.applyAsDouble(i);
    }
    return out;
  }
}
