package io.parasol.worker.train;

import io.parasol.common.Durations;
import java.util.Objects;
import java.util.function.Function;

/**
 * One setting, declared once: the flag that names it, its default as the text a user would type,
 * its help text and the rule its values must pass. {@link JobKeys} lists every job setting;
 * {@link JobSettings.Builder} checks values through it and the command line takes flags,
 * defaults and help texts from the same constants.
 *
 * <p>{@link #parse} and {@link #check} throw {@link IllegalArgumentException} with a message that
 * starts with the flag, e.g. {@code --shards must be at least 1, got 0}.
 *
 * @param <T> the value's type
 */
public final class Setting<T> {
  private final String flag;
  private final String defaultText;
  private final String description;
  private final Function<String, T> parser;
  private final Function<T, String> rule;
  private final Function<T, String> show;

  private Setting(String flag, String defaultText, String description, Function<String, T> parser,
      Function<T, String> rule) {
    this(flag, defaultText, description, parser, rule, String::valueOf);
  }

  private Setting(String flag, String defaultText, String description, Function<String, T> parser,
      Function<T, String> rule, Function<T, String> show) {
    this.flag = Objects.requireNonNull(flag);
    this.defaultText = defaultText;
    this.description = Objects.requireNonNull(description);
    this.parser = parser;
    this.rule = rule;
    this.show = show;
  }

  /** A whole number in {@code min..max}. */
  public static Setting<Integer> intIn(String flag, String defaultText, String description,
      int min, int max) {
    return new Setting<>(flag, defaultText, description, Integer::parseInt,
        v -> v >= min && v <= max ? null : range(min, max));
  }

  /** A whole number of at least {@code min}. */
  public static Setting<Long> longAtLeast(String flag, String defaultText, String description,
      long min) {
    return new Setting<>(flag, defaultText, description, Long::parseLong,
        v -> v >= min ? null : "must be at least " + min);
  }

  /** A finite number in {@code (low, high]}. */
  public static Setting<Float> floatIn(String flag, String defaultText, String description,
      float low, float high) {
    return new Setting<>(flag, defaultText, description, Float::parseFloat,
        v -> v > low && v <= high && Float.isFinite(v) ? null
            : high == Float.MAX_VALUE ? "must be a positive number"
            : "must be in (" + fmt(low) + ", " + fmt(high) + "]");
  }

  /** A duration like 500ms, 30s or 2m, in milliseconds within {@code minMillis..maxMillis}. */
  public static Setting<Integer> millis(String flag, String defaultText, String description,
      int minMillis, int maxMillis) {
    return new Setting<>(flag, defaultText, description,
        s -> Math.toIntExact(Durations.parse(flag, s).toMillis()),
        v -> v >= minMillis && v <= maxMillis ? null
            : "must be between " + minMillis + "ms and " + maxMillis / 60_000 + "m",
        v -> v + "ms");
  }

  /** A word parsed by {@code parser}, which throws IllegalArgumentException for others. */
  public static <T> Setting<T> word(String flag, String defaultText, String description,
      Function<String, T> parser) {
    return new Setting<>(flag, defaultText, description, parser, v -> null);
  }

  /** The flag, e.g. {@code --shards}. */
  public String flag() {
    return flag;
  }

  /** The default as command-line text; null where it depends on other settings. */
  public String defaultText() {
    return defaultText;
  }

  /** The help text (may hold picocli's {@code ${DEFAULT-VALUE}}). */
  public String description() {
    return description;
  }

  /** The default value; null where it depends on other settings. */
  public T defaultValue() {
    return defaultText == null ? null : parse(defaultText);
  }

  /** Parses and checks {@code text}. */
  public T parse(String text) {
    T v;
    try {
      v = parser.apply(text.trim());
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException(flag + " cannot take '" + text + "'");
    } catch (IllegalArgumentException e) {
      if (e.getMessage() != null && e.getMessage().contains(flag)) {
        throw e;
      }
      throw new IllegalArgumentException(flag + ": " + e.getMessage(), e);
    }
    return check(v);
  }

  /** Returns {@code value} if it passes the rule; throws naming the flag if not. */
  public T check(T value) {
    String problem = rule.apply(value);
    if (problem != null) {
      throw new IllegalArgumentException(flag + " " + problem + ", got "
          + show.apply(value));
    }
    return value;
  }

  @Override
  public String toString() {
    return flag + " (default " + defaultText + ")";
  }

  private static String range(long min, long max) {
    return max == Integer.MAX_VALUE ? "must be at least " + min
        : "must be in " + min + ".." + max;
  }

  private static String fmt(float f) {
    return f == (int) f ? Integer.toString((int) f) : Float.toString(f);
  }
}
