package io.pgcopy.connect.source;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/** Deals ranges to at most {@code maxTasks} tasks, balanced by estimated size (largest range first, to the least loaded task). */
public final class TaskAssigner {
  private TaskAssigner() {}

  public static List<List<CtidRange>> assign(List<CtidRange> ranges, int maxTasks) {
    if (maxTasks < 1) {
      throw new IllegalArgumentException("maxTasks must be at least 1");
    }
    int tasks = Math.min(maxTasks, ranges.size());
    List<List<CtidRange>> result = new ArrayList<>();
    if (tasks == 0) {
      return result;
    }
    long[] load = new long[tasks];
    PriorityQueue<Integer> leastLoaded =
        new PriorityQueue<>(Comparator.<Integer>comparingLong(i -> load[i]).thenComparingInt(i -> i));
    for (int i = 0; i < tasks; i++) {
      result.add(new ArrayList<>());
      leastLoaded.add(i);
    }
    List<CtidRange> bySize = new ArrayList<>(ranges);
    bySize.sort(Comparator.comparingLong(CtidRange::estimatedPages).reversed()
        .thenComparing(CtidRange::leaf).thenComparingLong(CtidRange::startPage));
    for (CtidRange r : bySize) {
      int task = leastLoaded.poll();
      result.get(task).add(r);
      load[task] += Math.max(1, r.estimatedPages());
      leastLoaded.add(task);
    }
    // read each task's ranges in physical order: sequential I/O on the source
    Comparator<CtidRange> physical = Comparator.comparing(CtidRange::leaf).thenComparingLong(CtidRange::startPage);
    result.forEach(list -> list.sort(physical));
    return result;
  }
}
