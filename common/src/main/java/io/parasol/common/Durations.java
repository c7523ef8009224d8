package io.parasol.common;

import java.time.Duration;
import java.util.Locale;

/** The duration syntax of Parasol's flags: {@code 500ms}, {@code 30s} (decimals allowed), {@code 2m}. */
public final class Durations {
  private Durations() {}

  /**
   * Parses {@code s}; a value in another syntax is an IllegalArgumentException naming
   * {@code flag} and the syntax.
   */
  public static Duration parse(String flag, String s) {
    String t = s.trim().toLowerCase(Locale.ROOT);
    try {
      if (t.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
      }
      if (t.endsWith("s")) {
        return Duration.ofMillis(Math.round(Double.parseDouble(t.substring(0, t.length() - 1))
            * 1000));
      }
      if (t.endsWith("m")) {
        return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)) * 60);
      }
    } catch (NumberFormatException e) {
      // fall through to the error below
    }
    throw new IllegalArgumentException(flag + " takes a duration like 500ms, 30s or 2m; got '"
        + s + "'");
  }
}
