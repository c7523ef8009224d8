package io.parasol.experiments.runner;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonNull;
import com.google.gson.JsonPrimitive;
import com.google.gson.JsonSerializer;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Map;

/**
 * Writes summaries (maps of strings, numbers, booleans, nulls and nested maps) as pretty-printed
 * JSON with Gson. {@code double}s and {@code float}s keep 6 significant digits; non-finite ones
 * are written as {@code null}.
 */
public final class Json {
  private static final MathContext DIGITS = new MathContext(6);
  private static final JsonSerializer<Number> DECIMAL = (v, type, ctx) -> {
    double d = v.doubleValue();
    if (!Double.isFinite(d)) {
      return JsonNull.INSTANCE;
    }
    BigDecimal b = new BigDecimal(d).round(DIGITS).stripTrailingZeros();
    return new JsonPrimitive(b.scale() < 0 ? b.setScale(0) : b);
  };
  private static final Gson GSON = new GsonBuilder()
      .setPrettyPrinting()
      .serializeNulls()
      .disableHtmlEscaping()
      .registerTypeAdapter(Double.class, DECIMAL)
      .registerTypeAdapter(Float.class, DECIMAL)
      .create();

  private Json() {}

  /** The map as a JSON object, with a final line end. */
  public static String write(Map<String, ?> map) {
    return GSON.toJson(map) + "\n";
  }
}
