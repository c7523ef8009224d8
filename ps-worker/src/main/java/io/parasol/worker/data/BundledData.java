package io.parasol.worker.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Data sets shipped inside the jar, addressed by name.
 *
 * <p>{@code digits}: 1,797 8x8 images of handwritten digits with pixel values 0-16, 64 features
 * and 10 classes; the test portion of the UCI "Optical Recognition of Handwritten Digits" set
 * (Alpaydin and Kaynak, 1998; CC BY 4.0) as distributed with scikit-learn. See {@code
 * data/README.md} beside the resource for the attribution.
 */
public final class BundledData {

  private static final Map<String, String> RESOURCES = Map.of("digits", "/data/digits.csv.gz");

  private BundledData() {}

  /** The names {@link #load} accepts, sorted. */
  public static List<String> names() {
    return RESOURCES.keySet().stream().sorted().toList();
  }

  /** Whether {@code name} (ignoring case and surrounding blanks) is a bundled data set. */
  public static boolean isBundled(String name) {
    return name != null && RESOURCES.containsKey(key(name));
  }

  /**
   * Loads a bundled data set from the class path.
   *
   * @throws IllegalArgumentException listing the known names if {@code name} is not one
   */
  public static Dataset load(String name) {
    if (!isBundled(name)) {
      throw new IllegalArgumentException("unknown bundled data set '" + name + "'; known: "
          + String.join(", ", names()));
    }
    String resource = RESOURCES.get(key(name));
    try (InputStream in = BundledData.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("bundled resource " + resource
            + " is missing from the class path");
      }
      return DatasetLoader.readCsv(in, "bundled " + resource, DatasetLoader.LoadOptions.defaults());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read bundled " + resource + ": " + e.getMessage(), e);
    }
  }

  private static String key(String name) {
    return name.trim().toLowerCase(Locale.ROOT);
  }
}
