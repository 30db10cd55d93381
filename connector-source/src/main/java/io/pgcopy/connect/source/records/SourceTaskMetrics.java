package io.pgcopy.connect.source.records;

import java.util.concurrent.atomic.AtomicLong;

/** Counters a source task updates and JMX reads. */
public final class SourceTaskMetrics implements SourceTaskMetricsMBean {
  private final long startedNanos = System.nanoTime();
  public volatile String phase = "snapshot";
  public final AtomicLong rangesTotal = new AtomicLong();
  public final AtomicLong rangesDone = new AtomicLong();
  public final AtomicLong pagesTotal = new AtomicLong();
  public final AtomicLong pagesDone = new AtomicLong();
  public final AtomicLong records = new AtomicLong();
  public final AtomicLong bytes = new AtomicLong();
  public volatile long lastCommitEpochMillis = -1;
  public volatile long lagBytes;
  public volatile long slotRetainedWalBytes;
  public volatile String confirmedLsn = "";
  public volatile long sequencesCheckedEpochMillis = -1;

  @Override
  public String getPhase() {
    return phase;
  }

  @Override
  public long getRangesTotal() {
    return rangesTotal.get();
  }

  @Override
  public long getRangesDone() {
    return rangesDone.get();
  }

  @Override
  public long getRecords() {
    return records.get();
  }

  @Override
  public long getBytes() {
    return bytes.get();
  }

  @Override
  public double getRecordsPerSecond() {
    double s = (System.nanoTime() - startedNanos) / 1e9;
    return s <= 0 ? 0 : records.get() / s;
  }

  @Override
  public long getSnapshotEtaSeconds() {
    long total = pagesTotal.get();
    long done = pagesDone.get();
    double s = (System.nanoTime() - startedNanos) / 1e9;
    if (total <= 0 || done <= 0 || s <= 0) {
      return -1;
    }
    return Math.round((total - done) / (done / s));
  }

  @Override
  public long getStreamLagMillis() {
    long t = lastCommitEpochMillis;
    return t < 0 ? -1 : Math.max(0, System.currentTimeMillis() - t);
  }

  @Override
  public long getStreamLagBytes() {
    return lagBytes;
  }

  @Override
  public long getSlotRetainedWalBytes() {
    return slotRetainedWalBytes;
  }

  @Override
  public String getConfirmedLsn() {
    return confirmedLsn;
  }

  @Override
  public long getSequenceCheckAgeMillis() {
    long t = sequencesCheckedEpochMillis;
    return t < 0 ? -1 : Math.max(0, System.currentTimeMillis() - t);
  }
}
