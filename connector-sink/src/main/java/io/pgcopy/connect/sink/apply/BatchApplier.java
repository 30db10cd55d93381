package io.pgcopy.connect.sink.apply;

import io.pgcopy.connect.format.Column;
import io.pgcopy.connect.format.ColumnLayout;
import io.pgcopy.connect.format.Operation;
import io.pgcopy.connect.format.RowBatch;
import io.pgcopy.connect.format.RowBatchReader;
import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.format.Tuples;
import io.pgcopy.connect.sink.batch.TableBatch;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one table's batch inside the caller's transaction, set-wise:
 *
 * <ul>
 *   <li>a truncate first;
 *   <li>deletes: the keys are copied into a staging table, then one {@code DELETE .. USING};
 *   <li>new rows (snapshot, inserts): one binary COPY straight from the record bytes; if it meets
 *       keys already in the target (a source task re-sent rows) the batch is upserted instead;
 *   <li>updates: a staging table filled by binary COPY and one {@code INSERT .. ON CONFLICT DO
 *       UPDATE}; an update whose unchanged TOASTed values were not sent sets only the columns it
 *       carries, so the target keeps those values.
 * </ul>
 *
 * Keyless tables: the batch's changes reduced to old rows to remove and new rows to add, each set
 * applied with one statement ({@link KeylessChanges}).
 */
public final class BatchApplier {
  private static final Logger log = LoggerFactory.getLogger(BatchApplier.class);
  private static final String UNIQUE_VIOLATION = "23505";

  private final Map<String, String> stagingTables = new HashMap<>();
  private int stagingCounter;

  /**
   * Whether the batch being applied holds text forms (COPY's text format) rather than binary ones.
   */
  private boolean text;

  public void apply(Connection conn, TableBatch batch) throws SQLException {
    text = batch.text();
    if (batch.truncate()) {
      try (Statement st = conn.createStatement()) {
        st.execute("TRUNCATE " + batch.target().quoted());
      }
    }
    if (!batch.runs().isEmpty()) {
      applyRuns(conn, batch);
    }
    if (!batch.layout().hasKey()) {
      applyKeyless(conn, batch);
      return;
    }
    List<byte[]> deletes = new ArrayList<>();
    List<byte[]> newRows = new ArrayList<>();
    List<byte[]> fullRows = new ArrayList<>();
    boolean updates = false;
    Map<String, List<TableBatch.Change>> partial = new LinkedHashMap<>();
    for (TableBatch.Change c : batch.changes()) {
      if (c.isDelete()) {
        deletes.add(c.key());
      } else if (c.absent() != null) {
        partial.computeIfAbsent(Arrays.toString(c.absent()), k -> new ArrayList<>()).add(c);
      } else {
        fullRows.add(c.value());
        if (c.op() == Operation.UPDATE) {
          updates = true;
        } else {
          newRows.add(c.value());
        }
      }
    }
    if (!deletes.isEmpty()) {
      delete(conn, batch, deletes);
    }
    if (!fullRows.isEmpty()) {
      if (updates) {
        upsert(conn, batch.target(), batch.layout(), allFields(batch.layout()), fullRows);
      } else {
        copyOrUpsert(conn, batch, fullRows);
      }
    }
    for (List<TableBatch.Change> group : partial.values()) {
      int[] present = present(batch.layout().size(), group.get(0).absent());
      List<byte[]> rows = new ArrayList<>(group.size());
      for (TableBatch.Change c : group) {
        rows.add(Tuples.project(c.value(), present));
      }
      upsert(conn, batch.target(), batch.layout(), present, rows);
    }
  }

