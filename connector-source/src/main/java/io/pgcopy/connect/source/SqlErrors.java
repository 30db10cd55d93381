package io.pgcopy.connect.source;

import io.pgcopy.connect.format.SqlStates;
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
    return SqlStates.isTransient(e) ? new RetriableException(message, e) : new ConnectException(message, e);
  }
}
