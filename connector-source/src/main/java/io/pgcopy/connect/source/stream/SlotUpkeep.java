package io.pgcopy.connect.source.stream;

import io.pgcopy.connect.source.config.PgCopySourceConfig;
import io.pgcopy.connect.source.postgres.ReplicationSetup;
import io.pgcopy.connect.source.records.SourceTaskMetrics;
import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.postgresql.replication.LogSequenceNumber;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the stream task does for its replication slot besides reading it: heartbeats while the
 * published tables are idle (so the slot's position can move past other databases' WAL), the slot's
 * WAL figures in the task's metrics, and a periodic log line of what the slot retains.
 */
final class SlotUpkeep {
  private static final Logger log = LoggerFactory.getLogger(SlotUpkeep.class);
  static final String HEARTBEAT_PREFIX = "pgcopy-heartbeat";
  private static final long SLOT_REPORT_INTERVAL_MS = 60_000;
  private static final long SLOT_METRICS_INTERVAL_MS = 10_000;

  private final PgCopySourceConfig config;
  private final String taskName;
  private final SourceTaskMetrics metrics;
  private long lastHeartbeat = System.currentTimeMillis();
  private boolean heartbeatFailed;
  private long lastSlotReport;
  private long lastSlotMetrics;
  private int checksWithoutStream;

  SlotUpkeep(PgCopySourceConfig config, String taskName, SourceTaskMetrics metrics) {
    this.config = config;
    this.taskName = taskName;
    this.metrics = metrics;
  }

  /**
   * Writes a heartbeat (a non-transactional logical message) when {@code heartbeat.interval.ms} has
   * passed; a failure is logged once, not retried here.
   */
  void heartbeatIfDue(Connection sqlConn) {
    long now = System.currentTimeMillis();
    long heartbeatMs = config.heartbeatIntervalMs();
    if (heartbeatMs > 0 && now - lastHeartbeat >= heartbeatMs) {
      lastHeartbeat = now;
      try (Statement st = sqlConn.createStatement()) {
        st.execute("SELECT pg_logical_emit_message(false, '" + HEARTBEAT_PREFIX + "', '')");
      } catch (SQLException e) {
        if (!heartbeatFailed) {
          log.warn(
              "{}: writing a heartbeat failed; the slot may hold WAL while the published tables are idle: {}",
              taskName,
              e.getMessage());
          heartbeatFailed = true;
        }
      }
    }
  }

  /**
   * Every 10 s, the slot's retained and unconfirmed WAL into the metrics (every minute, into the
   * log), and a check that the server still streams to this task: the slot's {@code active_pid}
   * must be {@code walsenderPid}. When the link died without a reset, the server ends the walsender
   * after {@code wal_sender_timeout} while this task would wait for messages forever; two checks in
   * a row that see another or no process throw, and the task reconnects.
   *
   * @throws IOException when the server no longer streams to this task
   */
  void metricsIfDue(Connection sqlConn, int walsenderPid) throws SQLException, IOException {
    long now = System.currentTimeMillis();
    if (now - lastSlotMetrics < SLOT_METRICS_INTERVAL_MS) {
      return;
    }
    lastSlotMetrics = now;
    ReplicationSetup.SlotState slot = ReplicationSetup.slot(sqlConn, config.slotName());
    if (slot == null) {
      return;
    }
    metrics.slotRetainedWalBytes = slot.retainedWalBytes();
    metrics.lagBytes = slot.unconfirmedWalBytes();
    if (now - lastSlotReport >= SLOT_REPORT_INTERVAL_MS) {
      report(slot);
    }
    if (slot.activePid() == walsenderPid) {
      checksWithoutStream = 0;
    } else if (++checksWithoutStream >= 2) {
      checksWithoutStream = 0;
      throw new IOException(
          "the server no longer streams slot "
              + config.slotName()
              + " to this task: its walsender (process "
              + walsenderPid
              + ") is gone and the slot is "
              + (slot.activePid() == 0 ? "inactive" : "held by process " + slot.activePid())
              + ", so the replication connection was lost without a reset (a network partition?)");
    }
  }

  /** Logs what the slot retains and where it is confirmed. */
  void report(ReplicationSetup.SlotState slot) {
    lastSlotReport = System.currentTimeMillis();
    if (slot != null) {
      log.info(
          "{}: slot {} retains {} MB of WAL; confirmed up to {}",
          taskName,
          config.slotName(),
          slot.retainedWalBytes() >> 20,
          LogSequenceNumber.valueOf(slot.confirmedFlushLsn()).asString());
    }
  }
}
