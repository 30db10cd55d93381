package io.pgcopy.connect.sink.apply;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgcopy.connect.format.Operation;
import io.pgcopy.connect.sink.batch.TableBatch;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class KeylessChangesTest {
  private static byte[] row(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static TableBatch.Change insert(String v) {
    return new TableBatch.Change(Operation.INSERT, null, row(v), null);
  }

  private static TableBatch.Change update(String old, String v) {
    return new TableBatch.Change(Operation.UPDATE, row(old), row(v), null);
  }

  private static TableBatch.Change delete(String old) {
    return new TableBatch.Change(Operation.DELETE, row(old), null, null);
  }

  private static List<String> text(List<byte[]> rows) {
    List<String> out = new ArrayList<>();
    rows.forEach(r -> out.add(new String(r, StandardCharsets.UTF_8)));
    return out;
  }

  @Test
  void changesOfRowsAlreadyInTheTargetBecomeDeletesAndInserts() {
    KeylessChanges c = KeylessChanges.of(List.of(update("a", "b"), delete("c"), insert("d")));
    assertThat(text(c.deletes())).containsExactly("a", "c");
    assertThat(text(c.inserts())).containsExactly("b", "d");
  }

  @Test
  void aRowInsertedAndChangedInTheSameBatchNeverReachesTheTarget() {
    KeylessChanges c =
        KeylessChanges.of(List.of(insert("a"), update("a", "b"), update("b", "c"), delete("c")));
    assertThat(c.deletes()).isEmpty();
    assertThat(c.inserts()).isEmpty();
  }

  @Test
  void duplicatesCountOneByOne() {
    // two equal rows inserted, one of them deleted, and one more deleted that the target had
    KeylessChanges c =
        KeylessChanges.of(List.of(insert("x"), insert("x"), delete("x"), delete("x"), delete("x")));
    assertThat(text(c.deletes())).containsExactly("x");
    assertThat(c.inserts()).isEmpty();
    KeylessChanges d = KeylessChanges.of(List.of(insert("x"), insert("x"), delete("x")));
    assertThat(text(d.inserts())).containsExactly("x");
  }

  @Test
  void aDeleteBeforeTheInsertOfAnEqualRowRemovesATargetRow() {
    KeylessChanges c = KeylessChanges.of(List.of(delete("x"), insert("x")));
    assertThat(text(c.deletes())).containsExactly("x");
    assertThat(text(c.inserts())).containsExactly("x");
  }
}
