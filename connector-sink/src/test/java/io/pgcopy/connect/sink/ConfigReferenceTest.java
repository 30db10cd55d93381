package io.pgcopy.connect.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgcopy.connect.source.PgCopySourceConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.kafka.common.config.ConfigDef;
import org.junit.jupiter.api.Test;

/**
 * The README's configuration reference is generated from the ConfigDefs, never written by hand:
 * this test fails when they differ. Regenerate with
 * {@code mvn -pl connector-sink test -Dtest=ConfigReferenceTest -Dpgcopy.docs.update=true}.
 */
class ConfigReferenceTest {
  private static final Path README = Path.of("..", "README.md");

  @Test
  void readmeHasTheGeneratedReference() throws IOException {
    String readme = Files.readString(README);
    String updated = replaceSection(readme, "source-config", markdown(PgCopySourceConfig.CONFIG_DEF));
    updated = replaceSection(updated, "sink-config", markdown(PgCopySinkConfig.CONFIG_DEF));
    if (Boolean.getBoolean("pgcopy.docs.update")) {
      Files.writeString(README, updated);
      return;
    }
    assertThat(readme).as("README.md configuration reference; regenerate with -Dpgcopy.docs.update=true").isEqualTo(updated);
  }

  static String markdown(ConfigDef def) {
    StringBuilder sb = new StringBuilder("| key | type | default | valid values | importance | description |\n");
    sb.append("|---|---|---|---|---|---|\n");
    // definition order: grouped as the ConfigDef groups them
    java.util.Collection<ConfigDef.ConfigKey> keys = def.configKeys().values();
    for (ConfigDef.ConfigKey k : keys) {
      String dflt = !k.hasDefault() ? "(required)" : k.defaultValue == null ? "" : "`" + ConfigDef.convertToString(k.defaultValue, k.type) + "`";
      sb.append("| `").append(k.name).append("` | ").append(k.type.name().toLowerCase())
          .append(" | ").append(dflt)
          .append(" | ").append(k.validator == null ? "" : escape(k.validator.toString()))
          .append(" | ").append(k.importance.name().toLowerCase())
          .append(" | ").append(escape(k.documentation)).append(" |\n");
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
      throw new IllegalStateException("README.md lacks the markers " + start.trim() + " and " + end);
    }
    return text.substring(0, a + start.length()) + content + text.substring(b);
  }
}
