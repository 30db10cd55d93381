package io.pgcopy.connect.source.plan;

import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.source.offsets.CtidRange;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * Deals ranges to at most {@code maxTasks} tasks, balanced by estimated size (largest range first,
 * to the least loaded task).
 */
public final class TaskAssigner {
  private TaskAssigner() {}

  public static List<List<CtidRange>> assign(List<CtidRange> ranges, int maxTasks) {
    return assign(ranges, maxTasks, Set.of());
  }

  /**
   * As {@link #assign(List, int)}, with every range of each table in {@code together} dealt to one
   * task (a table read again whole, whose first record must precede all its rows).
   */
  public static List<List<CtidRange>> assign(
      List<CtidRange> ranges, int maxTasks, Set<TableId> together) {
    if (maxTasks < 1) {
      throw new IllegalArgumentException("maxTasks must be at least 1");
    }
    List<List<CtidRange>> units = new ArrayList<>();
    Map<TableId, List<CtidRange>> grouped = new LinkedHashMap<>();
    for (CtidRange r : ranges) {
      if (together.contains(r.table())) {
        grouped.computeIfAbsent(r.table(), t -> new ArrayList<>()).add(r);
      } else {
        units.add(List.of(r));
      }
    }
    units.addAll(grouped.values());
    int tasks = Math.min(maxTasks, units.size());
    List<List<CtidRange>> result = new ArrayList<>();
    if (tasks == 0) {
      return result;
    }
    long[] load = new long[tasks];
    PriorityQueue<Integer> leastLoaded =
        new PriorityQueue<>(
            Comparator.<Integer>comparingLong(i -> load[i]).thenComparingInt(i -> i));
    for (int i = 0; i < tasks; i++) {
      result.add(new ArrayList<>());
      leastLoaded.add(i);
    }
    units.sort(
        Comparator.comparingLong(TaskAssigner::pages)
            .reversed()
            .thenComparing(u -> u.get(0).leaf())
            .thenComparingLong(u -> u.get(0).startPage()));
    for (List<CtidRange> unit : units) {
      int task = leastLoaded.poll();
      result.get(task).addAll(unit);
      load[task] += pages(unit);
      leastLoaded.add(task);
    }
    // read each task's ranges in physical order: sequential I/O on the source
    Comparator<CtidRange> physical =
        Comparator.comparing(CtidRange::leaf).thenComparingLong(CtidRange::startPage);
    result.forEach(list -> list.sort(physical));
    return result;
  }

  private static long pages(List<CtidRange> unit) {
    long pages = 0;
    for (CtidRange r : unit) {
      pages += Math.max(1, r.estimatedPages());
    }
    return pages;
  }
}
