package io.pgcopy.connect.source.offsets;

import io.pgcopy.connect.format.TableId;
import java.util.Map;
import java.util.Objects;

/**
 * Heap pages {@code [startPage, endPage)} of one physical table, read into the topic of {@code
 * table} (the partitioned parent for a leaf partition, else the table itself). An {@code endPage}
 * of {@link #OPEN} means "to the end of the table", which the last range of every table uses so
 * that pages added after planning are still read.
 */
public final class CtidRange {
  public static final long OPEN = -1;

  private final TableId table;
  private final TableId leaf;
  private final long startPage;
  private final long endPage;
  private final long estimatedPages;

  public CtidRange(TableId table, TableId leaf, long startPage, long endPage, long estimatedPages) {
    if (startPage < 0 || (endPage != OPEN && endPage <= startPage)) {
      throw new IllegalArgumentException("bad page range [" + startPage + ", " + endPage + ")");
    }
    this.table = Objects.requireNonNull(table);
    this.leaf = Objects.requireNonNull(leaf);
    this.startPage = startPage;
    this.endPage = endPage;
    this.estimatedPages = estimatedPages;
  }

  public TableId table() {
    return table;
  }

  public TableId leaf() {
    return leaf;
  }

  public long startPage() {
    return startPage;
  }

  public long endPage() {
    return endPage;
  }

  public boolean openEnded() {
    return endPage == OPEN;
  }

  /** Pages the planner measured for this range; used only to balance tasks. */
  public long estimatedPages() {
    return estimatedPages;
  }

  /** The Connect source partition of this range: physical table and first page. */
  public Map<String, Object> partition() {
    return SourceOffsets.rangePartition(leaf, startPage);
  }

  /**
   * The WHERE clause that selects this range, resuming after {@code after} when it is not null. TID
   * literals are built from numbers only, so nothing here needs quoting.
   */
  public String whereClause(Ctid after) {
    StringBuilder sb = new StringBuilder("ctid ");
    if (after == null) {
      sb.append(">= '(").append(startPage).append(",0)'::tid");
    } else {
      sb.append("> '").append(after).append("'::tid");
    }
    if (!openEnded()) {
      sb.append(" AND ctid < '(").append(endPage).append(",0)'::tid");
    }
    return sb.toString();
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof CtidRange)) {
      return false;
    }
    CtidRange r = (CtidRange) o;
    return r.table.equals(table)
        && r.leaf.equals(leaf)
        && r.startPage == startPage
        && r.endPage == endPage;
  }

  @Override
  public int hashCode() {
    return Objects.hash(table, leaf, startPage, endPage);
  }

  @Override
  public String toString() {
    return leaf
        + " pages ["
        + startPage
        + ", "
        + (openEnded() ? "end" : String.valueOf(endPage))
        + ")";
  }
}
