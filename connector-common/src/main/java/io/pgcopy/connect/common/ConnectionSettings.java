package io.pgcopy.connect.common;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Properties;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;
import org.postgresql.Driver;

/**
 * connection.url, connection.user and connection.password: defined, validated and used the same way
 * by both connectors.
 */
public final class ConnectionSettings {
  public static final String CONNECTION_URL_CONFIG = "connection.url";
  public static final String CONNECTION_USER_CONFIG = "connection.user";
  public static final String CONNECTION_PASSWORD_CONFIG = "connection.password";
  public static final String GROUP = "Connection";

  private ConnectionSettings() {}

  /**
   * Adds the three settings to {@code def}; {@code database} names the side ("source", "target").
   */
  public static void define(ConfigDef def, String database, String userDoc) {
    int order = 0;
    def.define(
            CONNECTION_URL_CONFIG,
            Type.STRING,
            ConfigDef.NO_DEFAULT_VALUE,
            new JdbcUrlValidator(),
            Importance.HIGH,
            "JDBC URL of the "
                + database
                + " database, jdbc:postgresql://host:port/database. Every pgjdbc option "
                + "(sslmode, sslrootcert, ...) may be given as a URL parameter.",
            GROUP,
            ++order,
            Width.LONG,
            "JDBC URL")
        .define(
            CONNECTION_USER_CONFIG,
            Type.STRING,
            ConfigDef.NO_DEFAULT_VALUE,
            new ConfigDef.NonEmptyString(),
            Importance.HIGH,
            userDoc,
            GROUP,
            ++order,
            Width.MEDIUM,
            "User")
        .define(
            CONNECTION_PASSWORD_CONFIG,
            Type.PASSWORD,
            null,
            Importance.HIGH,
            "Password of connection.user.",
            GROUP,
            ++order,
            Width.MEDIUM,
            "Password");
  }

  /** Opens a connection with the settings of {@code config}. */
  public static Connection open(AbstractConfig config, String applicationName) throws SQLException {
    return open(config, applicationName, new Properties());
  }

  /**
   * Opens a connection with the settings of {@code config} and extra driver properties, through
   * pgjdbc's driver itself rather than DriverManager, which resolves drivers through the caller's
   * class loader and so may not see the copy inside a Connect plugin.
   */
  public static Connection open(AbstractConfig config, String applicationName, Properties extra)
      throws SQLException {
    Properties props = new Properties();
    props.putAll(extra);
    props.setProperty("user", config.getString(CONNECTION_USER_CONFIG));
    Password password = config.getPassword(CONNECTION_PASSWORD_CONFIG);
    if (password != null) {
      props.setProperty("password", password.value());
    }
    props.setProperty("ApplicationName", applicationName);
    String url = config.getString(CONNECTION_URL_CONFIG);
    Connection c = new Driver().connect(url, props);
    if (c == null) {
      throw new SQLException("not a PostgreSQL JDBC URL: " + url, "08001");
    }
    return c;
  }

  /**
   * Opens a logical replication connection ({@code replication=database}, simple query protocol),
   * which runs replication commands such as CREATE_REPLICATION_SLOT and START_REPLICATION.
   */
  public static Connection openReplication(AbstractConfig config, String applicationName)
      throws SQLException {
    Properties extra = new Properties();
    extra.setProperty("replication", "database");
    extra.setProperty("preferQueryMode", "simple");
    extra.setProperty("assumeMinServerVersion", "14");
    return open(config, applicationName, extra);
  }

  static final class JdbcUrlValidator implements ConfigDef.Validator {
    @Override
    public void ensureValid(String name, Object value) {
      if (value == null || !value.toString().startsWith("jdbc:postgresql:")) {
        throw new ConfigException(
            name, value, "must be a PostgreSQL JDBC URL: jdbc:postgresql://host:port/database");
      }
    }

    @Override
    public String toString() {
      return "jdbc:postgresql://host:port/database[?option=value...]";
    }
  }
}
