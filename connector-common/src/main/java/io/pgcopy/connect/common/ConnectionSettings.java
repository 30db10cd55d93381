package io.pgcopy.connect.common;

import java.net.SocketTimeoutException;
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
 * connection.url, connection.user, connection.password and connection.socket.timeout.ms: defined,
 * validated and used the same way by both connectors.
 */
public final class ConnectionSettings {
  public static final String CONNECTION_URL_CONFIG = "connection.url";
  public static final String CONNECTION_USER_CONFIG = "connection.user";
  public static final String CONNECTION_PASSWORD_CONFIG = "connection.password";
  public static final String CONNECTION_SOCKET_TIMEOUT_MS_CONFIG = "connection.socket.timeout.ms";
  public static final String GROUP = "Connection";

  private static final long DEFAULT_SOCKET_TIMEOUT_MS = 300_000;
  private static final String SOCKET_TIMEOUT_DOC =
      "How long a statement may wait for a byte from PostgreSQL before its connection counts as"
          + " dead: the connection is closed and the work retried on a new one (a transient"
          + " failure, backed off, bounded by retry.timeout.ms). It ends the wait when the link"
          + " falls silent for good (packets dropped, no reset ever arriving), which the operating"
          + " system would otherwise never notice under a read. Applies to range reads, sink"
          + " writes and every short query; not to the replication connections (slot creation"
          + " waits for running transactions, the stream has its own checks). Set it above the"
          + " longest legitimate quiet time of one statement, lock waits in the target included."
          + " 0 waits for ever.";

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
            "Password")
        .define(
            CONNECTION_SOCKET_TIMEOUT_MS_CONFIG,
            Type.LONG,
            DEFAULT_SOCKET_TIMEOUT_MS,
            ConfigDef.Range.between(0, Integer.MAX_VALUE * 1000L),
            Importance.LOW,
            SOCKET_TIMEOUT_DOC,
            GROUP,
            ++order,
            Width.SHORT,
            "Socket timeout (ms)");
  }

  /**
   * Opens a connection with the settings of {@code config}, whose reads give up after {@code
   * connection.socket.timeout.ms} without a byte.
   */
  public static Connection open(AbstractConfig config, String applicationName) throws SQLException {
    return open(config, applicationName, new Properties());
  }

  /**
   * Opens a connection with the settings of {@code config} and extra driver properties (which win
   * over the settings; parameters in the URL win over both), through pgjdbc's driver itself rather
   * than DriverManager, which resolves drivers through the caller's class loader and so may not see
   * the copy inside a Connect plugin.
   */
  public static Connection open(AbstractConfig config, String applicationName, Properties extra)
      throws SQLException {
    Properties props = new Properties();
    // pgjdbc counts its socket timeout in whole seconds
    long timeoutMs = config.getLong(CONNECTION_SOCKET_TIMEOUT_MS_CONFIG);
    props.setProperty("socketTimeout", Long.toString((timeoutMs + 999) / 1000));
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
   * which runs replication commands such as CREATE_REPLICATION_SLOT and START_REPLICATION. Its
   * reads wait as long as it takes: creating a slot waits for the transactions running on the
   * server.
   */
  public static Connection openReplication(AbstractConfig config, String applicationName)
      throws SQLException {
    Properties extra = new Properties();
    extra.setProperty("replication", "database");
    extra.setProperty("preferQueryMode", "simple");
    extra.setProperty("assumeMinServerVersion", "14");
    extra.setProperty("socketTimeout", "0");
    return open(config, applicationName, extra);
  }

  /**
   * What to tell the operator when {@code failure} is a read that gave up after {@code
   * connection.socket.timeout.ms}: an empty string for any other failure.
   */
  public static String socketTimeoutHint(Throwable failure, AbstractConfig config) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof SocketTimeoutException) {
        return " (no byte from PostgreSQL for "
            + CONNECTION_SOCKET_TIMEOUT_MS_CONFIG
            + "="
            + config.getLong(CONNECTION_SOCKET_TIMEOUT_MS_CONFIG)
            + " ms: the link or the server is stuck, or a statement waits on a lock; if"
            + " statements legitimately stay quiet that long, raise the setting)";
      }
    }
    return "";
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
