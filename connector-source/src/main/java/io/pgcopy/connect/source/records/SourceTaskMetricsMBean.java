package io.pgcopy.connect.source.records;

/** JMX view of a source task: {@code io.pgcopy.connect:type=source-task,connector=..,task=..}. */
public interface SourceTaskMetricsMBean {
  /** "snapshot" or "stream". */
  String getPhase();

  long getRangesTotal();

  long getRangesDone();

  /** Records handed to Connect (rows of the snapshot, changes of the stream). */
  long getRecords();

  /** Value bytes of those records. */
  long getBytes();

  /** Records per second since the task started. */
  double getRecordsPerSecond();

  /** Snapshot: seconds left at the current rate, from the pages still to read; -1 when unknown. */
  long getSnapshotEtaSeconds();

  /**
   * Stream: milliseconds between the commit of the last change sent and now; -1 before the first.
   */
  long getStreamLagMillis();

  /** Stream: WAL bytes between the server's position and the last one received. */
  long getStreamLagBytes();

  /** Stream: WAL the slot retains on the source, as last read (every minute). */
  long getSlotRetainedWalBytes();

  /** Stream: the last LSN confirmed to the server, as text. */
  String getConfirmedLsn();

  /**
   * Stream: milliseconds since the sequences were last read and the ones that moved sent (a target
   * sequence is at most this far behind, plus the sink's lag); -1 before the first read.
   */
  long getSequenceCheckAgeMillis();
}
