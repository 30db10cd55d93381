package io.pgcopy.connect.runner;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * The foreign keys of the copied tables, made in the target once every table is complete (the
 * connectors do not make them: tables arrive in no common order). Each is read from the source as
 * the server prints it ({@code pg_get_constraintdef}, names schema-qualified), added {@code NOT
 * VALID} (no scan, a short lock), then validated (a scan that lets writes go on), as a DBA adds a
 * key to a large table; one the target has by name is left as it is.
 */
final class ForeignKeys {
  private static final String SOURCE_KEYS =
      "SELECT format('%I.%I', n.nspname, c.relname), k.conname, pg_get_constraintdef(k.oid),"
          + " k.convalidated FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid"
          + " JOIN pg_namespace n ON n.oid = c.relnamespace"
          + " WHERE k.contype = 'f' AND k.conparentid = 0 AND k.conrelid = ANY (?::regclass[])"
          + " ORDER BY 1, 2";

  private ForeignKeys() {}

  /** One foreign key: its table, name and definition, and whether the source validated it. */
  record Key(String table, String name, String definition, boolean validated) {}

  /** The foreign keys of {@code tables} on the source. */
  static List<Key> read(Connection source, List<String> tables) throws SQLException {
    List<Key> keys = new ArrayList<>();
    boolean autoCommit = source.getAutoCommit();
    source.setAutoCommit(false);
    try (Statement st = source.createStatement();
        PreparedStatement ps = source.prepareStatement(SOURCE_KEYS)) {
      st.execute("SET LOCAL search_path = ''");
      ps.setArray(1, source.createArrayOf("text", tables.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          keys.add(new Key(rs.getString(1), rs.getString(2), rs.getString(3), rs.getBoolean(4)));
        }
      }
      source.commit();
    } finally {
      source.setAutoCommit(autoCommit);
    }
    return keys;
  }

  /**
   * Adds each key the target lacks, then validates it (unless the source's is not valid either);
   * returns how many were added.
   *
   * @throws SQLException naming the key when the target's rows break it
   */
  static int create(Connection target, List<Key> keys) throws SQLException {
    int added = 0;
    for (Key k : keys) {
      try (PreparedStatement ps =
          target.prepareStatement(
              "SELECT 1 FROM pg_constraint WHERE conrelid = ?::regclass AND conname = ?")) {
        ps.setString(1, k.table());
        ps.setString(2, k.name());
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            continue;
          }
        }
      }
      String quotedName = "\"" + k.name().replace("\"", "\"\"") + "\"";
      String definition = k.definition().replace(" NOT VALID", "");
      try (Statement st = target.createStatement()) {
        st.execute(
            "ALTER TABLE "
                + k.table()
                + " ADD CONSTRAINT "
                + quotedName
                + " "
                + definition
                + " NOT VALID");
        if (k.validated()) {
          st.execute("ALTER TABLE " + k.table() + " VALIDATE CONSTRAINT " + quotedName);
        }
      } catch (SQLException e) {
        throw new SQLException(
            "foreign key " + k.name() + " of " + k.table() + ": " + e.getMessage(),
            e.getSQLState(),
            e);
      }
      added++;
    }
    return added;
  }
}
