package io.pgcopy.connect.source.plan;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.source.offsets.Ctid;
import io.pgcopy.connect.source.offsets.CtidRange;
import io.pgcopy.connect.source.postgres.TableExtent;
import java.util.List;
import org.junit.jupiter.api.Test;

class RangePlannerTest {
  private static final TableId T = new TableId("public", "t");
  private static final TableId P = new TableId("public", "p");
  private static final TableId P1 = new TableId("public", "p1");

  @Test
  void splitsOnMultiplesOfTheRangeSizeWithAnOpenLastRange() {
    List<CtidRange> ranges = new RangePlanner(100).plan(List.of(new TableExtent(T, T, 250)));
    assertThat(ranges)
        .containsExactly(
            new CtidRange(T, T, 0, 100, 100),
            new CtidRange(T, T, 100, 200, 100),
            new CtidRange(T, T, 200, CtidRange.OPEN, 50));
  }

  @Test
  void exactMultipleStillEndsOpen() {
    assertThat(new RangePlanner(100).plan(List.of(new TableExtent(T, T, 200))))
        .containsExactly(
            new CtidRange(T, T, 0, 100, 100), new CtidRange(T, T, 100, CtidRange.OPEN, 100));
  }

  @Test
  void emptyTableHasOneOpenRange() {
    // read like any other, it yields no row, but its empty batch tells the sink to create the table
    assertThat(new RangePlanner(100).plan(List.of(new TableExtent(T, T, 0))))
        .containsExactly(new CtidRange(T, T, 0, CtidRange.OPEN, 0));
  }

  @Test
  void leafPartitionsFeedTheParentsTopic() {
    List<CtidRange> ranges = new RangePlanner(100).plan(List.of(new TableExtent(P, P1, 10)));
    assertThat(ranges)
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.table()).isEqualTo(P);
              assertThat(r.leaf()).isEqualTo(P1);
            });
  }

  @Test
  void replanningAGrownTableKeepsEarlierBoundaries() {
    RangePlanner planner = new RangePlanner(100);
    List<CtidRange> before = planner.plan(List.of(new TableExtent(T, T, 250)));
    List<CtidRange> after = planner.plan(List.of(new TableExtent(T, T, 420)));
    assertThat(after.stream().map(CtidRange::partition))
        .containsAll(before.stream().map(CtidRange::partition).toList());
  }

  @Test
  void whereClauseSelectsTheRangeOrResumesAfterARow() {
    CtidRange closed = new CtidRange(T, T, 100, 200, 100);
    assertThat(closed.whereClause(null))
        .isEqualTo("ctid >= '(100,0)'::tid AND ctid < '(200,0)'::tid");
    assertThat(closed.whereClause(new Ctid(150, 7)))
        .isEqualTo("ctid > '(150,7)'::tid AND ctid < '(200,0)'::tid");
    assertThat(new CtidRange(T, T, 200, CtidRange.OPEN, 5).whereClause(null))
        .isEqualTo("ctid >= '(200,0)'::tid");
  }
}
