package io.pgcopy.connect.source;

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
   * Every 10 s, the slot's retained and unconfirmed WAL into the metrics; every minute, into the
   * log.
   */
  void metricsIfDue(Connection sqlConn) throws SQLException {
    long now = System.currentTimeMillis();
    if (now - lastSlotMetrics >= SLOT_METRICS_INTERVAL_MS) {
      lastSlotMetrics = now;
      ReplicationSetup.SlotState slot = ReplicationSetup.slot(sqlConn, config.slotName());
      if (slot != null) {
        metrics.slotRetainedWalBytes = slot.retainedWalBytes();
        metrics.lagBytes = slot.unconfirmedWalBytes();
        if (now - lastSlotReport >= SLOT_REPORT_INTERVAL_MS) {
          report(slot);
        }
      }
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
