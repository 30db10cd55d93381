package io.pgcopy.connect.source.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.source.offsets.CtidRange;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TaskAssignerTest {
  private static final TableId T = new TableId("public", "t");

  private static List<CtidRange> ranges(long... sizes) {
    List<CtidRange> list = new ArrayList<>();
    long start = 0;
    for (long s : sizes) {
      list.add(new CtidRange(T, T, start, start + s, s));
      start += s;
    }
    return list;
  }

  @Test
  void neverMoreTasksThanMaxTasksOrRanges() {
    assertThat(TaskAssigner.assign(ranges(10, 10, 10), 8)).hasSize(3);
    assertThat(TaskAssigner.assign(ranges(10, 10, 10, 10, 10), 2)).hasSize(2);
    assertThat(TaskAssigner.assign(List.of(), 4)).isEmpty();
    assertThatThrownBy(() -> TaskAssigner.assign(ranges(1), 0))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void balancesBySizeAndKeepsEveryRangeOnce() {
    List<CtidRange> all = ranges(100, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10);
    List<List<CtidRange>> tasks = TaskAssigner.assign(all, 2);
    assertThat(tasks.stream().flatMap(List::stream)).containsExactlyInAnyOrderElementsOf(all);
    assertThat(tasks.stream().map(t -> t.stream().mapToLong(CtidRange::estimatedPages).sum()))
        .containsExactlyInAnyOrder(100L, 100L);
  }

  @Test
  void eachTaskReadsInPhysicalOrder() {
    for (List<CtidRange> task : TaskAssigner.assign(ranges(5, 50, 5, 50, 5, 50), 2)) {
      assertThat(task).isSortedAccordingTo((a, b) -> Long.compare(a.startPage(), b.startPage()));
    }
  }

  @Test
  void everyRangeOfATableReadAgainGoesToOneTask() {
    TableId other = new TableId("public", "other");
    List<CtidRange> all = new ArrayList<>(ranges(10, 10, 10, 10));
    all.add(new CtidRange(other, other, 0, 5, 5));
    all.add(new CtidRange(other, other, 5, 10, 5));
    List<List<CtidRange>> tasks = TaskAssigner.assign(all, 3, Set.of(T));
    assertThat(tasks)
        .filteredOn(list -> list.stream().anyMatch(r -> r.table().equals(T)))
        .hasSize(1)
        .allSatisfy(list -> assertThat(list).filteredOn(r -> r.table().equals(T)).hasSize(4));
    assertThat(tasks).hasSize(3);
  }
}
