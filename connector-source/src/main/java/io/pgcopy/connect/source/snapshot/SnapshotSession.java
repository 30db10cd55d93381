package io.pgcopy.connect.source.snapshot;

import io.pgcopy.connect.common.ConnectionSettings;
import io.pgcopy.connect.source.config.PgCopySourceConfig;
import io.pgcopy.connect.source.postgres.SqlErrors;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.regex.Pattern;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyOut;

/**
 * A snapshot task's connection to the source: one transaction per range, each under the exported
 * snapshot, with the session settings a range read needs. Opened on first use and again after
 * {@link #close()}; {@link #cancel()} may be called from any thread.
 */
final class SnapshotSession implements AutoCloseable {
  private static final Pattern SNAPSHOT_NAME = Pattern.compile("[0-9A-Fa-f-]+");

  private final PgCopySourceConfig config;
  private final String taskName;
  private final String snapshotName;
  private volatile Connection conn;

  /**
   * @throws IllegalArgumentException when {@code snapshotName} is not the name of an exported
   *     snapshot (it is written into SQL)
   */
  SnapshotSession(PgCopySourceConfig config, String taskName, String snapshotName) {
    if (!SNAPSHOT_NAME.matcher(snapshotName).matches()) {
      throw new IllegalArgumentException("bad snapshot name '" + snapshotName + "'");
    }
    this.config = config;
    this.taskName = taskName;
    this.snapshotName = snapshotName;
  }

  /**
   * Begins a range's transaction under the exported snapshot (repeatable read, read only) with rows
   * in physical order (no parallel or synchronized scans) and fixed text forms, whatever the
   * server's defaults; returns its connection, for catalog queries in the same transaction.
   */
  Connection beginRange() throws SQLException {
    Connection c = connection();
    try (Statement st = c.createStatement()) {
      st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
      st.execute("SET TRANSACTION SNAPSHOT '" + snapshotName + "'");
      // rows must come in physical order for the ctid offsets: no parallel or synchronized scans
      st.execute("SET LOCAL max_parallel_workers_per_gather = 0");
      st.execute("SET LOCAL synchronize_seqscans = off");
      // fixed text forms, whatever the server's defaults: struct records and tables that travel as
      // text carry them, and a text-mode stream hashes keys in them
      st.execute(
          "SET LOCAL bytea_output = hex; SET LOCAL TimeZone = 'UTC'; SET LOCAL extra_float_digits = 3;"
              + " SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL IntervalStyle = 'postgres'");
    }
    return c;
  }

  /** Starts {@code COPY .. TO STDOUT} in the range's transaction, begun by {@link #beginRange}. */
  CopyOut copyOut(String sql) throws SQLException {
    Connection c = conn;
    if (c == null) {
      throw new SQLException(taskName + ": the range's connection was closed before its COPY");
    }
    return c.unwrap(PGConnection.class).getCopyAPI().copyOut(sql);
  }

  /** Ends the range's transaction; fails when its connection was closed meanwhile. */
  void commit() throws SQLException {
    Connection c = conn;
    if (c == null) {
      throw new SQLException(taskName + ": the range's connection was closed before its commit");
    }
    c.commit();
  }

  /**
   * The server's WAL position now (on a standby, the last replayed), in a transaction of its own
   * ended before the range's: what tells one truncate of a table from another.
   */
  long walPosition() throws SQLException {
    Connection c = connection();
    try (Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()"
                    + " ELSE pg_current_wal_lsn() END - '0/0'::pg_lsn")) {
      rs.next();
      long lsn = rs.getLong(1);
      c.commit();
      return lsn;
    }
  }

  /**
   * Cancels a running statement or COPY from another thread (the driver sends a cancel request).
   */
  void cancel() {
    SqlErrors.cancelQuietly(conn, taskName);
  }

  /** Closes the connection; the next call opens a new one. */
  @Override
  public void close() {
    Connection c = conn;
    conn = null;
    SqlErrors.closeQuietly(c, taskName);
  }

  private Connection connection() throws SQLException {
    Connection c = conn;
    if (c == null || c.isClosed()) {
      c = ConnectionSettings.open(config, "pgcopy-snapshot " + taskName);
      c.setAutoCommit(false);
      conn = c;
    }
    return c;
  }
}
