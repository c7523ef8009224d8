package io.parasol.worker.data;

import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Per-feature scaling fitted on the training set and applied unchanged to other sets, so no
 * statistic of the test set leaks into training.
 */
public enum Scaling {
  /** Leaves features as they are. */
  NONE,
  /** x' = (x - min) / (max - min), mapping the training range to [0, 1]; constant features to 0. */
  MINMAX,
  /** x' = (x - mean) / std (population std); a feature with std 0 is only centred. */
  STANDARD;

  /** The lower-case name, as accepted by {@link #parse}. */
  public String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Parses a scaling name, ignoring case and surrounding blanks.
   *
   * @throws IllegalArgumentException naming the accepted names if {@code name} is none of them
   */
  public static Scaling parse(String name) {
    String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
    for (Scaling s : values()) {
      if (s.cliName().equals(n)) {
        return s;
      }
    }
    throw new IllegalArgumentException("unknown scaling '" + name + "'; expected one of "
        + Arrays.stream(values()).map(Scaling::cliName).collect(Collectors.joining(", ")));
  }

  /** Computes this scaling's per-feature statistics on {@code train}. */
  public Fitted fit(Dataset train) {
    Objects.requireNonNull(train, "train");
    int n = train.numExamples();
    int d = train.numFeatures();
    float[] x = train.features();
    double[] shift = new double[d];
    double[] mul = new double[d];
    switch (this) {
      case NONE -> Arrays.fill(mul, 1);
      case MINMAX -> {
        double[] min = new double[d];
        double[] max = new double[d];
        Arrays.fill(min, Double.POSITIVE_INFINITY);
        Arrays.fill(max, Double.NEGATIVE_INFINITY);
        for (int i = 0; i < n; i++) {
          for (int j = 0; j < d; j++) {
            float v = x[i * d + j];
            min[j] = Math.min(min[j], v);
            max[j] = Math.max(max[j], v);
          }
        }
        for (int j = 0; j < d; j++) {
          double range = max[j] - min[j];
          shift[j] = n == 0 ? 0 : min[j];
          mul[j] = range > 0 ? 1 / range : 0;
        }
      }
      case STANDARD -> {
        double[] sum = new double[d];
        for (int i = 0; i < n; i++) {
          for (int j = 0; j < d; j++) {
            sum[j] += x[i * d + j];
          }
        }
        double[] sq = new double[d];
        for (int j = 0; j < d; j++) {
          shift[j] = n == 0 ? 0 : sum[j] / n;
        }
        for (int i = 0; i < n; i++) {
          for (int j = 0; j < d; j++) {
            double c = x[i * d + j] - shift[j];
            sq[j] += c * c;
          }
        }
        for (int j = 0; j < d; j++) {
          double std = n == 0 ? 0 : Math.sqrt(sq[j] / n);
          mul[j] = std > 0 ? 1 / std : 1;
        }
      }
      default -> throw new AssertionError(this);
    }
    return new Fitted(this, d, shift, mul);
  }

  /** A scaling with its statistics: x'[j] = (x[j] - shift[j]) * multiplier[j]. */
  public static final class Fitted {
    private final Scaling kind;
    private final int numFeatures;
    private final double[] shift;
    private final double[] multiplier;

    private Fitted(Scaling kind, int numFeatures, double[] shift, double[] multiplier) {
      this.kind = kind;
      this.numFeatures = numFeatures;
      this.shift = shift;
      this.multiplier = multiplier;
    }

    public Scaling kind() {
      return kind;
    }

    /** The value subtracted from feature j (min or mean). */
    public double shift(int j) {
      return shift[j];
    }

    /** The factor feature j is multiplied by after the shift (1/range or 1/std). */
    public double multiplier(int j) {
      return multiplier[j];
    }

    /** Scaled copy of {@code d} with the same targets ({@code d} itself for NONE). */
    public Dataset apply(Dataset d) {
      Objects.requireNonNull(d, "d");
      if (d.numFeatures() != numFeatures) {
        throw new IllegalArgumentException("scaling was fitted on " + numFeatures
            + " features but the data set has " + d.numFeatures());
      }
      if (kind == NONE) {
        return d;
      }
      float[] in = d.features();
      float[] out = new float[in.length];
      int dim = numFeatures;
      for (int i = 0; i < d.numExamples(); i++) {
        int base = i * dim;
        for (int j = 0; j < dim; j++) {
          out[base + j] = (float) ((in[base + j] - shift[j]) * multiplier[j]);
        }
      }
      return new Dataset(d.numExamples(), dim, out, d.targets().clone(), d.numClasses());
    }
  }
}
