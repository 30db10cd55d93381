package io.pgcopy.connect.source.plan;

import io.pgcopy.connect.source.offsets.CtidRange;
import io.pgcopy.connect.source.postgres.TableExtent;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits tables into CTID ranges. Boundaries fall on multiples of the range size, so a connector
 * that restarts and plans again finds the same ranges (and the same source partitions) for the
 * pages it planned before; only the open-ended last range of a grown table may split further.
 */
public final class RangePlanner {
  private final long rangePages;

  public RangePlanner(long rangePages) {
    if (rangePages < 1) {
      throw new IllegalArgumentException("range size must be at least one page");
    }
    this.rangePages = rangePages;
  }

  /**
   * Ranges of every extent. A table with no pages has one open range, read like any other: it
   * yields no row, but tells the sink the table's columns, so an empty table is created too.
   */
  public List<CtidRange> plan(List<TableExtent> extents) {
    List<CtidRange> ranges = new ArrayList<>();
    for (TableExtent e : extents) {
      if (e.pages() == 0) {
        ranges.add(new CtidRange(e.table(), e.leaf(), 0, CtidRange.OPEN, 0));
      }
      for (long start = 0; start < e.pages(); start += rangePages) {
        long end = start + rangePages;
        if (end >= e.pages()) {
          ranges.add(new CtidRange(e.table(), e.leaf(), start, CtidRange.OPEN, e.pages() - start));
        } else {
          ranges.add(new CtidRange(e.table(), e.leaf(), start, end, rangePages));
        }
      }
    }
    return ranges;
  }
}
