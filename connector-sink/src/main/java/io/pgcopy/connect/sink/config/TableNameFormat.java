package io.pgcopy.connect.sink.config;

import io.pgcopy.connect.format.TableId;

/** {@code table.name.format}: a schema template and a table template, each with placeholders. */
public final class TableNameFormat {
  private final String schemaTemplate;
  private final String tableTemplate;

  public TableNameFormat(String format) {
    if (format == null) {
      throw new IllegalArgumentException("missing format");
    }
    int dot = separator(format);
    if (dot < 0) {
      throw new IllegalArgumentException("expected schema.table, for example ${schema}.${table}");
    }
    schemaTemplate = format.substring(0, dot);
    tableTemplate = format.substring(dot + 1);
    if (schemaTemplate.isEmpty() || tableTemplate.isEmpty()) {
      throw new IllegalArgumentException("both the schema and the table part must be non-empty");
    }
  }

  /** The first '.' outside a ${...} placeholder. */
  private static int separator(String format) {
    boolean inPlaceholder = false;
    for (int i = 0; i < format.length(); i++) {
      char c = format.charAt(i);
      if (c == '$' && i + 1 < format.length() && format.charAt(i + 1) == '{') {
        inPlaceholder = true;
      } else if (c == '}') {
        inPlaceholder = false;
      } else if (c == '.' && !inPlaceholder) {
        return i;
      }
    }
    return -1;
  }

  public TableId target(String topic, String schema, String table) {
    return new TableId(
        fill(schemaTemplate, topic, schema, table), fill(tableTemplate, topic, schema, table));
  }

  private static String fill(String template, String topic, String schema, String table) {
    return template
        .replace("${schema}", schema)
        .replace("${table}", table)
        .replace("${topic}", topic);
  }
}
