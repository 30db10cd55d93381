package io.pgcopy.connect.runner;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** How many rows the progress bar expects of a table. */
final class RowEstimates {
  private RowEstimates() {}

  /**
   * Rows of a table for the progress bar: the planner's estimate for its leaves; a leaf without one
   * (never analyzed: reltuples -1, or 0 after an index was built on it empty) is counted when under
   * 256 MB, else guessed at 100 bytes a row.
   */
  static long of(Connection c, String table) throws SQLException {
    long rows = 0;
    List<String> unanalyzed = new ArrayList<>();
    // a partitioned table's leaves, or the table itself (pg_partition_tree has no rows for it)
    String regclass = "'" + quoted(table).replace("'", "''") + "'::regclass";
    try (Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT c.oid::regclass::text, c.reltuples, pg_relation_size(c.oid) FROM pg_class c"
                    + " WHERE c.oid IN (SELECT relid FROM pg_partition_tree("
                    + regclass
                    + ") WHERE isleaf) OR (c.oid = "
                    + regclass
                    + " AND c.relkind <> 'p')")) {
      while (rs.next()) {
        if (rs.getDouble(2) > 0) {
          rows += (long) rs.getDouble(2);
        } else if (rs.getLong(3) < (256L << 20)) {
          unanalyzed.add(rs.getString(1));
        } else {
          rows += rs.getLong(3) / 100;
        }
      }
    }
    for (String leaf : unanalyzed) {
      // the server's own quoting of the leaf's name (regclass output)
      try (Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT count(*) FROM " + leaf)) {
        rs.next();
        rows += rs.getLong(1);
      }
    }
    return rows;
  }

  /**
   * schema.table as the user wrote it is already SQL (quote parts that need it); reject what is not
   * a name.
   */
  static String quoted(String table) {
    if (table.contains(";") || table.contains("--")) {
      throw new IllegalArgumentException("not a table name: " + table);
    }
    return table;
  }
}
