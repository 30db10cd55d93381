package io.pgcopy.connect.format;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A schema-qualified PostgreSQL table name. Names are kept exactly as PostgreSQL stores them (case
 * and all); {@link #quoted()} is the only form that goes into SQL.
 */
public final class TableId implements Comparable<TableId> {
  private final String schema;
  private final String table;

  public TableId(String schema, String table) {
    this.schema = requireName(schema, "schema");
    this.table = requireName(table, "table");
  }

  private static String requireName(String name, String what) {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("empty " + what + " name");
    }
    return name;
  }

  public String schema() {
    return schema;
  }

  public String table() {
    return table;
  }

  /**
   * {@code "schema"."table"}, each part quoted, for SQL and for round trips through {@link #parse}.
   */
  public String quoted() {
    return quoteIdentifier(schema) + "." + quoteIdentifier(table);
  }

  /** Quotes one identifier the way PostgreSQL's quote_ident does when quoting is forced. */
  public static String quoteIdentifier(String identifier) {
    return '"' + identifier.replace("\"", "\"\"") + '"';
  }

  /**
   * Parses {@code schema.table} as a user writes it in a config: unquoted parts are folded to lower
   * case as PostgreSQL folds them; quoted parts ({@code "My Schema"."T"}) keep their case and may
   * contain dots and doubled quotes. A name without schema gets {@code public}.
   */
  public static TableId parse(String text) {
    List<String> parts = splitQualifiedName(text);
    if (parts.size() == 1) {
      return new TableId("public", parts.get(0));
    }
    if (parts.size() == 2) {
      return new TableId(parts.get(0), parts.get(1));
    }
    throw new IllegalArgumentException(
        "'"
            + text
            + "' is not a table name: expected schema.table (quote parts that contain dots)");
  }

  /**
   * Parses a comma-separated list of names in {@link #parse} syntax; a comma inside a quoted part
   * belongs to the name. Empty items are skipped.
   *
   * @throws IllegalArgumentException naming the item that does not parse
   */
  public static List<TableId> parseList(String text) {
    List<TableId> tables = new ArrayList<>();
    boolean quoted = false;
    int start = 0;
    for (int i = 0; i <= text.length(); i++) {
      char c = i < text.length() ? text.charAt(i) : ',';
      if (c == '"') {
        quoted = !quoted; // a doubled quote inside a name toggles twice
      } else if (c == ',' && !quoted) {
        if (!text.substring(start, i).isBlank()) {
          tables.add(parse(text.substring(start, i)));
        }
        start = i + 1;
      }
    }
    return tables;
  }

  private static List<String> splitQualifiedName(String text) {
    String s = text.strip();
    List<String> parts = new ArrayList<>();
    int i = 0;
    while (true) {
      StringBuilder part = new StringBuilder();
      if (i < s.length() && s.charAt(i) == '"') {
        i++;
        while (true) {
          if (i >= s.length()) {
            throw new IllegalArgumentException("unterminated quoted identifier in '" + text + "'");
          }
          char c = s.charAt(i++);
          if (c == '"') {
            if (i < s.length() && s.charAt(i) == '"') {
              part.append('"');
              i++;
            } else {
              break;
            }
          } else {
            part.append(c);
          }
        }
      } else {
        while (i < s.length() && s.charAt(i) != '.') {
          char c = s.charAt(i++);
          if (c == '"') {
            throw new IllegalArgumentException("misplaced quote in '" + text + "'");
          }
          part.append(c);
        }
        String folded = part.toString().strip().toLowerCase(java.util.Locale.ROOT);
        part.setLength(0);
        part.append(folded);
      }
      if (part.length() == 0) {
        throw new IllegalArgumentException("empty name part in '" + text + "'");
      }
      parts.add(part.toString());
      if (i >= s.length()) {
        return parts;
      }
      if (s.charAt(i) != '.') {
        throw new IllegalArgumentException("unexpected '" + s.charAt(i) + "' in '" + text + "'");
      }
      i++;
    }
  }

  @Override
  public int compareTo(TableId o) {
    int c = schema.compareTo(o.schema);
    return c != 0 ? c : table.compareTo(o.table);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TableId
        && ((TableId) o).schema.equals(schema)
        && ((TableId) o).table.equals(table);
  }

  @Override
  public int hashCode() {
    return Objects.hash(schema, table);
  }

  /** The quoted form: unambiguous in logs and parseable back. */
  @Override
  public String toString() {
    return quoted();
  }
}
