package io.pgcopy.connect.source.postgres;

import io.pgcopy.connect.common.SqlStates;
import java.sql.Connection;
import java.sql.SQLException;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sorts SQL failures into those worth retrying and those a person must fix; cancels running
 * statements.
 */
public final class SqlErrors {
  private static final Logger log = LoggerFactory.getLogger(SqlErrors.class);
  private static final String UNDEFINED_FUNCTION = "42883";
  private static final String OBJECT_IN_USE = "55006";
  private static final String UNDEFINED_OBJECT = "42704";

  private SqlErrors() {}

  /** Cancels the statement running on {@code c} (from another thread); a failure is only logged. */
  public static void cancelQuietly(Connection c, String who) {
    if (c != null) {
      try {
        c.unwrap(PGConnection.class).cancelQuery();
      } catch (SQLException e) {
        log.debug("{}: cancel failed: {}", who, e.getMessage());
      }
    }
  }

  /** Closes {@code c} if there is one; a failure is only logged. */
  public static void closeQuietly(Connection c, String who) {
    if (c != null) {
      try {
        c.close();
      } catch (SQLException e) {
        log.debug("{}: closing a connection: {}", who, e.getMessage());
      }
    }
  }

  public static ConnectException translate(SQLException e, String doing) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    String message = SqlStates.failed(doing, e);
    if ("22023".equals(state) && String.valueOf(e.getMessage()).contains("snapshot")) {
      return new RetriableException(
          message
              + ". The exported snapshot is gone (the connector restarted?); "
              + "the connector exports a new one and reconfigures this task",
          e);
    }
    if (OBJECT_IN_USE.equals(state)) {
      return new RetriableException(
          message
              + ". The replication slot is still held by the session of a task that "
              + "just stopped (restart, rebalance)",
          e);
    }
    if (UNDEFINED_OBJECT.equals(state) && String.valueOf(e.getMessage()).contains("publication")) {
      return new ConnectException(
          message
              + ". The publication was dropped (or renamed) while the replication slot still had "
              + "changes to decode: the slot cannot decode changes made after that, even once the "
              + "publication exists again. Way out: delete this connector, drop its slot, truncate its "
              + "target tables and create it again under a new name (its offsets stay with the old "
              + "one) to take a new snapshot",
          e);
    }
    if (UNDEFINED_FUNCTION.equals(state) && String.valueOf(e.getMessage()).contains("binary")) {
      return new ConnectException(
          message
              + ". A column's type has no binary send/receive functions and the "
              + "connector did not plan for it (a column added since it started?): restart the connector, which then "
              + "reads the table as text, or take the table out of table.include.list",
          e);
    }
    return SqlStates.isTransient(e)
        ? new RetriableException(message, e)
        : new ConnectException(
            message
                + ". This is not a failure that retrying fixes: fix the cause (privileges, "
                + "the table or its types, the data), then restart the task",
            e);
  }

  /**
   * The SQLException in {@code e}'s cause chain (the COPY streams wrap server errors in I/O
   * exceptions), or null.
   */
  public static SQLException sqlCause(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql) {
        return sql;
      }
    }
    return null;
  }
}
