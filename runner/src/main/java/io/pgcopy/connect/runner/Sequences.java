package io.pgcopy.connect.runner;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Every sequence of the copied schemas set a last time, once the copy is complete: the connectors
 * keep the tables' own ahead, this also takes the free-standing ones (as pg_restore's {@code
 * setval}s do). A target sequence only moves forward; one the target lacks is left out.
 */
final class Sequences {
  private static final String SOURCE_SEQUENCES =
      "SELECT format('%I.%I', schemaname, sequencename), last_value FROM pg_sequences"
          + " WHERE schemaname = ANY (?::text[]) AND last_value IS NOT NULL ORDER BY 1";

  private Sequences() {}

  /** Returns how many target sequences moved. */
  static int setLastTime(Connection source, Connection target, List<String> tables)
      throws SQLException {
    List<String> schemas = new ArrayList<>();
    try (PreparedStatement ps =
        source.prepareStatement(
            "SELECT DISTINCT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE c.oid = ANY (?::regclass[])")) {
      ps.setArray(1, source.createArrayOf("text", tables.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          schemas.add(rs.getString(1));
        }
      }
    }
    int moved = 0;
    try (PreparedStatement ps = source.prepareStatement(SOURCE_SEQUENCES);
        PreparedStatement set =
            target.prepareStatement(
                "SELECT setval(s.oid, ?) FROM (SELECT to_regclass(?) AS oid) s"
                    + " WHERE s.oid IS NOT NULL AND (SELECT last_value FROM pg_sequences q"
                    + "   WHERE format('%I.%I', q.schemaname, q.sequencename) = ?"
                    + "   AND q.last_value IS NOT NULL AND q.last_value >= ?) IS NULL")) {
      ps.setArray(1, source.createArrayOf("text", schemas.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          set.setLong(1, rs.getLong(2));
          set.setString(2, rs.getString(1));
          set.setString(3, rs.getString(1));
          set.setLong(4, rs.getLong(2));
          try (ResultSet r = set.executeQuery()) {
            moved += r.next() ? 1 : 0;
          }
        }
      }
    }
    return moved;
  }
}
