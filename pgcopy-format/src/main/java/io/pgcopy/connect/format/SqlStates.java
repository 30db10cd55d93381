package io.pgcopy.connect.format;

import java.sql.Connection;
import java.sql.Driver;
import java.sql.SQLException;
import java.util.Properties;

/** JDBC helpers both connectors share: opening a connection, and telling transient failures from permanent ones. */
public final class SqlStates {
  private SqlStates() {}

  /**
   * Connects through the given driver rather than DriverManager, which resolves drivers through
   * the caller's class loader and so may not see the copy inside a Connect plugin.
   */
  public static Connection connect(Driver driver, String url, String user, String password, String applicationName,
      Properties extra) throws SQLException {
    Properties props = new Properties();
    props.putAll(extra);
    props.setProperty("user", user);
    if (password != null) {
      props.setProperty("password", password);
    }
    props.setProperty("ApplicationName", applicationName);
    Connection c = driver.connect(url, props);
    if (c == null) {
      throw new SQLException("not a PostgreSQL JDBC URL: " + url, "08001");
    }
    return c;
  }

  /**
   * True when retrying may succeed: connection trouble (08), serialization failure or deadlock
   * (40), resources (53), operator intervention (57), or no SQLState at all (an I/O error in the
   * driver). Authentication (28), privileges and syntax (42) and the rest are permanent.
   */
  public static boolean isTransient(SQLException e) {
    String state = e.getSQLState();
    if (state == null || state.isEmpty()) {
      return true;
    }
    return state.startsWith("08") || state.startsWith("40") || state.startsWith("53") || state.startsWith("57");
  }
}
