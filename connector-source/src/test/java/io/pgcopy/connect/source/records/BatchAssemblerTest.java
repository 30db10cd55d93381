package io.pgcopy.connect.source.records;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgcopy.connect.format.Tuples;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BatchAssemblerTest {
  private static byte[] row(int n) {
    return Tuples.of(new byte[] {(byte) (n >> 24), (byte) (n >> 16), (byte) (n >> 8), (byte) n});
  }

  /** Appends row n (position n) to group g. */
  private static void add(
      BatchAssembler<String, Integer> a,
      String g,
      int n,
      List<BatchAssembler.Completed<String, Integer>> out) {
    byte[] row = row(n);
    a.writer(g, row.length, out).appendTuple(row);
    a.appended(g, n, n / 10);
  }

  @Test
  void aBatchIsCompletedBeforeARowWouldTakeItPastTheTarget() {
    var a = new BatchAssembler<String, Integer>(3 * row(0).length, null);
    List<BatchAssembler.Completed<String, Integer>> out = new ArrayList<>();
    for (int n = 1; n <= 7; n++) {
      add(a, "a", n, out);
    }
    assertThat(out).hasSize(2);
    assertThat(out.get(0).rows()).isEqualTo(3);
    assertThat(out.get(0).coveredUpTo()).isEqualTo(3);
    assertThat(out.get(1).coveredUpTo()).isEqualTo(6);
    a.completeAll(out);
    assertThat(out.get(2).rows()).isEqualTo(1);
    assertThat(out.get(2).coveredUpTo()).isEqualTo(7);
    assertThat(a.isEmpty()).isTrue();
  }

  @Test
  void aBatchCoversOnlyUpToTheRowBeforeTheOldestRowStillWaiting() {
    var a = new BatchAssembler<String, Integer>(2 * row(0).length, 100);
    List<BatchAssembler.Completed<String, Integer>> out = new ArrayList<>();
    add(a, "x", 101, out);
    add(a, "y", 102, out);
    add(a, "y", 103, out);
    add(a, "y", 104, out); // completes y = {102, 103}; x still holds 101
    assertThat(out).hasSize(1);
    assertThat(out.get(0).coveredUpTo()).isEqualTo(100);
    a.completeAll(out); // x {101} first (oldest), then y {104}
    assertThat(out.get(1).group()).isEqualTo("x");
    assertThat(out.get(1).coveredUpTo()).isEqualTo(103);
    assertThat(out.get(2).group()).isEqualTo("y");
    assertThat(out.get(2).coveredUpTo()).isEqualTo(104);
  }

  @Test
  void tagsListEachTransactionOfABatchOnce() {
    var a = new BatchAssembler<String, Integer>(1 << 20, null);
    List<BatchAssembler.Completed<String, Integer>> out = new ArrayList<>();
    for (int n = 5; n < 35; n++) {
      add(a, "g", n, out);
    }
    a.completeAll(out);
    assertThat(out.get(0).tags()).containsExactly(0, 1, 2, 3);
  }

  /**
   * Whatever the groups and sizes, a restart from the position of any completed batch loses no row:
   * every row at or below it is in that batch or an earlier one.
   */
  @Test
  void positionsNeverGoDownAndNeverClaimARowNotYetCompleted() {
    Random random = new Random(42);
    for (int round = 0; round < 200; round++) {
      var a = new BatchAssembler<Integer, Integer>(row(0).length * (1 + random.nextInt(6)), 0);
      List<BatchAssembler.Completed<Integer, Integer>> out = new ArrayList<>();
      int groups = 1 + random.nextInt(5);
      int rows = random.nextInt(200);
      Set<Integer> sent = new HashSet<>();
      int previous = 0;
      int checked = 0;
      for (int n = 1; n <= rows + 1; n++) {
        if (n == rows + 1) {
          a.completeAll(out);
        } else {
          int g = random.nextInt(groups);
          byte[] row = row(n);
          a.writer(g, row.length, out).appendTuple(row);
          a.appended(g, n, 0);
        }
        for (; checked < out.size(); checked++) {
          var b = out.get(checked);
          var reader =
              io.pgcopy.connect.format.RowBatchReader.of(
                  io.pgcopy.connect.format.RowBatch.ROWS, b.value());
          while (reader.next()) {
            sent.add(java.nio.ByteBuffer.wrap(reader.newTuple(), 6, 4).getInt());
          }
          assertThat(b.coveredUpTo()).isGreaterThanOrEqualTo(previous);
          previous = b.coveredUpTo();
          for (int p = 1; p <= previous; p++) {
            assertThat(sent)
                .as("round %d: row %d below position %d", round, p, previous)
                .contains(p);
          }
        }
      }
      assertThat(previous).isEqualTo(rows);
      assertThat(sent).hasSize(rows);
    }
  }
}
