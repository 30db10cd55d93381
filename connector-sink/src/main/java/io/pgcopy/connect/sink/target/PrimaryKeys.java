package io.pgcopy.connect.sink.target;

import io.pgcopy.connect.format.ColumnLayout;
import io.pgcopy.connect.format.TableId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A target table's primary key, added after its snapshot rows are in, with one sorted build instead
 * of one index insertion per row. A table loaded without its key can hold a key twice: a source
 * task without exactly-once delivery sent part of a range again, or a keyed table's ranges were
 * read under two snapshots (a row updated in between is in both). Both copies are rows the source
 * had at or after the stream's starting point, which replays every later change of the key, so
 * keeping either is right: the key's other rows are removed, and the key is built again.
 */
public final class PrimaryKeys {
  private static final Logger log = LoggerFactory.getLogger(PrimaryKeys.class);
  private static final String UNIQUE_VIOLATION = "23505";

  private PrimaryKeys() {}

  /**
   * In the caller's transaction: adds the primary key on {@code columns} (quoted, comma-separated),
   * named {@code name} (null: PostgreSQL's default name), removing the rows of a key held twice if
   * the first attempt meets any.
   */
  public static void add(Connection conn, TableId target, String name, String columns)
      throws SQLException {
    String add =
        "ALTER TABLE "
            + target.quoted()
            + " ADD "
            + (name == null ? "" : "CONSTRAINT " + TableId.quoteIdentifier(name) + " ")
            + "PRIMARY KEY ("
            + columns
            + ")";
    Savepoint before = conn.setSavepoint();
    try (Statement st = conn.createStatement()) {
      st.execute(add);
      conn.releaseSavepoint(before);
      return;
    } catch (SQLException e) {
      if (!UNIQUE_VIOLATION.equals(e.getSQLState())) {
        throw e;
      }
      conn.rollback(before);
    }
    try (Statement st = conn.createStatement()) {
      int removed =
          st.executeUpdate(
              "DELETE FROM "
                  + target.quoted()
                  + " WHERE (tableoid, ctid) IN (SELECT tableoid, ctid FROM (SELECT tableoid, ctid,"
                  + " row_number() OVER (PARTITION BY "
                  + columns
                  + " ORDER BY tableoid, ctid DESC) AS n FROM "
                  + target.quoted()
                  + ") d WHERE d.n > 1)");
      log.warn(
          "Target table {}: removed {} rows whose key ({}) was there twice before its primary key was built"
              + " (a source task sent rows again, or the table's ranges were read under two snapshots; the"
              + " stream's changes set each such key's row)",
          target,
          removed,
          columns);
      st.execute(add);
    }
  }

  /**
   * Commits the primary key on the layout's key columns unless the target has one, or a unique
   * index on exactly those columns: a keyed table the sink created without it, or that {@code
   * pg_dump --section=pre-data} made (it holds no keys), gets it before its first change, which is
   * applied with {@code ON CONFLICT} on it. The post-data step renames it to the source's name.
   */
  static void ensure(Connection conn, TableId target, ColumnLayout layout) throws SQLException {
    List<String> keys = new ArrayList<>();
    layout.keyColumns().forEach(c -> keys.add(c.name()));
    if (hasKeyIndex(conn, target, keys)) {
      return;
    }
    StringBuilder columns = new StringBuilder();
    for (String k : keys) {
      columns.append(columns.length() == 0 ? "" : ", ").append(TableId.quoteIdentifier(k));
    }
    try {
      add(conn, target, null, columns.toString());
      conn.commit();
      log.info(
          "Target table {}: added the primary key on the source's key {} (the first changes need it)",
          target,
          keys);
    } catch (SQLException e) {
      conn.rollback();
      if (!hasKeyIndex(conn, target, keys)) { // another task may have added it meanwhile
        throw e;
      }
    }
  }

  /** Whether a plain unique index covers exactly {@code keys}; commits. */
  private static boolean hasKeyIndex(Connection conn, TableId target, List<String> keys)
      throws SQLException {
    try (PreparedStatement ps =
        conn.prepareStatement(
            "SELECT 1 FROM pg_index i WHERE i.indrelid = ?::regclass AND i.indisunique"
                + " AND i.indpred IS NULL AND i.indexprs IS NULL AND (SELECT array_agg(a.attname::text ORDER BY a.attname)"
                + "   FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey))"
                + "   = (SELECT array_agg(k ORDER BY k) FROM unnest(?::text[]) k)")) {
      ps.setString(1, target.quoted());
      ps.setArray(2, conn.createArrayOf("text", keys.toArray()));
      boolean answer;
      try (ResultSet rs = ps.executeQuery()) {
        answer = rs.next();
      }
      conn.commit(); // not in a finally: on a broken connection its failure would hide the cause
      return answer;
    }
  }
}
