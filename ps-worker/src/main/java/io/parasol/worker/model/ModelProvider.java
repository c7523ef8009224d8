package io.parasol.worker.model;

/**
 * A source of models outside ps-worker, found with {@link java.util.ServiceLoader}: a model
 * name {@code SCHEME:LOCATION} goes to the provider whose {@link #scheme()} is SCHEME (e.g. the
 * DL4J adapter module's {@code dl4j:PATH}). Implementations need a public no-argument
 * constructor and a {@code META-INF/services/io.parasol.worker.model.ModelProvider} entry.
 */
public interface ModelProvider {

  /** The prefix before the colon, lower case, e.g. "dl4j". */
  String scheme();

  /**
   * Loads the model.
   *
   * @param location what follows "SCHEME:" (e.g. a file path)
   * @param numFeatures features per example of the data
   * @param numClasses classes of the data, 0 for regression
   * @throws IllegalArgumentException naming what is wrong when the model cannot be loaded or
   *     does not fit the data
   */
  Model load(String location, Models.Options options, int numFeatures, int numClasses);
}
