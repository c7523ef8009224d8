package io.parasol.worker.data;

import java.util.Arrays;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Deterministic ways to divide a {@link Dataset}: a shuffled train/test split, contiguous
 * (IID) partitions for workers, and a Dirichlet label-skew (non-IID) partition.
 *
 * <p>All randomness comes from a {@link SplittableRandom} seeded by the caller, so every process
 * that calls these with the same data and seed gets the same result.
 */
public final class Splits {

  private Splits() {}

  /** A train/test split. */
  public record Split(Dataset train, Dataset test) {}

  /**
   * Shuffles the examples (Fisher-Yates with {@code seed}) and puts the first {@code
   * round(n * testFraction)} of them in the test set, the rest, in shuffled order, in the
   * training set. Both sets get at least one example.
   *
   * @throws IllegalArgumentException if {@code testFraction} is not in (0, 1) or there are fewer
   *     than 2 examples
   */
  public static Split trainTest(Dataset d, double testFraction, long seed) {
    Objects.requireNonNull(d, "d");
    if (!(testFraction > 0 && testFraction < 1)) {
      throw new IllegalArgumentException("test fraction must be in (0, 1), got " + testFraction);
    }
    int n = d.numExamples();
    if (n < 2) {
      throw new IllegalArgumentException(
          "cannot split " + n + " example(s) into a training and a test set");
    }
    int nTest = (int) Math.min(n - 1, Math.max(1, Math.round(n * testFraction)));
    int[] perm = permutation(n, new SplittableRandom(seed));
    return new Split(subset(d, Arrays.copyOfRange(perm, nTest, n)),
        subset(d, Arrays.copyOfRange(perm, 0, nTest)));
  }

  /**
   * Part {@code part} of {@code numParts} contiguous, nearly equal parts of {@code train}: the
   * first {@code n % numParts} parts have one example more than the others. Meant for a training
   * set that {@link #trainTest} has already shuffled.
   */
  public static Dataset partition(Dataset train, int numParts, int part) {
    Objects.requireNonNull(train, "train");
    checkParts(train, numParts);
    if (part < 0 || part >= numParts) {
      throw new IllegalArgumentException(
          "part must be in 0.." + (numParts - 1) + ", got " + part);
    }
    int n = train.numExamples();
    int base = n / numParts;
    int extra = n % numParts;
    int start = part * base + Math.min(part, extra);
    int len = base + (part < extra ? 1 : 0);
    int d = train.numFeatures();
    return new Dataset(len, d,
        Arrays.copyOfRange(train.features(), start * d, (start + len) * d),
        Arrays.copyOfRange(train.targets(), start, start + len), train.numClasses());
  }

  /**
   * A label-skewed non-IID partition: for each class, the proportions of its examples that go to
   * each part are drawn from a symmetric Dirichlet(alpha) (Hsu, Qi and Brown, "Measuring the
   * Effects of Non-Identical Data Distribution for Federated Visual Classification", 2019).
   * Small alpha (e.g. 0.1) gives parts dominated by few classes; large alpha approaches an IID
   * split. Every part gets at least one example: empty parts take one from the largest part.
   * Within a part, examples keep their order in {@code train}.
   *
   * @throws IllegalArgumentException for regression data, alpha &lt;= 0, or fewer examples than
   *     parts
   */
  public static Dataset[] labelSkew(Dataset train, int numParts, double alpha, long seed) {
    Objects.requireNonNull(train, "train");
    if (!train.isClassification()) {
      throw new IllegalArgumentException("label-skew partitioning needs class labels;"
          + " the data set is a regression set");
    }
    if (!(alpha > 0) || Double.isInfinite(alpha)) {
      throw new IllegalArgumentException(
          "Dirichlet alpha must be positive and finite, got " + alpha);
    }
    checkParts(train, numParts);
    int n = train.numExamples();
    int numClasses = train.numClasses();
    float[] y = train.targets();
    int[] classCount = new int[numClasses];
    for (int i = 0; i < n; i++) {
      classCount[classOf(y[i], numClasses, i)]++;
    }
    int[][] byClass = new int[numClasses][];
    for (int c = 0; c < numClasses; c++) {
      byClass[c] = new int[classCount[c]];
    }
    int[] fill = new int[numClasses];
    for (int i = 0; i < n; i++) {
      int c = (int) y[i];
      byClass[c][fill[c]++] = i;
    }
    SplittableRandom rng = new SplittableRandom(seed);
    int[] owner = new int[n];
    int[] partSize = new int[numParts];
    double[] p = new double[numParts];
    for (int c = 0; c < numClasses; c++) {
      int[] members = byClass[c];
      shuffle(members, rng);
      double total = 0;
      for (int k = 0; k < numParts; k++) {
        p[k] = gamma(alpha, rng);
        total += p[k];
      }
      // Cut the class at the cumulative proportions; with total == 0 (all draws underflowed)
      // the whole class goes to one part chosen at random.
      int fallback = rng.nextInt(numParts);
      double cum = 0;
      int start = 0;
      for (int k = 0; k < numParts; k++) {
        int end;
        if (total > 0) {
          cum += p[k];
          end = k == numParts - 1 ? members.length
              : (int) Math.min(members.length, Math.round(cum / total * members.length));
        } else {
          end = k == fallback ? members.length : start;
        }
        for (int m = start; m < end; m++) {
          owner[members[m]] = k;
        }
        partSize[k] += end - start;
        start = end;
      }
    }
    // Give every empty part one example from the currently largest part.
    for (int k = 0; k < numParts; k++) {
      if (partSize[k] == 0) {
        int largest = 0;
        for (int j = 1; j < numParts; j++) {
          if (partSize[j] > partSize[largest]) {
            largest = j;
          }
        }
        for (int i = n - 1; i >= 0; i--) {
          if (owner[i] == largest) {
            owner[i] = k;
            break;
          }
        }
        partSize[largest]--;
        partSize[k]++;
      }
    }
    int[][] members = new int[numParts][];
    for (int k = 0; k < numParts; k++) {
      members[k] = new int[partSize[k]];
    }
    int[] next = new int[numParts];
    for (int i = 0; i < n; i++) {
      members[owner[i]][next[owner[i]]++] = i;
    }
    Dataset[] parts = new Dataset[numParts];
    for (int k = 0; k < numParts; k++) {
      parts[k] = subset(train, members[k]);
    }
    return parts;
  }

