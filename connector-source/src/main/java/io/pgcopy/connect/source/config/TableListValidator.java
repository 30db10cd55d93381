package io.pgcopy.connect.source.config;

import io.pgcopy.connect.format.TableId;
import java.util.List;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/** Checks a list of {@code schema.name} entries (tables, sequences): each must parse. */
final class TableListValidator implements ConfigDef.Validator {
  private final String kind;
  private final boolean mayBeEmpty;

  /**
   * @param kind what the list names, for messages ("table", "sequence")
   * @param mayBeEmpty whether an empty list is valid
   */
  TableListValidator(String kind, boolean mayBeEmpty) {
    this.kind = kind;
    this.mayBeEmpty = mayBeEmpty;
  }

  @Override
  public void ensureValid(String name, Object value) {
    @SuppressWarnings("unchecked")
    List<String> entries = value == null ? List.of() : (List<String>) value;
    if (entries.isEmpty() && !mayBeEmpty) {
      throw new ConfigException(name, value, "name at least one " + kind);
    }
    for (String t : entries) {
      try {
        TableId.parse(t);
      } catch (IllegalArgumentException e) {
        throw new ConfigException(name, t, e.getMessage());
      }
    }
  }

  @Override
  public String toString() {
    return "schema." + kind + "[,schema." + kind + "...]";
  }
}
