package io.pgcopy.connect.source;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A snapshot exported by an open REPEATABLE READ transaction. The snapshot can be imported by
 * other sessions ({@code SET TRANSACTION SNAPSHOT}) exactly as long as this object is open, so the
 * connector holds it until every range is read. Thread-safe close.
 */
final class ExportedSnapshot implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ExportedSnapshot.class);

  private final Connection conn;
  private final String name;
  private final boolean replication;

  private ExportedSnapshot(Connection conn, String name, boolean replication) {
    this.conn = conn;
    this.name = name;
    this.replication = replication;
  }

  /**
   * Creates the replication slot on {@code replicationConn} and holds the snapshot it exports: the
   * state of the database at the slot's consistent point, so that the stream continues exactly
   * where the snapshot ends.
   */
  static ExportedSnapshot createSlot(Connection replicationConn, String slot) throws SQLException {
    try {
      ReplicationSetup.CreatedSlot created = ReplicationSetup.createSlot(replicationConn, slot, true);
      return new ExportedSnapshot(replicationConn, created.snapshotName(), true);
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
          return new ExportedSnapshot(conn, rs.getString(1), false);
        }
      }
    } catch (SQLException e) {
      conn.close();
      throw e;
    }
  }

  /** Whether this is the snapshot of a replication slot created with it. */
  boolean fromSlot() {
    return replication;
  }

  String name() {
    return name;
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