  /**
   * Snapshot rows: the runs go into one binary COPY as they came. Keys already in the target (a
   * source task read rows again after a restart) make it fail; then the runs are upserted instead,
   * the last row of a key winning, except for keys a newer change of this batch will write.
   */
  private void applyRuns(Connection conn, TableBatch batch) throws SQLException {
    // binary runs go into COPY as they are; text ones become lines, tuple by tuple
    List<byte[]> runs = text ? tuples(batch.runs()) : batch.runs();
    if (!batch.layout().hasKey()) {
      copy(conn, batch.target().quoted(), batch.layout().columns(), runs);
      return;
    }
    Savepoint beforeCopy = conn.setSavepoint();
    try {
      copy(conn, batch.target().quoted(), batch.layout().columns(), runs);
      conn.releaseSavepoint(beforeCopy);
      return;
    } catch (SQLException e) {
      if (!UNIQUE_VIOLATION.equals(e.getSQLState())) {
        throw e;
      }
      conn.rollback(beforeCopy);
    }
    int[] keyFields = batch.layout().keyFieldIndexes();
    Map<ByteBuffer, byte[]> byKey = new LinkedHashMap<>();
    for (byte[] run : batch.runs()) {
      RowBatchReader rows = RowBatchReader.of(RowBatch.ROWS, run);
      while (rows.next()) {
        byte[] row = rows.newTuple();
        byte[] key = Tuples.project(row, keyFields);
        if (!batch.hasChange(key)) {
          byKey.put(ByteBuffer.wrap(key), row);
        }
      }
    }
    log.debug(
        "{}: snapshot rows meet existing keys, upserting {} rows through a staging table",
        batch.target(),
        byKey.size());
    if (!byKey.isEmpty()) {
      upsert(
          conn,
          batch.target(),
          batch.layout(),
          allFields(batch.layout()),
          new ArrayList<>(byKey.values()));
    }
  }

  private static List<byte[]> tuples(List<byte[]> runs) {
    List<byte[]> tuples = new ArrayList<>();
    for (byte[] run : runs) {
      RowBatchReader rows = RowBatchReader.of(RowBatch.ROWS, run);
      while (rows.next()) {
        tuples.add(rows.newTuple());
      }
    }
    return tuples;
  }

  private void copyOrUpsert(Connection conn, TableBatch batch, List<byte[]> rows)
      throws SQLException {
    Savepoint beforeCopy = conn.setSavepoint();
    try {
      copy(conn, batch.target().quoted(), batch.layout().columns(), rows);
      conn.releaseSavepoint(beforeCopy);
    } catch (SQLException e) {
      if (!UNIQUE_VIOLATION.equals(e.getSQLState())) {
        throw e;
      }
      conn.rollback(beforeCopy);
      log.debug(
          "{}: {} rows meet existing keys, upserting through a staging table",
          batch.target(),
          rows.size());
      upsert(conn, batch.target(), batch.layout(), allFields(batch.layout()), rows);
    }
  }

  /**
   * Upserts rows holding the {@code fields} of the layout, setting only those columns on conflict.
   */
  private void upsert(
      Connection conn, TableId target, ColumnLayout layout, int[] fields, List<byte[]> rows)
      throws SQLException {
    List<Column> columns = columns(layout, fields);
    String stage = staging(conn, target, columns);
    copy(conn, stage, columns, rows);
    try (Statement st = conn.createStatement()) {
      st.execute(upsertSql(target, layout, columns, stage));
      st.execute("TRUNCATE " + stage);
    }
  }

  private void delete(Connection conn, TableBatch batch, List<byte[]> keys) throws SQLException {
    List<Column> keyColumns = batch.layout().keyColumns();
    String stage = staging(conn, batch.target(), keyColumns);
    copy(conn, stage, keyColumns, keys);
    StringBuilder sql =
        new StringBuilder("DELETE FROM ")
            .append(batch.target().quoted())
            .append(" t USING ")
            .append(stage)
            .append(" s WHERE ");
    for (int i = 0; i < keyColumns.size(); i++) {
      String q = TableId.quoteIdentifier(keyColumns.get(i).name());
      sql.append(i == 0 ? "" : " AND ").append("t.").append(q).append(" = s.").append(q);
    }
    try (Statement st = conn.createStatement()) {
      st.execute(sql.toString());
      st.execute("TRUNCATE " + stage);
    }
  }

  /**
   * Keyless: the batch reduced to old rows to remove and new rows to add ({@link KeylessChanges});
   * the old rows are removed with one statement (one target row per occurrence, matched on the text
   * form of every column, so every type compares), the new rows added with one COPY.
   */
  private void applyKeyless(Connection conn, TableBatch batch) throws SQLException {
    List<Column> all = batch.layout().columns();
    KeylessChanges changes;
    try {
      changes = KeylessChanges.of(batch.changes());
    } catch (IllegalArgumentException e) {
      throw new SQLException(batch.target() + ": " + e.getMessage(), "22023");
    }
    if (!changes.deletes().isEmpty()) {
      String stage = staging(conn, batch.target(), all);
      copy(conn, stage, all, changes.deletes());
      String row = "ROW(" + columnList(all) + ")::text";
      String target = batch.target().quoted();
      try (Statement st = conn.createStatement()) {
        st.execute(
            "DELETE FROM "
                + target
                + " t USING (SELECT m.ctid FROM (SELECT x.ctid, row_number() OVER "
                + "(PARTITION BY x.r) AS rn, d.n FROM (SELECT ctid, "
                + row
                + " AS r FROM "
                + target
                + ") x JOIN (SELECT "
                + row
                + " AS r, count(*) AS n FROM "
                + stage
                + " GROUP BY 1) d ON d.r = x.r) m WHERE m.rn <= m.n) gone"
                + " WHERE t.ctid = gone.ctid");
        st.execute("TRUNCATE " + stage);
      }
    }
    if (!changes.inserts().isEmpty()) {
      copy(conn, batch.target().quoted(), all, changes.inserts());
    }
  }

