package io.pgcopy.connect.source.stream;

import io.pgcopy.connect.common.ConnectionSettings;
import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.format.pgoutput.PgOutputDecoder;
import io.pgcopy.connect.source.config.PgCopySourceConfig;
import io.pgcopy.connect.source.postgres.ReplicationSetup;
import io.pgcopy.connect.source.postgres.SqlErrors;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import org.postgresql.PGConnection;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The change stream's two connections to the source: the replication connection that streams
 * pgoutput from the slot, and a query connection for short statements (the slot's state,
 * heartbeats, catalog lookups). Opened together, dropped together: an instance is either streaming
 * or, after {@link #abort()} or {@link #close()}, done with.
 */
final class StreamConnection implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StreamConnection.class);

  /** How often the confirmed position is sent to the server (also whenever it asks). */
  private static final int STATUS_INTERVAL_MS = 1000;

  /**
   * Socket timeout of the query connection (all its statements are short): a link that died without
   * a reset fails the next query instead of holding the task.
   */
  private static final int QUERY_SOCKET_TIMEOUT_MS = 30_000;

  private final String taskName;
  private final Connection sql;
  private final Connection replication;
  private final PGReplicationStream stream;
  private final int protocolVersion;
  private final ReplicationSetup.SlotState slot;

  /** The server process of the replication connection: the slot's active_pid while it streams. */
  private final int walsenderPid;

  private StreamConnection(
      String taskName,
      Connection sql,
      Connection replication,
      PGReplicationStream stream,
      int protocolVersion,
      ReplicationSetup.SlotState slot)
      throws SQLException {
    this.taskName = taskName;
    this.sql = sql;
    this.replication = replication;
    this.stream = stream;
    this.protocolVersion = protocolVersion;
    this.slot = slot;
    this.walsenderPid = replication.unwrap(PGConnection.class).getBackendPID();
  }

  /**
   * Checks that the slot can be streamed (it exists, in this database, and is not held by another
   * process) and starts streaming it from its confirmed position, with the highest pgoutput
   * protocol the server speaks (and streamed transactions from protocol 2 on). {@code textForms}:
   * column values in their text forms, made the same as a snapshot's by this session's settings,
   * instead of pgoutput's binary mode. On failure nothing stays open.
   */
  static StreamConnection open(PgCopySourceConfig config, String taskName, boolean textForms)
      throws SQLException {
    Connection sql = null;
    Connection replication = null;
    try {
      sql = ConnectionSettings.open(config, "pgcopy-stream " + taskName);
      int serverVersion;
      String database;
      try (Statement st = sql.createStatement();
          ResultSet rs =
              st.executeQuery(
                  "SELECT current_setting('server_version_num')::int, current_database()")) {
        rs.next();
        serverVersion = rs.getInt(1);
        database = rs.getString(2);
      }
      ReplicationSetup.SlotState slot = ReplicationSetup.slot(sql, config.slotName());
      ReplicationSetup.requireUsable(slot, config.slotName(), database);
      int protocol = PgOutputDecoder.protocolVersionFor(serverVersion);
      replication = ConnectionSettings.openReplication(config, "pgcopy-stream " + taskName);
      if (textForms) {
        try (Statement st = replication.createStatement()) {
          // the output functions run in this session: the same text forms as the snapshot's
          st.execute("SET bytea_output = hex");
          st.execute("SET TimeZone = 'UTC'");
          st.execute("SET extra_float_digits = 3");
          st.execute("SET DateStyle = 'ISO, YMD'");
          st.execute("SET IntervalStyle = 'postgres'");
        }
      }
      var builder =
          replication
              .unwrap(PGConnection.class)
              .getReplicationAPI()
              .replicationStream()
              .logical()
              .withSlotName(config.slotName())
              .withSlotOption("proto_version", String.valueOf(protocol))
              .withSlotOption(
                  "publication_names", TableId.quoteIdentifier(config.publicationName()))
              .withSlotOption("binary", String.valueOf(!textForms))
              .withSlotOption("messages", "true")
              .withStatusInterval(STATUS_INTERVAL_MS, TimeUnit.MILLISECONDS);
      if (protocol >= 2) {
        builder.withSlotOption("streaming", "true");
      }
      PGReplicationStream stream = builder.start();
      sql.setNetworkTimeout(Runnable::run, QUERY_SOCKET_TIMEOUT_MS);
      return new StreamConnection(taskName, sql, replication, stream, protocol, slot);
    } catch (SQLException | RuntimeException e) {
      abort(taskName, replication, sql);
      throw e;
    }
  }

  /** The next message the server has sent, without waiting; null when none is pending. */
  ByteBuffer readPending() throws SQLException {
    return stream.readPending();
  }

  /** The WAL position up to which the server has sent data or keepalives. */
  long lastReceived() {
    return stream.getLastReceiveLSN().asLong();
  }

  /**
   * Tells the server that everything up to {@code lsn} is done with (sent with the next status
   * update): the slot may release the WAL before it.
   */
  void confirm(long lsn) {
    stream.setFlushedLSN(LogSequenceNumber.valueOf(lsn));
    stream.setAppliedLSN(LogSequenceNumber.valueOf(lsn));
  }

  /** The query connection, for short statements only (its socket times out). */
  Connection sql() {
    return sql;
  }

  int walsenderPid() {
    return walsenderPid;
  }

  /** The pgoutput protocol version streamed. */
  int protocolVersion() {
    return protocolVersion;
  }

  /** The slot's state when the stream started; its confirmed position is where streaming began. */
  ReplicationSetup.SlotState slot() {
    return slot;
  }

  /**
   * Drops both connections abruptly, after a failure: a graceful end of the replication stream
   * waits for the server's answer, which a dead link never brings.
   */
  void abort() {
    abort(taskName, replication, sql);
  }

  /** Cancels a blocked call on the replication connection, from another thread. */
  void cancel() {
    SqlErrors.cancelQuietly(replication, taskName);
  }

  /** Ends the stream and closes both connections, telling the server. */
  @Override
  public void close() {
    for (AutoCloseable c : new AutoCloseable[] {stream, replication, sql}) {
      try {
        c.close();
      } catch (Exception e) {
        log.debug("{}: closing: {}", taskName, e.getMessage());
      }
    }
  }

  private static void abort(String taskName, Connection... connections) {
    for (Connection c : connections) {
      if (c != null) {
        try {
          c.abort(Runnable::run);
        } catch (SQLException e) {
          log.debug("{}: dropping a connection: {}", taskName, e.getMessage());
        }
      }
    }
  }
}
