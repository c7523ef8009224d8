package io.parasol.common.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading and validating bearer tokens from files and environment variables. */
class TokensTest {
  private static final String SECRET = "s3cr3t-T0ken_value.42";

  @TempDir
  Path dir;

  private static Function<String, String> env(Map<String, String> vars) {
    return vars::get;
  }

  private Path file(String name, String content) throws IOException {
    return Files.writeString(dir.resolve(name), content, StandardCharsets.UTF_8);
  }

  @Test
  void load_fileGiven_readsTrimmedToken() throws IOException {
    Path f = file("token", "  " + SECRET + "\n");

    assertThat(Tokens.load(f.toString(), null, env(Map.of()))).isEqualTo(SECRET);
  }

  @Test
  void load_fileAndEnvGiven_fileWins() throws IOException {
    Path f = file("token", SECRET);

    assertThat(Tokens.load(f.toString(), "PARASOL_TOKEN", env(Map.of("PARASOL_TOKEN", "other"))))
        .isEqualTo(SECRET);
  }

  @Test
  void load_fileWithByteOrderMark_dropsIt() throws IOException {
    Path f = file("token", "\uFEFF" + SECRET + "\r\n");

    assertThat(Tokens.load(f.toString(), null, env(Map.of()))).isEqualTo(SECRET);
  }

  @Test
  void load_envGiven_readsTrimmedVariable() {
    assertThat(Tokens.load(null, "PARASOL_TOKEN", env(Map.of("PARASOL_TOKEN", SECRET + "\n"))))
        .isEqualTo(SECRET);
  }

  @Test
  void load_nothingGiven_returnsNull() {
    assertThat(Tokens.load(null, null, env(Map.of("PARASOL_TOKEN", SECRET)))).isNull();
  }

  @Test
  void load_realEnvironmentOverload_readsNothingWhenNothingGiven() {
    assertThat(Tokens.load(null, null)).isNull();
  }

  @Test
  void load_missingFile_namesTheFile() {
    Path missing = dir.resolve("nope");

    assertThatThrownBy(() -> Tokens.load(missing.toString(), null, env(Map.of())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(missing.toString())
        .hasMessageContaining("not readable");
  }

  @Test
  void load_directoryInsteadOfFile_isNotReadable() {
    assertThatThrownBy(() -> Tokens.load(dir.toString(), null, env(Map.of())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(dir.toString())
        .hasMessageContaining("not readable");
  }

  @Test
  void load_emptyFile_isRejectedNamingTheFile() throws IOException {
    Path f = file("token", " \n\t\n");

    assertThatThrownBy(() -> Tokens.load(f.toString(), null, env(Map.of())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(f.toString())
        .hasMessageContaining("empty");
  }

  @Test
  void load_tokenWithInnerWhitespace_isRejectedWithoutEchoingIt() throws IOException {
    Path f = file("token", "first-half second-half\n");

    assertThatThrownBy(() -> Tokens.load(f.toString(), null, env(Map.of())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(f.toString())
        .hasMessageContaining("whitespace")
        .hasMessageNotContaining("first-half")
        .hasMessageNotContaining("second-half");
  }

  @Test
  void load_tokenWithControlCharacter_isRejected() {
    Function<String, String> e = env(Map.of("T", "abc\u0007def"));

    assertThatThrownBy(() -> Tokens.load(null, "T", e))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("environment variable T")
        .hasMessageContaining("control character")
        .hasMessageNotContaining("abc");
  }

  @Test
  void load_tokenWithNonAscii_isRejected() throws IOException {
    Path f = file("token", "caf\u00e9-token");

    assertThatThrownBy(() -> Tokens.load(f.toString(), null, env(Map.of())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("non-ASCII")
        .hasMessageNotContaining("caf");
  }

  @Test
  void load_fileNotUtf8_isRejected() throws IOException {
    Path f = Files.write(dir.resolve("token"), new byte[] {'a', (byte) 0xff, 'b'});

    assertThatThrownBy(() -> Tokens.load(f.toString(), null, env(Map.of())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(f.toString())
        .hasMessageContaining("UTF-8");
  }

  @Test
  void load_hugeFile_isRejected() throws IOException {
    Path f = file("token", "x".repeat((int) Tokens.MAX_FILE_BYTES + 1));

    assertThatThrownBy(() -> Tokens.load(f.toString(), null, env(Map.of())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(f.toString())
        .hasMessageContaining("larger than");
  }

  @Test
  void load_envVariableUnset_failsClosed() {
    assertThatThrownBy(() -> Tokens.load(null, "PARASOL_TOKEN", env(Map.of())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("environment variable PARASOL_TOKEN is not set");
  }

  @Test
  void load_envVariableBlank_isRejected() {
    assertThatThrownBy(() -> Tokens.load(null, "PARASOL_TOKEN", env(Map.of("PARASOL_TOKEN", " "))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("bearer token from environment variable PARASOL_TOKEN is empty");
  }

  @Test
  void validate_null_isRejected() {
    assertThatThrownBy(() -> Tokens.validate(null, "test"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("empty");
  }
}
