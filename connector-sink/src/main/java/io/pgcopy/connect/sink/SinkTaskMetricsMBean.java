package io.pgcopy.connect.sink;

/** JMX view of a sink task: {@code io.pgcopy.connect:type=sink-task,connector=..,task=..}. */
public interface SinkTaskMetricsMBean {
  /** Changes written (after collapsing to the last change per key). */
  long getRowsWritten();

  long getBatches();

  long getLastBatchRows();

  long getLastBatchMillis();

  double getAverageBatchMillis();

  /** Rows written per second since the task started. */
  double getRowsPerSecond();
}
