package io.pgcopy.connect.sink.offsets;

/**
 * Where a change is in the source's stream: the {@code seq}-th change (1-based) of the transaction
 * committed at {@code commitLsn}. The stream sends a keyless table's changes in this order, all in
 * one partition, so a change at or below the last position applied from that partition was applied
 * already (the source sent it again).
 */
public record ChangePosition(long commitLsn, int seq) {

  /** Whether this position comes after {@code other} in the stream; true when other is null. */
  boolean after(ChangePosition other) {
    if (other == null) {
      return true;
    }
    int byLsn = Long.compareUnsigned(commitLsn, other.commitLsn);
    return byLsn > 0 || (byLsn == 0 && seq > other.seq);
  }
}
