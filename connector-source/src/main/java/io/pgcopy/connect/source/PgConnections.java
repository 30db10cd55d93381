package io.pgcopy.connect.source;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Properties;

/** Opens connections to the source with the configured credentials. */
final class PgConnections {
  private PgConnections() {}

  static Connection open(PgCopySourceConfig config, String applicationName) throws SQLException {
    return open(config, applicationName, new Properties());
  }

  /**
   * Uses the driver directly rather than DriverManager, which resolves drivers through the
   * caller's class loader and so may not see the copy inside this plugin.
   */
  static Connection open(PgCopySourceConfig config, String applicationName, Properties extra) throws SQLException {
    Properties props = new Properties();
    props.putAll(extra);
    props.setProperty("user", config.user());
    if (config.password() != null) {
      props.setProperty("password", config.password());
    }
    props.setProperty("ApplicationName", applicationName);
    Connection c = new org.postgresql.Driver().connect(config.connectionUrl(), props);
    if (c == null) {
      throw new SQLException("not a PostgreSQL JDBC URL: " + config.connectionUrl(), "08001");
    }
    return c;
  }
}
