package io.pgcopy.connect.source;

import io.pgcopy.connect.format.SqlStates;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Properties;

/** Opens connections to the source with the configured credentials. */
final class PgConnections {
  private PgConnections() {}

  static Connection open(PgCopySourceConfig config, String applicationName) throws SQLException {
    return SqlStates.connect(new org.postgresql.Driver(), config.connectionUrl(), config.user(), config.password(),
        applicationName, new Properties());
  }
}
