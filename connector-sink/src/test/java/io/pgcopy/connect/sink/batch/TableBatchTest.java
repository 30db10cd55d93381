package io.pgcopy.connect.sink.batch;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgcopy.connect.format.Column;
import io.pgcopy.connect.format.ColumnLayout;
import io.pgcopy.connect.format.Operation;
import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.format.Tuples;
import java.util.List;
import org.junit.jupiter.api.Test;

class TableBatchTest {
  private static final ColumnLayout KEYED =
      new ColumnLayout(
          List.of(
              new Column("id", 23, -1, "integer", true, 1),
              new Column("Note \"x\"", 1043, 44, "character varying(40)", false, 0)));
  private static final ColumnLayout KEYLESS =
      new ColumnLayout(List.of(new Column("v", 25, -1, "text", false, 0)));
  private static final TableId T = new TableId("My Schema", "t");

  @Test
  void keyedBatchKeepsTheLastRowPerKey() {
    TableBatch b = new TableBatch(T, KEYED);
    byte[] k1 = Tuples.of(new byte[] {0, 0, 0, 1});
    byte[] k2 = Tuples.of(new byte[] {0, 0, 0, 2});
    b.add(Operation.READ, k1, new byte[] {1}, null);
    b.add(Operation.READ, k2, new byte[] {2}, null);
    b.add(Operation.UPDATE, k1.clone(), new byte[] {3, 3}, null);
    assertThat(b.size()).isEqualTo(2);
    assertThat(b.changes())
        .extracting(TableBatch.Change::value)
        .containsExactly(new byte[] {3, 3}, new byte[] {2});
    assertThat(b.bytes()).isEqualTo(2 * k1.length + 3);
    b.add(Operation.DELETE, k2.clone(), null, null);
    assertThat(b.changes())
        .extracting(TableBatch.Change::op)
        .containsExactly(Operation.UPDATE, Operation.DELETE);
  }

  /**
   * Insert then update of the same key in one batch: the update's unchanged TOAST value comes from
   * the insert.
   */
  @Test
  void updateWithAbsentValueTakesItFromTheRowItReplaces() {
    TableBatch b = new TableBatch(T, KEYED);
    byte[] id = {0, 0, 0, 7};
    byte[] key = Tuples.of(id);
    b.add(Operation.INSERT, key, Tuples.of(id, "big".getBytes()), null);
    b.add(Operation.UPDATE, key.clone(), Tuples.of(id, null), new int[] {1});
    TableBatch.Change c = b.changes().iterator().next();
    assertThat(c.absent()).isNull();
    assertThat(Tuples.value(c.value(), 1)).isEqualTo("big".getBytes());
    // with nothing before it in the batch, the column stays absent
    TableBatch alone = new TableBatch(T, KEYED);
    alone.add(Operation.UPDATE, key, Tuples.of(id, null), new int[] {1});
    assertThat(alone.changes().iterator().next().absent()).containsExactly(1);
  }

  @Test
  void truncateDropsWhatCameBeforeIt() {
    TableBatch b = new TableBatch(T, KEYED);
    b.add(
        Operation.INSERT,
        Tuples.of(new byte[] {0, 0, 0, 1}),
        Tuples.of(new byte[] {0, 0, 0, 1}, null),
        null);
    b.add(Operation.TRUNCATE, null, null, null);
    b.add(
        Operation.INSERT,
        Tuples.of(new byte[] {0, 0, 0, 2}),
        Tuples.of(new byte[] {0, 0, 0, 2}, null),
        null);
    assertThat(b.truncate()).isTrue();
    assertThat(b.size()).isEqualTo(1);
  }

  @Test
  void keylessBatchKeepsIdenticalRows() {
    TableBatch b = new TableBatch(T, KEYLESS);
    b.add(Operation.READ, null, new byte[] {1}, null);
    b.add(Operation.INSERT, null, new byte[] {1}, null);
    assertThat(b.size()).isEqualTo(2);
  }
}