  /** COPYs tuples into the columns of a (quoted) table, in the current batch's format. */
  private void copy(Connection conn, String table, List<Column> columns, List<byte[]> rows)
      throws SQLException {
    String sql =
        "COPY "
            + table
            + " ("
            + columnList(columns)
            + ") FROM STDIN (FORMAT "
            + (text ? "text" : "binary")
            + ")";
    if (text) {
      CopyIn.copyText(conn, sql, rows);
    } else {
      CopyIn.copy(conn, sql, rows);
    }
  }

  /** A temporary table with the given columns of the target, created once per session. */
  private String staging(Connection conn, TableId target, List<Column> columns)
      throws SQLException {
    String cols = columnList(columns);
    String key = target.quoted() + "(" + cols + ")";
    String stage = stagingTables.get(key);
    if (stage == null) {
      stage = TableId.quoteIdentifier("pgcopy_stage_" + (++stagingCounter));
      try (Statement st = conn.createStatement()) {
        st.execute(
            "CREATE TEMP TABLE IF NOT EXISTS "
                + stage
                + " ON COMMIT DELETE ROWS AS SELECT "
                + cols
                + " FROM "
                + target.quoted()
                + " WITH NO DATA");
      }
      stagingTables.put(key, stage);
    }
    return stage;
  }

  /**
   * Forgets the staging tables (the session that had them is gone, or a transaction that made one
   * rolled back).
   */
  public void reset() {
    stagingTables.clear();
  }

  static String upsertSql(TableId target, ColumnLayout layout, List<Column> columns, String stage) {
    String list = columnList(columns);
    // OVERRIDING SYSTEM VALUE: the source's values also go into a GENERATED ALWAYS identity column
    // (as COPY does); a table without one ignores it
    StringBuilder sql =
        new StringBuilder("INSERT INTO ")
            .append(target.quoted())
            .append(" (")
            .append(list)
            .append(") OVERRIDING SYSTEM VALUE SELECT ")
            .append(list)
            .append(" FROM ")
            .append(stage)
            .append(" ON CONFLICT (")
            .append(columnList(layout.keyColumns()))
            .append(") DO ");
    StringBuilder set = new StringBuilder();
    for (Column c : columns) {
      if (!c.isKey()) {
        String q = TableId.quoteIdentifier(c.name());
        set.append(set.length() == 0 ? "" : ", ").append(q).append(" = EXCLUDED.").append(q);
      }
    }
    return set.length() == 0
        ? sql.append("NOTHING").toString()
        : sql.append("UPDATE SET ").append(set).toString();
  }

  static String upsertSql(TableId target, ColumnLayout layout, String stage) {
    return upsertSql(target, layout, layout.columns(), stage);
  }

  private static int[] allFields(ColumnLayout layout) {
    int[] all = new int[layout.size()];
    for (int i = 0; i < all.length; i++) {
      all[i] = i;
    }
    return all;
  }

  private static int[] present(int size, int[] absent) {
    boolean[] gone = new boolean[size];
    for (int a : absent) {
      gone[a] = true;
    }
    int[] out = new int[size - absent.length];
    int n = 0;
    for (int i = 0; i < size; i++) {
      if (!gone[i]) {
        out[n++] = i;
      }
    }
    return out;
  }

  private static List<Column> columns(ColumnLayout layout, int[] fields) {
    List<Column> out = new ArrayList<>(fields.length);
    for (int f : fields) {
      out.add(layout.columns().get(f));
    }
    return out;
  }

  static String columnList(List<Column> columns) {
    StringBuilder sb = new StringBuilder();
    for (Column c : columns) {
      sb.append(sb.length() == 0 ? "" : ", ").append(TableId.quoteIdentifier(c.name()));
    }
    return sb.toString();
  }
}
