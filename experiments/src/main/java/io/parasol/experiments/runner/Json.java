package io.parasol.experiments.runner;

import java.util.Locale;
import java.util.Map;

/** A minimal JSON writer for flat summaries: strings, numbers, booleans, null, nested maps. */
public final class Json {
  private Json() {}

  public static String write(Map<String, ?> map) {
    StringBuilder sb = new StringBuilder();
    writeMap(sb, map, "");
    return sb.append('\n').toString();
  }

  private static void writeMap(StringBuilder sb, Map<?, ?> map, String indent) {
    sb.append("{\n");
    int i = 0;
    for (Map.Entry<?, ?> e : map.entrySet()) {
      sb.append(indent).append("  ");
      string(sb, String.valueOf(e.getKey()));
      sb.append(": ");
      value(sb, e.getValue(), indent + "  ");
      if (++i < map.size()) {
        sb.append(',');
      }
      sb.append('\n');
    }
    sb.append(indent).append('}');
  }

  private static void value(StringBuilder sb, Object v, String indent) {
    if (v == null) {
      sb.append("null");
    } else if (v instanceof Double || v instanceof Float) {
      double d = ((Number) v).doubleValue();
      if (Double.isFinite(d)) {
        sb.append(String.format(Locale.ROOT, "%.6g", d).replaceAll("(\\.\\d*?)0+(e|$)", "$1$2")
            .replace(".e", "e").replaceAll("\\.$", ""));
      } else {
        sb.append("null");
      }
    } else if (v instanceof Number || v instanceof Boolean) {
      sb.append(v);
    } else if (v instanceof Map<?, ?> m) {
      writeMap(sb, m, indent);
    } else {
      string(sb, v.toString());
    }
  }

  private static void string(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }
}