  /** The examples at {@code indices}, in that order (repeats allowed). */
  public static Dataset subset(Dataset d, int[] indices) {
    Objects.requireNonNull(d, "d");
    Objects.requireNonNull(indices, "indices");
    int dim = d.numFeatures();
    float[] x = new float[indices.length * dim];
    float[] y = new float[indices.length];
    for (int k = 0; k < indices.length; k++) {
      int i = indices[k];
      if (i < 0 || i >= d.numExamples()) {
        throw new IllegalArgumentException("index " + i + " at position " + k
            + " is outside 0.." + (d.numExamples() - 1));
      }
      System.arraycopy(d.features(), i * dim, x, k * dim, dim);
      y[k] = d.targets()[i];
    }
    return new Dataset(indices.length, dim, x, y, d.numClasses());
  }

  /** A uniformly random permutation of 0..n-1 (Fisher-Yates / Durstenfeld). */
  static int[] permutation(int n, SplittableRandom rng) {
    int[] perm = new int[n];
    for (int i = 0; i < n; i++) {
      perm[i] = i;
    }
    shuffle(perm, rng);
    return perm;
  }

  /** Shuffles in place (Fisher-Yates / Durstenfeld). */
  static void shuffle(int[] a, SplittableRandom rng) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  /**
   * A Gamma(shape, 1) draw by Marsaglia and Tsang, "A simple method for generating gamma
   * variables", ACM TOMS 26(3), 2000; for shape &lt; 1 it boosts with U^(1/shape).
   */
  static double gamma(double shape, SplittableRandom rng) {
    if (shape < 1) {
      double u = rng.nextDouble();
      return gamma(shape + 1, rng) * Math.pow(u, 1 / shape);
    }
    double d = shape - 1.0 / 3;
    double c = 1 / Math.sqrt(9 * d);
    while (true) {
      double x;
      double v;
      do {
        x = gaussian(rng);
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      double u = rng.nextDouble();
      if (u < 1 - 0.0331 * x * x * x * x
          || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) {
        return d * v;
      }
    }
  }

  /** A standard normal draw (Marsaglia's polar method), independent of the JDK's algorithm. */
  private static double gaussian(SplittableRandom rng) {
    double u;
    double v;
    double s;
    do {
      u = 2 * rng.nextDouble() - 1;
      v = 2 * rng.nextDouble() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s == 0);
    return u * Math.sqrt(-2 * Math.log(s) / s);
  }

  private static void checkParts(Dataset d, int numParts) {
    if (numParts < 1) {
      throw new IllegalArgumentException("number of parts must be positive, got " + numParts);
    }
    if (numParts > d.numExamples()) {
      throw new IllegalArgumentException("cannot divide " + d.numExamples()
          + " examples into " + numParts + " non-empty parts");
    }
  }

  private static int classOf(float y, int numClasses, int i) {
    int c = (int) y;
    if (c != y || c < 0 || c >= numClasses) {
      throw new IllegalArgumentException("target " + y + " of example " + i
          + " is not a class index in 0.." + (numClasses - 1));
    }
    return c;
  }
}
