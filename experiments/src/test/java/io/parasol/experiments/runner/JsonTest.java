package io.parasol.experiments.runner;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {

  @Test
  void write_parsesBackWithGson_keepingOrderTypesAndSixDigits() {
    Map<String, Object> nested = new LinkedHashMap<>();
    nested.put("quorum", 3);
    nested.put("optimizer", "sgd");
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("mode", "async \"quoted\" <b>");
    m.put("workers", 4);
    m.put("steps", 12_345_678_901L);
    m.put("learning_rate", 0.1);
    m.put("test_loss", 0.123456789);
    m.put("wall_seconds", 1234567.89);
    m.put("tiny", 1.234567e-9);
    m.put("mean_staleness", Double.NaN);
    m.put("ok", true);
    m.put("missing", null);
    m.put("mode_parameters", nested);

    String text = Json.write(m);

    assertThat(text).endsWith("}\n").contains("\n  \"workers\": 4,");
    JsonObject o = JsonParser.parseString(text).getAsJsonObject();
    assertThat(o.keySet()).containsExactlyElementsOf(m.keySet());
    assertThat(o.get("mode").getAsString()).isEqualTo("async \"quoted\" <b>");
    assertThat(o.get("workers").getAsInt()).isEqualTo(4);
    assertThat(o.get("steps").getAsLong()).isEqualTo(12_345_678_901L);
    assertThat(o.get("learning_rate").getAsDouble()).isEqualTo(0.1);
    assertThat(o.get("test_loss").getAsDouble()).isEqualTo(0.123457);
    assertThat(o.get("wall_seconds").getAsDouble()).isEqualTo(1234570);
    assertThat(text).contains("\"wall_seconds\": 1234570,");
    assertThat(o.get("tiny").getAsDouble()).isEqualTo(1.23457e-9);
    assertThat(o.get("mean_staleness").isJsonNull()).isTrue();
    assertThat(o.get("ok").getAsBoolean()).isTrue();
    assertThat(o.get("missing").isJsonNull()).isTrue();
    assertThat(o.getAsJsonObject("mode_parameters").get("optimizer").getAsString())
        .isEqualTo("sgd");
  }
}
