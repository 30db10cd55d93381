package io.pgcopy.connect.source.plan;

import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.source.offsets.CtidRange;
import io.pgcopy.connect.source.offsets.SourceOffsets.RangeProgress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a snapshot still has to read, from the committed progress of every planned range. Pure.
 *
 * <p>A table with a key may mix ranges read under different snapshots when a stream follows: it
 * replays every change from the slot's consistent point, and the last change of each key wins in
 * the target. A keyless table may not: a row changed between two snapshots would be kept twice or
 * lost; nor may any table without a stream ({@code initial_only}): a row deleted or moved between
 * the snapshots would be kept or lost. So such a table whose ranges were not all read under one
 * snapshot is read again whole, under the current one, after its rows in the target are removed
 * ({@link #restarted()}), and the stream skips the changes of a keyless one that this snapshot
 * already holds ({@link #streamSkips}).
 *
 * @param remaining ranges to read under the current snapshot
 * @param restarted tables read again from their first row, their target rows removed first
 */
public record RemainingRanges(List<CtidRange> remaining, Set<TableId> restarted) {

  /**
   * @param snapshot the snapshot the remaining ranges will be read under (null: none exported yet,
   *     so no committed progress can belong to it)
   */
  static RemainingRanges of(
      List<CtidRange> ranges,
      Map<Map<String, Object>, RangeProgress> progress,
      Set<TableId> readWhole,
      String snapshot) {
    return of(ranges, progress, readWhole, Set.of(), snapshot);
  }

  /**
   * @param readWhole tables whose ranges must all be read under one snapshot (keyless ones; every
   *     one without a stream)
   * @param reread tables added to a streaming connector: read whole under the current snapshot,
   *     whatever was recorded for them under another (an earlier attempt, or before the table was
   *     taken out of the list and added again); a keyless one with such progress is read again
   *     after its target rows are removed
   */
  static RemainingRanges of(
      List<CtidRange> ranges,
      Map<Map<String, Object>, RangeProgress> recorded,
      Set<TableId> readWhole,
      Set<TableId> reread,
      String snapshot) {
    Map<Map<String, Object>, RangeProgress> progress = new HashMap<>(recorded);
    Set<TableId> stale = new LinkedHashSet<>();
    for (CtidRange r : ranges) {
      RangeProgress p = of(recorded, r);
      if (reread.contains(r.table())
          && p.started()
          && !String.valueOf(p.snapshot()).equals(String.valueOf(snapshot))) {
        progress.remove(r.partition());
        stale.add(r.table());
      }
    }
    Map<TableId, List<CtidRange>> byTable = new HashMap<>();
    ranges.forEach(r -> byTable.computeIfAbsent(r.table(), t -> new ArrayList<>()).add(r));
    Set<TableId> restarted = new LinkedHashSet<>();
    for (TableId table : readWhole) {
      List<CtidRange> own = byTable.getOrDefault(table, List.of());
      if (!consistent(own, progress, snapshot) || stale.contains(table)) {
        restarted.add(table);
      }
    }
    List<CtidRange> remaining = new ArrayList<>();
    for (CtidRange r : ranges) {
      if (restarted.contains(r.table()) || !of(progress, r).done()) {
        remaining.add(r);
      }
    }
    return new RemainingRanges(remaining, restarted);
  }

  /**
   * This plan, with each of {@code tables} none of whose ranges has begun also read after its
   * target rows are removed: for a connector that finds its slot but no offsets at all (a new
   * connector on an old slot), whose target may hold rows of an earlier run. A table begun since is
   * left to the consistency rule of {@link #of}.
   */
  RemainingRanges clearingUnstarted(
      Set<TableId> tables,
      List<CtidRange> ranges,
      Map<Map<String, Object>, RangeProgress> progress) {
    Set<TableId> begun = new HashSet<>();
    for (CtidRange r : ranges) {
      if (of(progress, r).started()) {
        begun.add(r.table());
      }
    }
    Set<TableId> cleared = new LinkedHashSet<>(restarted);
    for (CtidRange r : ranges) {
      if (tables.contains(r.table()) && !begun.contains(r.table())) {
        cleared.add(r.table());
      }
    }
    return new RemainingRanges(remaining, cleared);
  }

  /**
   * The tables of {@code ranges} not read again whole that have ranges both finished and left:
   * their rows will come from two snapshots.
   */
  Set<TableId> mixed(List<CtidRange> ranges) {
    Set<TableId> finished = new TreeSet<>();
    Set<TableId> left = new TreeSet<>();
    for (CtidRange r : ranges) {
      (remaining.contains(r) ? left : finished).add(r.table());
    }
    finished.retainAll(left);
    finished.removeAll(restarted);
    return finished;
  }

  /**
   * Whether a table's ranges can be finished without reading any again: all done under one
   * snapshot, or every range begun so far begun under the current one.
   */
  private static boolean consistent(
      List<CtidRange> ranges, Map<Map<String, Object>, RangeProgress> progress, String snapshot) {
    Set<String> snapshots = new LinkedHashSet<>();
    boolean allDone = true;
    for (CtidRange r : ranges) {
      RangeProgress p = of(progress, r);
      allDone &= p.done();
      if (p.started()) {
        snapshots.add(String.valueOf(p.snapshot()));
      }
    }
    if (snapshots.isEmpty()) {
      return true;
    }
    if (allDone) {
      return snapshots.size() == 1;
    }
    return snapshots.size() == 1 && snapshots.contains(String.valueOf(snapshot));
  }

  /**
   * For each keyless table read whole under a snapshot newer than the slot's own: the LSN below
   * which the stream must skip its changes, which that snapshot already holds.
   */
  static Map<TableId, Long> streamSkips(
      List<CtidRange> ranges,
      Map<Map<String, Object>, RangeProgress> progress,
      Set<TableId> keyless) {
    Map<TableId, Long> skips = new HashMap<>();
    for (CtidRange r : ranges) {
      RangeProgress p = of(progress, r);
      if (keyless.contains(r.table()) && p.done() && p.snapshotLsn() != 0) {
        skips.merge(r.table(), p.snapshotLsn(), (a, b) -> Long.compareUnsigned(a, b) >= 0 ? a : b);
      }
    }
    return skips;
  }

  /**
   * Per table, the consistent LSN of the snapshot its rows were read under: the lowest of its
   * ranges' (0 when a range is not done or its snapshot had no known LSN). A request to read a
   * table again, made at an LSN below this, has been served.
   */
  static Map<TableId, Long> snapshotLsns(
      List<CtidRange> ranges, Map<Map<String, Object>, RangeProgress> progress) {
    Map<TableId, Long> lsns = new HashMap<>();
    for (CtidRange r : ranges) {
      RangeProgress p = of(progress, r);
      long lsn = p.done() ? p.snapshotLsn() : 0;
      lsns.merge(r.table(), lsn, (a, b) -> Long.compareUnsigned(a, b) <= 0 ? a : b);
    }
    return lsns;
  }

  private static RangeProgress of(Map<Map<String, Object>, RangeProgress> progress, CtidRange r) {
    return progress.getOrDefault(r.partition(), RangeProgress.NOT_STARTED);
  }
}
