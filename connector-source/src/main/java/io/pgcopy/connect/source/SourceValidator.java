package io.pgcopy.connect.source;

import static io.pgcopy.connect.source.PgCopySourceConfig.CONNECTION_PASSWORD_CONFIG;
import static io.pgcopy.connect.source.PgCopySourceConfig.CONNECTION_URL_CONFIG;
import static io.pgcopy.connect.source.PgCopySourceConfig.CONNECTION_USER_CONFIG;
import static io.pgcopy.connect.source.PgCopySourceConfig.SNAPSHOT_MODE_CONFIG;
import static io.pgcopy.connect.source.PgCopySourceConfig.TABLE_INCLUDE_LIST_CONFIG;

import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.source.PgCopySourceConfig.SnapshotMode;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigValue;

/**
 * The checks behind {@code validate()}: what users get wrong first, each reported on the field
 * concerned. Runs only when the fields it needs passed their own validators.
 */
final class SourceValidator {
  static final int MIN_SERVER_VERSION = 140000;

  private final Map<String, ConfigValue> values;

  SourceValidator(Config config) {
    this.values = new java.util.HashMap<>();
    config.configValues().forEach(v -> values.put(v.name(), v));
  }

  void validate(Map<String, String> props) {
    for (String key : List.of(CONNECTION_URL_CONFIG, CONNECTION_USER_CONFIG, TABLE_INCLUDE_LIST_CONFIG, SNAPSHOT_MODE_CONFIG)) {
      if (!values.get(key).errorMessages().isEmpty()) {
        return;
      }
    }
    PgCopySourceConfig config = new PgCopySourceConfig(props);
    SnapshotMode mode = config.snapshotMode();
    if (mode != SnapshotMode.INITIAL_ONLY) {
      error(SNAPSHOT_MODE_CONFIG, "snapshot.mode=" + mode.configValue() + " needs change data capture, which this "
          + "release does not have yet; use snapshot.mode=initial_only");
    }
    try (Connection conn = PgConnections.open(config, "pgcopy-source validate")) {
      checkServer(conn, mode);
      checkTables(conn, config.tables());
    } catch (SQLException e) {
      reportConnectionFailure(e, config.user());
    }
  }

  private void checkServer(Connection conn, SnapshotMode mode) throws SQLException {
    try (Statement st = conn.createStatement();
         ResultSet rs = st.executeQuery("SELECT current_setting('server_version_num')::int, current_setting('wal_level'),"
             + " (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user), current_user")) {
      rs.next();
      int version = rs.getInt(1);
      String walLevel = rs.getString(2);
      boolean replication = rs.getBoolean(3);
      String user = rs.getString(4);
      if (version < MIN_SERVER_VERSION) {
        error(CONNECTION_URL_CONFIG, "the server runs PostgreSQL " + version + "; pgcopy needs 14 or later "
            + "(TID range scans make each CTID range read only its own pages)");
      }
      if (mode != SnapshotMode.INITIAL_ONLY) {
        if (!"logical".equals(walLevel)) {
          error(CONNECTION_URL_CONFIG, "the server has wal_level=" + walLevel + "; change data capture needs "
              + "wal_level=logical (set it in postgresql.conf and restart), or use snapshot.mode=initial_only");
        }
        if (!replication) {
          error(CONNECTION_USER_CONFIG, "user " + user + " lacks the REPLICATION attribute needed to create and "
              + "read the replication slot: ALTER ROLE " + TableId.quoteIdentifier(user) + " REPLICATION, "
              + "or use snapshot.mode=initial_only");
        }
      }
    }
  }

  private void checkTables(Connection conn, List<TableId> tables) throws SQLException {
    SourceCatalog catalog = new SourceCatalog(conn);
    for (TableId table : tables) {
      try {
        catalog.extents(List.of(table));
        if (!catalog.canSelect(table)) {
          error(TABLE_INCLUDE_LIST_CONFIG, "no SELECT privilege on " + table + ": GRANT SELECT ON " + table.quoted()
              + " TO the connector's user");
        }
      } catch (SourceCatalog.TableProblem e) {
        error(TABLE_INCLUDE_LIST_CONFIG, e.getMessage());
      }
    }
  }

  private void reportConnectionFailure(SQLException e, String user) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    if (state.startsWith("28")) {
      String msg = "authentication failed for user " + user + ": " + e.getMessage();
      error(CONNECTION_USER_CONFIG, msg);
      error(CONNECTION_PASSWORD_CONFIG, msg);
    } else if (state.equals("3D000")) {
      error(CONNECTION_URL_CONFIG, "the database does not exist: " + e.getMessage());
    } else if (state.startsWith("08")) {
      error(CONNECTION_URL_CONFIG, "cannot connect: " + e.getMessage() + ". Check host, port, network and sslmode");
    } else {
      error(CONNECTION_URL_CONFIG, "checking the source failed: " + e.getMessage() + " (SQLState " + state + ")");
    }
  }

  private void error(String key, String message) {
    values.get(key).addErrorMessage(message);
  }
}
