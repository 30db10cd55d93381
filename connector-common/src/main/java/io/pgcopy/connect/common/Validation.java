package io.pgcopy.connect.common;

import static io.pgcopy.connect.common.ConnectionSettings.CONNECTION_PASSWORD_CONFIG;
import static io.pgcopy.connect.common.ConnectionSettings.CONNECTION_URL_CONFIG;
import static io.pgcopy.connect.common.ConnectionSettings.CONNECTION_USER_CONFIG;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigValue;

/** The result of a connector's validate(), for checks that add errors to the field concerned. */
public final class Validation {
  private final Map<String, ConfigValue> values = new HashMap<>();
  private final Config config;

  public Validation(Config config) {
    this.config = config;
    config.configValues().forEach(v -> values.put(v.name(), v));
  }

  /**
   * True when the field's own validator already found it wrong: live checks that need it must not
   * run.
   */
  public boolean hasErrors(String key) {
    ConfigValue v = values.get(key);
    return v != null && !v.errorMessages().isEmpty();
  }

  /**
   * True when any field's own validator found it wrong: the live checks then do not run (they need
   * a parsed configuration) and the field messages are the answer.
   */
  public boolean hasAnyErrors() {
    return values.values().stream().anyMatch(v -> !v.errorMessages().isEmpty());
  }

  public void error(String key, String message) {
    values.get(key).addErrorMessage(message);
  }

  /**
   * Puts an error on a setting Kafka Connect defines for every connector (a converter, a client
   * override): Connect shows the connector's verdict on that field in place of its own. The value
   * stays null (Connect prints it with the field's own type, a Class for a converter), so the
   * message must name what was set.
   */
  public void frameworkError(String key, String message) {
    values
        .computeIfAbsent(
            key,
            k -> {
              ConfigValue v = new ConfigValue(k, null, new ArrayList<>(), new ArrayList<>());
              config.configValues().add(v);
              return v;
            })
        .addErrorMessage(message);
  }

  /** Puts a failure to connect or query on the field a user must fix: credentials, or the URL. */
  public void connectionFailure(SQLException e, String user, String database) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    if (state.startsWith("28")) {
      String msg = "authentication failed for user " + user + ": " + e.getMessage();
      error(CONNECTION_USER_CONFIG, msg);
      error(CONNECTION_PASSWORD_CONFIG, msg);
    } else if (state.equals("3D000")) {
      error(CONNECTION_URL_CONFIG, "the database does not exist: " + e.getMessage());
    } else if (state.startsWith("08")
        && String.valueOf(e.getMessage()).contains("no password was provided")) {
      // pgjdbc's 08004 when the server asks for a password the config does not give
      error(
          CONNECTION_PASSWORD_CONFIG,
          "the server asks user "
              + user
              + " for a password and none is set: set "
              + CONNECTION_PASSWORD_CONFIG);
    } else if (state.startsWith("08")) {
      String m = String.valueOf(e.getMessage()).replaceAll("\\.+$", "");
      error(
          CONNECTION_URL_CONFIG,
          "cannot connect: " + m + ". Check host, port, network and sslmode");
    } else {
      error(CONNECTION_URL_CONFIG, SqlStates.failed("checking the " + database, e));
    }
  }
}
