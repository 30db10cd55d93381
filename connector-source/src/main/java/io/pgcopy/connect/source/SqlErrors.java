package io.pgcopy.connect.source;

import io.pgcopy.connect.format.SqlStates;
import java.sql.Connection;
import java.sql.SQLException;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Sorts SQL failures into those worth retrying and those a person must fix; cancels running statements. */
final class SqlErrors {
  private static final Logger log = LoggerFactory.getLogger(SqlErrors.class);

  private SqlErrors() {}

  /** Cancels the statement running on {@code c} (from another thread); a failure is only logged. */
  static void cancelQuietly(Connection c, String who) {
    if (c != null) {
      try {
        c.unwrap(PGConnection.class).cancelQuery();
      } catch (SQLException e) {
        log.debug("{}: cancel failed: {}", who, e.getMessage());
      }
    }
  }

  static ConnectException translate(SQLException e, String doing) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    String message = doing + " failed: " + e.getMessage() + " (SQLState " + state + ")";
    if ("22023".equals(state) && String.valueOf(e.getMessage()).contains("snapshot")) {
      return new RetriableException(message + ". The exported snapshot is gone (the connector restarted?); "
          + "the connector exports a new one and reconfigures this task", e);
    }
    return SqlStates.isTransient(e) ? new RetriableException(message, e) : new ConnectException(message, e);
  }
}
