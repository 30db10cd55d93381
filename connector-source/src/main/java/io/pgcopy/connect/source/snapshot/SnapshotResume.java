package io.pgcopy.connect.source.snapshot;

import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.source.offsets.Ctid;
import io.pgcopy.connect.source.offsets.CtidRange;
import io.pgcopy.connect.source.offsets.SourceOffsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where a snapshot task starts, from the offsets Kafka committed for its ranges: which ranges are
 * done, which are read from their start or after the last row Kafka acknowledged, and which tables
 * read again whole begin with a truncate of their target rows. Pure: offsets in, plan out.
 *
 * @param done the ranges finished under this snapshot (or, for a table not read again, under any)
 * @param pending the ranges still to read, in the task's order
 * @param truncateFirst tables read again whole whose reading under this snapshot has not begun
 */
record SnapshotResume(List<CtidRange> done, List<Pending> pending, Set<TableId> truncateFirst) {

  /** A range still to read, and the row after which to resume (null: from its start). */
  record Pending(CtidRange range, Ctid after) {}

  /**
   * @param snapshotName the snapshot the task reads under
   * @param restarted tables read again whole under this snapshot: progress recorded under another
   *     snapshot is ignored, and their first record is a truncate
   * @param reread tables added to a streaming connector: progress recorded under another snapshot
   *     is ignored
   * @param ranges the task's ranges
   * @param committed the offsets Kafka holds, by range partition (a range without one: not started)
   */
  static SnapshotResume of(
      String snapshotName,
      Set<TableId> restarted,
      Set<TableId> reread,
      List<CtidRange> ranges,
      Map<Map<String, Object>, Map<String, Object>> committed) {
    Set<TableId> truncateFirst = new HashSet<>(restarted);
    for (CtidRange r : ranges) {
      if (snapshotName.equals(SourceOffsets.progress(committed.get(r.partition())).snapshot())) {
        truncateFirst.remove(r.table()); // this snapshot's reading of it has begun
      }
    }
    List<CtidRange> done = new ArrayList<>();
    List<Pending> pending = new ArrayList<>();
    for (CtidRange r : ranges) {
      SourceOffsets.RangeProgress progress = SourceOffsets.progress(committed.get(r.partition()));
      if ((restarted.contains(r.table()) || reread.contains(r.table()))
          && !snapshotName.equals(progress.snapshot())) {
        progress = SourceOffsets.RangeProgress.NOT_STARTED; // read under another snapshot
      }
      if (progress.done()) {
        done.add(r);
      } else {
        pending.add(new Pending(r, progress.after()));
      }
    }
    return new SnapshotResume(List.copyOf(done), List.copyOf(pending), Set.copyOf(truncateFirst));
  }
}
