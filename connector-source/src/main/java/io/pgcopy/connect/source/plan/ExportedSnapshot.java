package io.pgcopy.connect.source.plan;

import io.pgcopy.connect.source.postgres.ReplicationSetup;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A snapshot exported by an open REPEATABLE READ transaction. The snapshot can be imported by other
 * sessions ({@code SET TRANSACTION SNAPSHOT}) exactly as long as this object is open, so the
 * connector holds it until every range is read. Thread-safe close.
 */
public final class ExportedSnapshot implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ExportedSnapshot.class);

  private final Connection conn;
  private final String name;
  private final boolean replication;
  private final long lsn;
  private final int backendPid;

  private ExportedSnapshot(Connection conn, String name, boolean replication, long lsn)
      throws SQLException {
    this.conn = conn;
    this.name = name;
    this.replication = replication;
    this.lsn = lsn;
    this.backendPid = conn.unwrap(PGConnection.class).getBackendPID();
  }

  /**
   * Creates the replication slot on {@code replicationConn} and holds the snapshot it exports: the
   * state of the database at the slot's consistent point, so that the stream continues exactly
   * where the snapshot ends.
   */
  static ExportedSnapshot createSlot(Connection replicationConn, String slot) throws SQLException {
    try {
      ReplicationSetup.CreatedSlot created =
          ReplicationSetup.createSlot(replicationConn, slot, true);
      return new ExportedSnapshot(
          replicationConn, created.snapshotName(), true, created.consistentLsn());
    } catch (SQLException e) {
      replicationConn.close();
      throw e;
    }
  }

  /**
   * Exports a snapshot from a new temporary slot on {@code replicationConn}: a snapshot whose
   * consistent LSN is known, so the stream (from the connector's own slot, which started earlier)
   * can tell the changes it already holds from those it does not. The temporary slot goes away with
   * the connection.
   */
  static ExportedSnapshot createTemporarySlot(Connection replicationConn, String slot)
      throws SQLException {
    try {
      ReplicationSetup.CreatedSlot created =
          ReplicationSetup.createTemporarySlot(replicationConn, slot);
      return new ExportedSnapshot(
          replicationConn, created.snapshotName(), true, created.consistentLsn());
    } catch (SQLException e) {
      replicationConn.close();
      throw e;
    }
  }

  static ExportedSnapshot export(Connection conn) throws SQLException {
    try {
      conn.setAutoCommit(false);
      try (Statement st = conn.createStatement()) {
        st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
        try (ResultSet rs = st.executeQuery("SELECT pg_export_snapshot()")) {
          rs.next();
          return new ExportedSnapshot(conn, rs.getString(1), false, 0);
        }
      }
    } catch (SQLException e) {
      conn.close();
      throw e;
    }
  }

  public String name() {
    return name;
  }

  /**
   * The LSN from which a slot streams what this snapshot does not hold; 0 when not known (no slot).
   */
  long lsn() {
    return lsn;
  }

  /**
   * Whether the session holding the snapshot is still there, asked on another connection (the
   * holding one must stay idle: any command on it would end the snapshot).
   */
  public boolean alive(Connection other) throws SQLException {
    try (PreparedStatement ps =
        other.prepareStatement("SELECT 1 FROM pg_stat_activity WHERE pid = ?")) {
      ps.setInt(1, backendPid);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  @Override
  public synchronized void close() {
    try {
      if (!conn.isClosed()) {
        if (!replication) {
          conn.rollback();
        }
        conn.close();
        log.info("Released exported snapshot {}", name);
      }
    } catch (SQLException e) {
      log.warn("Closing the connection that held snapshot {} failed: {}", name, e.getMessage());
    }
  }
}
