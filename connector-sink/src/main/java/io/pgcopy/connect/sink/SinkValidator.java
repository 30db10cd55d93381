package io.pgcopy.connect.sink;

import static io.pgcopy.connect.sink.config.PgCopySinkConfig.CONNECTION_URL_CONFIG;
import static io.pgcopy.connect.sink.config.PgCopySinkConfig.CONNECTION_USER_CONFIG;
import static io.pgcopy.connect.sink.config.PgCopySinkConfig.OFFSETS_TABLE_CONFIG;

import io.pgcopy.connect.common.ConnectionSettings;
import io.pgcopy.connect.common.Converters;
import io.pgcopy.connect.common.Validation;
import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.sink.config.PgCopySinkConfig;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.Config;

/** The checks behind the sink's {@code validate()}: can we reach the target, and write to it? */
final class SinkValidator {
  private final Validation result;

  SinkValidator(Config config) {
    this.result = new Validation(config);
  }

  void validate(Map<String, String> props) {
    // the value converter depends on the topics' record.format (ByteArray for binary, JSON or Avro
    // for struct), so only the header converter is checked here; a mismatch fails the first record
    Converters.requireByteArray(
        result,
        props,
        List.of(Converters.HEADER),
        "pgcopy records carry binary headers (operation, column layout, LSN) that the sink reads");
    if (result.hasAnyErrors()) {
      return; // the field messages are the answer; a configuration cannot be parsed
    }
    PgCopySinkConfig config = new PgCopySinkConfig(props);
    try (Connection conn = ConnectionSettings.open(config, "pgcopy-sink validate")) {
      checkWritable(conn, config.offsetsTable());
    } catch (SQLException e) {
      result.connectionFailure(e, config.user(), "target");
    }
  }

  private void checkWritable(Connection conn, TableId offsets) throws SQLException {
    try (PreparedStatement ps =
        conn.prepareStatement(
            "SELECT pg_is_in_recovery(), current_setting('default_transaction_read_only') = 'on', current_user,"
                + " to_regclass(?) IS NOT NULL,"
                + " CASE WHEN to_regclass(?) IS NOT NULL THEN has_table_privilege(to_regclass(?), 'SELECT, INSERT, UPDATE') END,"
                + " CASE WHEN to_regnamespace(?) IS NOT NULL THEN has_schema_privilege(to_regnamespace(?), 'CREATE') END")) {
      String table = offsets.quoted();
      String schema = TableId.quoteIdentifier(offsets.schema());
      ps.setString(1, table);
      ps.setString(2, table);
      ps.setString(3, table);
      ps.setString(4, schema);
      ps.setString(5, schema);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        String user = rs.getString(3);
        if (rs.getBoolean(1)) {
          error(
              CONNECTION_URL_CONFIG,
              "the target is a standby in recovery and cannot be written: point the URL at the primary");
        } else if (rs.getBoolean(2)) {
          error(
              CONNECTION_URL_CONFIG,
              "the target's default_transaction_read_only is on for user "
                  + user
                  + ": the sink cannot write (ALTER ROLE ... SET default_transaction_read_only = off)");
        } else if (rs.getBoolean(4)) {
          if (!rs.getBoolean(5)) {
            error(
                CONNECTION_USER_CONFIG,
                "user "
                    + user
                    + " cannot SELECT, INSERT and UPDATE the offsets table "
                    + offsets
                    + ": GRANT SELECT, INSERT, UPDATE ON "
                    + table
                    + " TO "
                    + TableId.quoteIdentifier(user));
          }
        } else if (!Boolean.TRUE.equals(rs.getObject(6))) {
          error(
              CONNECTION_USER_CONFIG,
              "user "
                  + user
                  + " cannot create the offsets table "
                  + offsets
                  + ": the schema is missing or lacks CREATE for this user (GRANT CREATE ON SCHEMA "
                  + schema
                  + " TO "
                  + TableId.quoteIdentifier(user)
                  + ", or set "
                  + OFFSETS_TABLE_CONFIG
                  + ")");
        }
      }
    }
  }

  private void error(String key, String message) {
    result.error(key, message);
  }
}
