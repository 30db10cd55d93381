package io.pgcopy.connect.sink;

import io.pgcopy.connect.format.Column;
import io.pgcopy.connect.format.ColumnLayout;
import io.pgcopy.connect.format.TableId;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one table's batch inside the caller's transaction. New rows go in with one binary COPY
 * straight from the record bytes. A keyed table whose batch meets rows already in the target (a
 * source task re-sent them after a restart) falls back, for that batch, to a staging table filled
 * by the same COPY and one {@code INSERT .. ON CONFLICT DO UPDATE}.
 */
final class BatchApplier {
  private static final Logger log = LoggerFactory.getLogger(BatchApplier.class);
  private static final String UNIQUE_VIOLATION = "23505";

  private final Map<TableId, Map<ColumnLayout, String>> stagingTables = new HashMap<>();
  private int stagingCounter;

  void apply(Connection conn, TableBatch batch) throws SQLException {
    String columns = columnList(batch.layout().columns());
    String copySql = "COPY " + batch.target().quoted() + " (" + columns + ") FROM STDIN (FORMAT binary)";
    if (!batch.layout().hasKey()) {
      CopyIn.copy(conn, copySql, batch.rows());
      return;
    }
    Savepoint beforeCopy = conn.setSavepoint();
    try {
      CopyIn.copy(conn, copySql, batch.rows());
      conn.releaseSavepoint(beforeCopy);
    } catch (SQLException e) {
      if (!UNIQUE_VIOLATION.equals(e.getSQLState())) {
        throw e;
      }
      conn.rollback(beforeCopy);
      log.debug("{}: {} rows meet existing keys, upserting through a staging table", batch.target(), batch.size());
      upsert(conn, batch, columns);
    }
  }

  private void upsert(Connection conn, TableBatch batch, String columns) throws SQLException {
    String stage = stagingTable(batch.target(), batch.layout());
    try (Statement st = conn.createStatement()) {
      st.execute("CREATE TEMP TABLE IF NOT EXISTS " + stage + " ON COMMIT DELETE ROWS AS SELECT " + columns
          + " FROM " + batch.target().quoted() + " WITH NO DATA");
      CopyIn.copy(conn, "COPY " + stage + " (" + columns + ") FROM STDIN (FORMAT binary)", batch.rows());
      st.execute(upsertSql(batch.target(), batch.layout(), stage));
      st.execute("TRUNCATE " + stage);
    }
  }

  static String upsertSql(TableId target, ColumnLayout layout, String stage) {
    String columns = columnList(layout.columns());
    StringBuilder sql = new StringBuilder("INSERT INTO ").append(target.quoted()).append(" (").append(columns)
        .append(") SELECT ").append(columns).append(" FROM ").append(stage)
        .append(" ON CONFLICT (").append(columnList(layout.keyColumns())).append(") DO ");
    StringBuilder set = new StringBuilder();
    for (Column c : layout.columns()) {
      if (!c.isKey()) {
        String q = TableId.quoteIdentifier(c.name());
        set.append(set.length() == 0 ? "" : ", ").append(q).append(" = EXCLUDED.").append(q);
      }
    }
    return set.length() == 0 ? sql.append("NOTHING").toString() : sql.append("UPDATE SET ").append(set).toString();
  }

  private String stagingTable(TableId target, ColumnLayout layout) {
    return stagingTables.computeIfAbsent(target, t -> new HashMap<>())
        .computeIfAbsent(layout, l -> TableId.quoteIdentifier("pgcopy_stage_" + (++stagingCounter)));
  }

  static String columnList(List<Column> columns) {
    StringBuilder sb = new StringBuilder();
    for (Column c : columns) {
      sb.append(sb.length() == 0 ? "" : ", ").append(TableId.quoteIdentifier(c.name()));
    }
    return sb.toString();
  }
}
