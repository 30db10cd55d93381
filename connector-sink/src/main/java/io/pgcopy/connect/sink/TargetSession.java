package io.pgcopy.connect.sink;

import io.pgcopy.connect.common.ConnectionSettings;
import io.pgcopy.connect.common.Retries;
import io.pgcopy.connect.common.SqlStates;
import io.pgcopy.connect.sink.config.PgCopySinkConfig;
import java.sql.Connection;
import java.sql.SQLException;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.SinkTaskContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A sink task's session on the target and its failures: the connection, opened when first needed
 * (autocommit off), dropped with what is cached for it when it fails, and each failure turned into
 * what Connect should see: a transient one retried after a backoff, a permanent one failing the
 * task with the way out.
 */
final class TargetSession {
  private static final Logger log = LoggerFactory.getLogger(TargetSession.class);

  private static final String UNIQUE_VIOLATION = "23505";
  private static final String EXCLUSION_VIOLATION = "23P01";

  /**
   * Changes are applied with ON CONFLICT on the key, so a unique (or exclusion) violation comes
   * from another constraint: rows that swapped values through changes in different partitions, one
   * applied before the other, which heals once the other partition's change is in; or a constraint
   * the source does not have.
   */
  private static final String UNIQUE_VIOLATION_HINT =
      ". A unique or exclusion constraint other than the key was violated: rows that swapped values through"
          + " changes in other partitions pass once those are applied (retried until then), a"
          + " constraint the source does not have never does: drop it in the target until the"
          + " cut-over";

  private final PgCopySinkConfig config;
  private final String name;
  private final Retries retries;
  private final SinkTaskContext context;

  /** Forgets what was cached for the dropped connection (prepared state, looked-up types). */
  private final Runnable onDrop;

  private Connection conn;

  TargetSession(PgCopySinkConfig config, String name, SinkTaskContext context, Runnable onDrop) {
    this.config = config;
    this.name = name;
    this.retries = Retries.of(config);
    this.context = context;
    this.onDrop = onDrop;
  }

  /** The open connection, opened now if there is none or it was closed. */
  Connection connection() throws SQLException {
    if (conn == null || conn.isClosed()) {
      conn = ConnectionSettings.open(config, "pgcopy-sink " + name);
      conn.setAutoCommit(false);
    }
    return conn;
  }

  /** Rolls the open transaction back; a connection that cannot is dropped. */
  void rollbackQuietly() {
    try {
      if (conn != null && !conn.isClosed()) {
        conn.rollback();
      }
    } catch (SQLException e) {
      drop();
    }
  }

  /** Closes the connection, if any, and forgets what was cached for it. */
  void drop() {
    if (conn != null) {
      try {
        conn.close();
      } catch (SQLException e) {
        log.debug("{}: closing connection: {}", name, e.getMessage());
      }
      conn = null;
    }
    onDrop.run();
  }

  /** A statement went through: the next failure starts a new backoff. */
  void succeeded() {
    retries.succeeded();
  }

  /**
   * A failure as Connect should see it: transient ones (by SQLState, and unique violations, see
   * {@link #UNIQUE_VIOLATION_HINT}) drop the connection and are retried, Connect delivering the
   * same records again after a backoff that grows with each failure in a row, until the failures
   * have lasted {@code retry.timeout.ms}; permanent ones fail the task with the way out.
   */
  ConnectException failed(SQLException e, String doing) {
    String message =
        name + ": " + SqlStates.failed(doing, e) + ConnectionSettings.socketTimeoutHint(e, config);
    boolean uniqueViolation =
        UNIQUE_VIOLATION.equals(e.getSQLState()) || EXCLUSION_VIOLATION.equals(e.getSQLState());
    if (uniqueViolation) {
      message += UNIQUE_VIOLATION_HINT;
    }
    if (!SqlStates.isTransient(e) && !uniqueViolation) {
      log.error("{}", message);
      String state = String.valueOf(e.getSQLState());
      if (state.equals("22P03") || state.equals("42804")) {
        return new ConnectException(
            message
                + ". A column's type differs between the source and the target (changed "
                + "on the source with ALTER COLUMN .. TYPE?): change the target column to the source's type (ALTER TABLE "
                + ".. ALTER COLUMN .. TYPE ..), then restart the task",
            e);
      }
      return new ConnectException(message + ". Fix the cause, then restart the task", e);
    }
    drop();
    long delay = retries.nextDelayMs();
    if (delay < 0) {
      return new ConnectException(
          message + "; " + retries.givingUp() + ". Fix the cause, then restart the task", e);
    }
    log.warn("{}; retrying in {} ms (attempt {})", message, delay, retries.failures() + 1);
    context.timeout(delay);
    return new RetriableException(message, e);
  }
}
