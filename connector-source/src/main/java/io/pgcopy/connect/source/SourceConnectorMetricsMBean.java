package io.pgcopy.connect.source;

/** JMX view of a source connector: {@code io.pgcopy.connect:type=source-connector,connector=..}. */
public interface SourceConnectorMetricsMBean {
  /** "snapshot" while ranges are left, then "stream", or "done" with snapshot.mode=initial_only. */
  String getPhase();

  /** Snapshot ranges of every table, as planned when the connector started. */
  long getRangesTotal();

  /**
   * Of those, the ranges whose completion Kafka holds (read every snapshot.progress.interval.ms).
   */
  long getRangesDone();

  /** Estimated heap pages of every table, and of the done ranges. */
  long getPagesTotal();

  long getPagesDone();

  /** Seconds left at the rate pages were done since the connector started; -1 until known. */
  long getSnapshotEtaSeconds();
}
