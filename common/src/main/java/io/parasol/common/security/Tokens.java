package io.parasol.common.security;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;

/**
 * Where a shared bearer token comes from: a file ({@code --token-file}), else an environment
 * variable ({@code --token-env}), else nowhere (no authentication).
 *
 * <p>A token is printable ASCII without whitespace (0x21..0x7E), the characters a gRPC
 * {@code authorization} header can carry after {@code "Bearer "}. Surrounding whitespace (a
 * trailing newline in a secret file) is trimmed. Error messages name the file or variable, never
 * the token or any part of it.
 */
public final class Tokens {
  /** Largest token file read; a token is a short line, anything bigger is the wrong file. */
  static final long MAX_FILE_BYTES = 64 * 1024;

  private Tokens() {}

  /**
   * The token from {@code file} if not null, else from the environment variable
   * {@code envVar} if not null, else null (authentication off).
   *
   * @throws IllegalArgumentException if the file is unreadable, not UTF-8, too large or empty,
   *     if the named variable is unset or blank, or if the token has whitespace, control or
   *     non-ASCII characters
   */
  public static String load(String file, String envVar) {
    return load(file, envVar, System::getenv);
  }

  /**
   * As {@link #load(String, String)}, reading environment variables through {@code env} (a
   * function from a variable's name to its value or null), so tests need not touch the real
   * environment.
   */
  public static String load(String file, String envVar, Function<String, String> env) {
    if (file != null) {
      return fromFile(Path.of(file));
    }
    if (envVar != null) {
      return fromEnv(envVar, env);
    }
    return null;
  }

  /**
   * Returns {@code token} if it is a usable bearer token: not null, not empty, printable ASCII
   * without whitespace. {@code source} names where it came from, for the message.
   *
   * @throws IllegalArgumentException otherwise; the message never contains the token
   */
  public static String validate(String token, String source) {
    if (token == null || token.isEmpty()) {
      throw new IllegalArgumentException("bearer token from " + source + " is empty");
    }
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c < 0x21 || c > 0x7e) {
        throw new IllegalArgumentException("bearer token from " + source + " contains "
            + describe(c) + " at position " + i + "; a token must be printable ASCII without"
            + " whitespace (0x21..0x7E)");
      }
    }
    return token;
  }

  private static String describe(char c) {
    if (Character.isWhitespace(c) || Character.isSpaceChar(c)) {
      return "whitespace";
    }
    if (Character.isISOControl(c)) {
      return "a control character";
    }
    return "a non-ASCII character";
  }

  private static String fromFile(Path path) {
    String source = "token file " + path;
    byte[] bytes;
    try {
      if (!Files.isRegularFile(path)) {
        throw new IllegalArgumentException(source + " is not readable: no such regular file");
      }
      if (Files.size(path) > MAX_FILE_BYTES) {
        throw new IllegalArgumentException(source + " is larger than " + MAX_FILE_BYTES
            + " bytes; expected a file holding just the token");
      }
      bytes = Files.readAllBytes(path);
    } catch (IOException e) {
      // An IOException's message names the path at most, never the content.
      throw new IllegalArgumentException(source + " is not readable: "
          + e.getClass().getSimpleName(), e);
    }
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException(source + " is not valid UTF-8");
    }
    return validate(strip(text), source);
  }

  private static String fromEnv(String name, Function<String, String> env) {
    String source = "environment variable " + name;
    String value = env.apply(name);
    if (value == null) {
      throw new IllegalArgumentException(source + " is not set");
    }
    return validate(strip(value), source);
  }

  /** Drops surrounding whitespace, including a UTF-8 byte order mark. */
  private static String strip(String s) {
    String t = s.strip();
    if (t.startsWith("\uFEFF")) {
      t = t.substring(1).strip();
    }
    return t;
  }
}
