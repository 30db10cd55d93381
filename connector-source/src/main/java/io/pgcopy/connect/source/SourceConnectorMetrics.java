package io.pgcopy.connect.source;

import io.pgcopy.connect.source.offsets.CtidRange;
import java.util.List;

/**
 * The snapshot's progress as the connector sees it in the committed offsets: every task's ranges.
 */
final class SourceConnectorMetrics implements SourceConnectorMetricsMBean {
  private final long startedNanos = System.nanoTime();
  private volatile String phase = "snapshot";
  private volatile long rangesTotal;
  private volatile long rangesDone;
  private volatile long pagesTotal;
  private volatile long pagesDone;

  /** Pages already done when the connector started (by an earlier run): not part of the rate. */
  private long pagesDoneAtStart = -1;

  /** Records the planned ranges and those not done yet. */
  synchronized void progress(List<CtidRange> all, List<CtidRange> left) {
    long total = 0;
    for (CtidRange r : all) {
      total += r.estimatedPages();
    }
    long leftPages = 0;
    for (CtidRange r : left) {
      leftPages += r.estimatedPages();
    }
    rangesTotal = all.size();
    rangesDone = all.size() - left.size();
    pagesTotal = total;
    pagesDone = total - leftPages;
    if (pagesDoneAtStart < 0) {
      pagesDoneAtStart = pagesDone;
    }
  }

  void phase(String phase) {
    this.phase = phase;
  }

  @Override
  public String getPhase() {
    return phase;
  }

  @Override
  public long getRangesTotal() {
    return rangesTotal;
  }

  @Override
  public long getRangesDone() {
    return rangesDone;
  }

  @Override
  public long getPagesTotal() {
    return pagesTotal;
  }

  @Override
  public long getPagesDone() {
    return pagesDone;
  }

  @Override
  public synchronized long getSnapshotEtaSeconds() {
    if (!"snapshot".equals(phase)) {
      return 0;
    }
    long done = pagesDone - Math.max(pagesDoneAtStart, 0);
    if (done <= 0) {
      return -1;
    }
    double seconds = (System.nanoTime() - startedNanos) / 1e9;
    return Math.round((pagesTotal - pagesDone) * seconds / done);
  }
}
