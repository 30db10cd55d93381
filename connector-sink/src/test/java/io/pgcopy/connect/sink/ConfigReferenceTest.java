package io.pgcopy.connect.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgcopy.connect.sink.config.PgCopySinkConfig;
import io.pgcopy.connect.source.config.PgCopySourceConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import org.apache.kafka.common.config.ConfigDef;
import org.junit.jupiter.api.Test;

/**
 * The configuration reference (docs/configuration.md) is generated from the ConfigDefs, never
 * written by hand: this test fails when they differ. Regenerate with {@code mvn -pl connector-sink
 * test -Dtest=ConfigReferenceTest -Dpgcopy.docs.update=true}.
 */
class ConfigReferenceTest {
  private static final Path REFERENCE = Path.of("..", "docs", "configuration.md");

  @Test
  void docsHaveTheGeneratedReference() throws IOException {
    String current = Files.readString(REFERENCE);
    String updated =
        replaceSection(current, "source-config", markdown(PgCopySourceConfig.CONFIG_DEF));
    updated = replaceSection(updated, "sink-config", markdown(PgCopySinkConfig.CONFIG_DEF));
    if (Boolean.getBoolean("pgcopy.docs.update")) {
      Files.writeString(REFERENCE, updated);
      return;
    }
    assertThat(current)
        .as(REFERENCE + "; regenerate with -Dpgcopy.docs.update=true")
        .isEqualTo(updated);
  }

  static String markdown(ConfigDef def) {
    StringBuilder sb =
        new StringBuilder("| key | type | default | valid values | importance | description |\n");
    sb.append("|---|---|---|---|---|---|\n");
    // definition order: grouped as the ConfigDef groups them
    Collection<ConfigDef.ConfigKey> keys = def.configKeys().values();
    for (ConfigDef.ConfigKey k : keys) {
      String dflt =
          !k.hasDefault()
              ? "(required)"
              : k.defaultValue == null
                  ? ""
                  : "`" + ConfigDef.convertToString(k.defaultValue, k.type) + "`";
      sb.append("| `")
          .append(k.name)
          .append("` | ")
          .append(k.type.name().toLowerCase())
          .append(" | ")
          .append(dflt)
          .append(" | ")
          .append(k.validator == null ? "" : escape(k.validator.toString()))
          .append(" | ")
          .append(k.importance.name().toLowerCase())
          .append(" | ")
          .append(escape(k.documentation))
          .append(" |\n");
    }
    return sb.toString();
  }

  private static String escape(String s) {
    return s.replace("|", "\\|").replace("\n", " ");
  }

  private static String replaceSection(String text, String name, String content) {
    String start = "<!-- " + name + ":start -->\n";
    String end = "<!-- " + name + ":end -->";
    int a = text.indexOf(start);
    int b = text.indexOf(end);
    if (a < 0 || b < a) {
      throw new IllegalStateException(
          REFERENCE + " lacks the markers " + start.trim() + " and " + end);
    }
    return text.substring(0, a + start.length()) + content + text.substring(b);
  }
}
