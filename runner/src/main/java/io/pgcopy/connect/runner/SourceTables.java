package io.pgcopy.connect.runner;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The tables a whole-database migration copies: every ordinary and partitioned table (partitions
 * travel with their parent) of the named schemas, or of every schema but the system's, leaving out
 * what extensions own.
 */
final class SourceTables {
  private static final String TABLES =
      "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c"
          + " JOIN pg_namespace n ON n.oid = c.relnamespace"
          + " WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition"
          + " AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
          + " AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'"
          + " AND (cardinality(?::text[]) = 0 OR n.nspname = ANY (?::text[]))"
          + " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass"
          + "   AND d.objid = c.oid AND d.deptype = 'e')"
          + " ORDER BY n.nspname, c.relname";

  private SourceTables() {}

  /**
   * schema.table of every table to copy, quoted where needed.
   *
   * @param schemas the schemas to take; empty for every one
   * @throws BadInput when a named schema does not exist or there is no table
   */
  static List<String> of(Connection source, List<String> schemas) throws SQLException {
    for (String s : schemas) {
      try (PreparedStatement ps =
          source.prepareStatement("SELECT 1 FROM pg_namespace WHERE nspname = ?")) {
        ps.setString(1, s);
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            throw new BadInput("the source has no schema " + s + ": check --schemas");
          }
        }
      }
    }
    List<String> tables = new ArrayList<>();
    try (PreparedStatement ps = source.prepareStatement(TABLES)) {
      Array names = source.createArrayOf("text", schemas.toArray());
      ps.setArray(1, names);
      ps.setArray(2, names);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          tables.add(rs.getString(1));
        }
      }
    }
    if (tables.isEmpty()) {
      throw new BadInput(
          "the source has no table"
              + (schemas.isEmpty() ? "" : " in schemas " + schemas)
              + " to migrate");
    }
    return tables;
  }
}
