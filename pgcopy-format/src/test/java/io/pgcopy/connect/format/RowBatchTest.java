package io.pgcopy.connect.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class RowBatchTest {
  private static byte[] row(int id, String text) {
    return Tuples.of(
        new byte[] {0, 0, 0, (byte) id},
        text == null ? null : text.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void snapshotRowsAreARunOfCopyTuplesReadBackOneByOne() {
    RowBatchWriter w = new RowBatchWriter(8);
    w.appendTuple(row(1, "one"));
    w.appendTuple(row(2, null));
    w.appendTuple(row(3, "three"));
    byte[] value = w.toByteArray();
    assertThat(value).isEqualTo(concat(row(1, "one"), row(2, null), row(3, "three")));
    assertThat(w.rows()).isEqualTo(3);

    RowBatchReader r = RowBatchReader.of(RowBatch.ROWS, value);
    assertThat(r.next()).isTrue();
    assertThat(r.operation()).isEqualTo(Operation.READ);
    assertThat(r.newTuple()).isEqualTo(row(1, "one"));
    assertThat(r.next()).isTrue();
    assertThat(r.newTuple()).isEqualTo(row(2, null));
    assertThat(r.newTupleOffset()).isEqualTo(row(1, "one").length);
    assertThat(r.next()).isTrue();
    assertThat(r.newTuple()).isEqualTo(row(3, "three"));
    assertThat(r.next()).isFalse();
  }

  @Test
  void appendingATupleWithoutItsLeadingFieldsWritesTheRest() {
    byte[] withCtid =
        Tuples.of(new byte[6], new byte[] {0, 0, 0, 7}, "x".getBytes(StandardCharsets.UTF_8));
    byte[] body = java.util.Arrays.copyOfRange(withCtid, 2 + 4 + 6, withCtid.length);
    RowBatchWriter w = new RowBatchWriter(8);
    w.appendTuple(2, body, 0, body.length);
    assertThat(w.toByteArray())
        .isEqualTo(Tuples.of(new byte[] {0, 0, 0, 7}, "x".getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void changeEntriesCarryOperationLsnAbsentFieldsAndTuples() {
    RowBatchWriter w = new RowBatchWriter(8);
    w.appendChange(Operation.INSERT, 0x1_0000_0002L, null, null, row(1, "a"));
    w.appendChange(Operation.UPDATE, 0x1_0000_0003L, new int[] {1}, null, row(1, null));
    w.appendChange(Operation.UPDATE, 0x1_0000_0003L, null, row(9, "old"), row(9, "new"));
    w.appendChange(
        Operation.DELETE, 0xFFFF_FFFF_0000_0004L, null, Tuples.of(new byte[] {0, 0, 0, 1}), null);
    w.appendTruncate(0x1_0000_0005L, 7, 16);
    assertThat(w.size()).isEqualTo(w.toByteArray().length);

    RowBatchReader r = RowBatchReader.of(RowBatch.CHANGES, w.toByteArray());
    assertThat(r.next()).isTrue();
    assertThat(r.operation()).isEqualTo(Operation.INSERT);
    assertThat(r.commitLsn()).isEqualTo(0x1_0000_0002L);
    assertThat(r.oldTuple()).isNull();
    assertThat(r.newTuple()).isEqualTo(row(1, "a"));
    assertThat(r.absent()).isNull();
    assertThat(r.next()).isTrue();
    assertThat(r.operation()).isEqualTo(Operation.UPDATE);
    assertThat(r.absent()).containsExactly(1);
    assertThat(r.newTuple()).isEqualTo(row(1, null));
    assertThat(r.next()).isTrue();
    assertThat(r.oldTuple()).isEqualTo(row(9, "old"));
    assertThat(r.newTuple()).isEqualTo(row(9, "new"));
    assertThat(r.next()).isTrue();
    assertThat(r.operation()).isEqualTo(Operation.DELETE);
    assertThat(r.commitLsn()).isEqualTo(0xFFFF_FFFF_0000_0004L);
    assertThat(r.oldTuple()).isEqualTo(Tuples.of(new byte[] {0, 0, 0, 1}));
    assertThat(r.newTuple()).isNull();
    assertThat(r.next()).isTrue();
    assertThat(r.operation()).isEqualTo(Operation.TRUNCATE);
    assertThat(r.truncateSeq()).isEqualTo(7);
    assertThat(r.truncateEntries()).isEqualTo(16);
    assertThat(r.next()).isFalse();
  }

  @Test
  void aChangeMaySayItsNumberInItsTransaction() {
    RowBatchWriter w = new RowBatchWriter(8);
    w.appendChange(Operation.UPDATE, 0x2_0000_0001L, 3, new int[] {1}, row(4, "old"), row(4, null));
    w.appendChange(Operation.INSERT, 0x2_0000_0001L, 0, null, null, row(5, "x"));
    w.appendTruncate(0x2_0000_0001L, 5, 1);
    assertThat(w.size()).isEqualTo(w.toByteArray().length);

    RowBatchReader r = RowBatchReader.of(RowBatch.CHANGES, w.toByteArray());
    assertThat(r.next()).isTrue();
    assertThat(r.changeSeq()).isEqualTo(3);
    assertThat(r.commitLsn()).isEqualTo(0x2_0000_0001L);
    assertThat(r.absent()).containsExactly(1);
    assertThat(r.oldTuple()).isEqualTo(row(4, "old"));
    assertThat(r.newTuple()).isEqualTo(row(4, null));
    assertThat(r.next()).isTrue();
    assertThat(r.changeSeq()).isZero(); // not written
    assertThat(r.newTuple()).isEqualTo(row(5, "x"));
    assertThat(r.next()).isTrue();
    assertThat(r.changeSeq()).isEqualTo(5); // a truncate's number
    assertThat(r.next()).isFalse();
    assertThat(RowBatchReader.check(RowBatch.CHANGES, w.toByteArray(), 2)).isEqualTo(3);
  }

  @Test
  void aTruncatedValueIsRefusedNotMisread() {
    RowBatchWriter w = new RowBatchWriter(8);
    w.appendChange(Operation.INSERT, 5, null, null, row(1, "abc"));
    byte[] cut = java.util.Arrays.copyOf(w.toByteArray(), w.size() - 2);
    RowBatchReader r = RowBatchReader.of(RowBatch.CHANGES, cut);
    assertThatThrownBy(r::next)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("past the value's end");
    assertThatThrownBy(() -> RowBatchReader.of((byte) 'u', new byte[0]))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void checkCountsTheRowsOfAWellFormedBatchAndNamesWhereOneIsNot() {
    byte[] rows = concat(row(1, "one"), row(2, null), row(3, "three"));
    assertThat(RowBatchReader.check(RowBatch.ROWS, rows, 2)).isEqualTo(3);
    assertThat(RowBatchReader.check(RowBatch.ROWS, new byte[0], 2)).isZero();
    assertThatThrownBy(() -> RowBatchReader.check(RowBatch.ROWS, rows, 3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("row 0 at byte 0 has 2 fields where the column layout has 3");
    // cut inside the last row's length word, and inside its first field's length word
    for (int cut : new int[] {1, 4}) {
      byte[] truncated = java.util.Arrays.copyOf(rows, rows.length - row(3, "three").length + cut);
      assertThatThrownBy(() -> RowBatchReader.check(RowBatch.ROWS, truncated, 2))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("row 2");
    }
    byte[] garbage = "this is not a row batch".getBytes(StandardCharsets.UTF_8);
    assertThatThrownBy(() -> RowBatchReader.check(RowBatch.ROWS, garbage, 2))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RowBatchReader.check(RowBatch.CHANGES, garbage, 2))
        .isInstanceOf(IllegalArgumentException.class);

    RowBatchWriter w = new RowBatchWriter(8);
    w.appendChange(Operation.INSERT, 5, null, null, row(1, "abc"));
    w.appendChange(Operation.DELETE, 6, null, Tuples.of(new byte[] {0, 0, 0, 1}), null);
    w.appendTruncate(7, 0, 4);
    assertThat(RowBatchReader.check(RowBatch.CHANGES, w.toByteArray(), 2)).isEqualTo(3);
  }

  private static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    byte[] out = new byte[n];
    int o = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, o, p.length);
      o += p.length;
    }
    return out;
  }
}
