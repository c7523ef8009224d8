package io.parasol.worker.dl4j;

import io.parasol.worker.model.Model;
import io.parasol.worker.model.Models;
import io.parasol.worker.model.ModelProvider;
import java.io.File;
import java.io.IOException;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

/**
 * {@code dl4j:PATH}: a {@link MultiLayerNetwork} saved with {@code ModelSerializer.writeModel};
 * found by the command line through {@link java.util.ServiceLoader}.
 */
public final class Dl4jModelProvider implements ModelProvider {

  @Override
  public String scheme() {
    return "dl4j";
  }

  @Override
  public Model load(String location, Models.Options options, int numFeatures,
      int numClasses) {
    File f = new File(location);
    if (!f.isFile()) {
      throw new IllegalArgumentException("model 'dl4j:" + location + "': no such file");
    }
    MultiLayerNetwork net;
    try {
      net = ModelSerializer.restoreMultiLayerNetwork(f, false);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("model 'dl4j:" + location + "' is not a DL4J"
          + " MultiLayerNetwork saved with ModelSerializer: " + e.getMessage(), e);
    }
    return new Dl4jModel("dl4j:" + f.getName(), net, numFeatures, numClasses);
  }
}
