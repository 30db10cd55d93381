package io.pgcopy.connect.source;

import java.sql.SQLException;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;

/** Sorts SQL failures into those worth retrying and those a person must fix. */
final class SqlErrors {
  private SqlErrors() {}

  static ConnectException translate(SQLException e, String doing) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    String message = doing + " failed: " + e.getMessage() + " (SQLState " + state + ")";
    if ("22023".equals(state) && String.valueOf(e.getMessage()).contains("snapshot")) {
      return new RetriableException(message + ". The exported snapshot is gone (the connector restarted?); "
          + "the connector exports a new one and reconfigures this task", e);
    }
    if (state.startsWith("28") || state.startsWith("42") || state.startsWith("3D") || state.startsWith("0A")) {
      // authentication, privileges or syntax, missing database, unsupported feature: retrying will not help
      return new ConnectException(message, e);
    }
    if (state.startsWith("08") || state.startsWith("57") || state.startsWith("53") || state.startsWith("40")
        || state.isEmpty()) {
      return new RetriableException(message, e);
    }
    return new ConnectException(message, e);
  }
}
