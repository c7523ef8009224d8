package io.parasol.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

/** The shard jar's command line: its help texts render as written. */
class ShardMainTest {

  /** The commands of the shard jar: parasol, server, health. */
  private static List<CommandLine> commands() {
    CommandLine root = ShardMain.commandLine();
    List<CommandLine> all = new ArrayList<>();
    all.add(root);
    all.addAll(root.getSubcommands().values());
    return all;
  }

  @Test
  void everyOptionDescription_isAValidFormatString() {
    // picocli renders the descriptions as written through String.format: a lone '%' (it must be
    // "%%") makes every --help print a warning and the unformatted text.
    int checked = 0;
    for (CommandLine cl : commands()) {
      CommandSpec spec = cl.getCommandSpec();
      for (OptionSpec o : spec.options()) {
        if (!(o.userObject() instanceof Field f) || f.getAnnotation(Option.class) == null) {
          continue; // the standard help options, picocli's own
        }
        for (String line : f.getAnnotation(Option.class).description()) {
          assertThatCode(() -> String.format(Locale.ROOT, line))
              .as("%s %s: %s", spec.qualifiedName(), o.longestName(), line)
              .doesNotThrowAnyException();
          checked++;
        }
      }
    }
    assertThat(checked).as("descriptions checked").isGreaterThan(10);
  }

  @Test
  void serverHelp_statesTheDefaultMemoryShare() {
    String help = ShardMain.commandLine().getSubcommands().get("server").getUsageMessage();
    assertThat(help.replaceAll("\\s+", " ")).contains("0: 80% of the maximum heap (default)");
  }

  @Test
  void commands_serverAndHealth() {
    assertThat(ShardMain.commandLine().getSubcommands()).containsOnlyKeys("server", "health");
  }
}
