package io.pgcopy.connect.sink;

/** Counters the sink task updates (from its own thread) and JMX reads. */
final class SinkTaskMetrics implements SinkTaskMetricsMBean {
  private final long startedNanos = System.nanoTime();
  private volatile long rows;
  private volatile long batches;
  private volatile long lastRows;
  private volatile long lastMillis;
  private volatile long totalMillis;

  void batch(long batchRows, long millis) {
    rows += batchRows;
    batches++;
    lastRows = batchRows;
    lastMillis = millis;
    totalMillis += millis;
  }

  @Override
  public long getRowsWritten() {
    return rows;
  }

  @Override
  public long getBatches() {
    return batches;
  }

  @Override
  public long getLastBatchRows() {
    return lastRows;
  }

  @Override
  public long getLastBatchMillis() {
    return lastMillis;
  }

  @Override
  public double getAverageBatchMillis() {
    long b = batches;
    return b == 0 ? 0 : (double) totalMillis / b;
  }

  @Override
  public double getRowsPerSecond() {
    double s = (System.nanoTime() - startedNanos) / 1e9;
    return s <= 0 ? 0 : rows / s;
  }
}
