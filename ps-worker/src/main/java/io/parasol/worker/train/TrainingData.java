package io.parasol.worker.train;

import io.parasol.worker.data.BundledData;
import io.parasol.worker.data.DataFormat;
import io.parasol.worker.data.Dataset;
import io.parasol.worker.data.DatasetLoader;
import io.parasol.worker.data.Scaling;
import io.parasol.worker.data.Splits;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A job's data as every worker sees it: loaded, split into train and test with the job's seed,
 * scaled with statistics of the training set. Deterministic, so each worker can compute it on
 * its own and take its part.
 */
public record TrainingData(String source, Dataset train, Dataset test) {

  /**
   * @param data a bundled name ("digits") or a path
   * @param format the file's format (ignored for bundled names)
   * @param labelColumn CSV label column, -1 for the last
   * @param header whether a CSV has a header line
   * @param regression targets are real values, not classes
   */
  public static TrainingData load(String data, DataFormat format, int labelColumn, boolean header,
      boolean regression, double testFraction, Scaling scaling, long seed) {
    if (!(testFraction > 0 && testFraction < 1)) {
      throw new IllegalArgumentException("test fraction must be in (0, 1), got " + testFraction);
    }
    Dataset all;
    if (BundledData.isBundled(data)) {
      all = BundledData.load(data);
      if (regression) {
        // The class label as a real-valued target (e.g. the digit 0..9 for least squares).
        all = new Dataset(all.numExamples(), all.numFeatures(), all.features(), all.targets(), 0);
      }
    } else {
      Path p = Path.of(data);
      if (!Files.exists(p)) {
        throw new IllegalArgumentException("data '" + data + "' is neither a bundled data set ("
            + String.join(", ", BundledData.names()) + ") nor an existing file");
      }
      if (format == null) {
        format = DataFormat.detect(p);
      }
      DatasetLoader.LoadOptions lo = new DatasetLoader.LoadOptions(labelColumn, header,
          regression, 0);
      all = DatasetLoader.load(p, format, lo);
      java.util.Optional<Path> official = format == DataFormat.IDX
          ? DatasetLoader.officialTestImages(p) : java.util.Optional.empty();
      if (official.isPresent()) {
        // The data set's own test split (t10k-*), not a share of the training set.
        Dataset test = DatasetLoader.load(official.get(), DataFormat.IDX, lo);
        if (test.numFeatures() != all.numFeatures()) {
          throw new IllegalArgumentException(official.get() + " has " + test.numFeatures()
              + " pixels per image, the training images " + all.numFeatures());
        }
        Scaling.Fitted fitted = scaling.fit(all);
        return new TrainingData(data, fitted.apply(all), fitted.apply(test));
      }
    }
    Splits.Split split = Splits.trainTest(all, testFraction, seed);
    Scaling.Fitted fitted = scaling.fit(split.train());
    return new TrainingData(data, fitted.apply(split.train()), fitted.apply(split.test()));
  }

  /** Worker k's part of the training set: contiguous nearly equal parts of the shuffle. */
  public Dataset part(int numWorkers, int worker) {
    return Splits.partition(train, numWorkers, worker);
  }

  /**
   * Worker k's part under the job's partition rule: iid (disjoint equal parts), shared (the
   * whole training set; each worker still draws its own batch order) or Dirichlet label skew.
   * The parts are over the initial {@code --workers} m; a joiner k &gt;= m (elastic workers)
   * takes part k mod m ({@link JobSettings#partOf}).
   */
  public Dataset part(JobSettings js, int worker) {
    if (js.partition().equals("shared")) {
      return train;
    }
    int k = JobSettings.partOf(js.numWorkers(), worker);
    if (js.partition().startsWith("label-skew:")) {
      return Splits.labelSkew(train, js.numWorkers(), js.skewAlpha(), js.seed())[k];
    }
    return part(js.numWorkers(), k);
  }
}
