package io.pgcopy.connect.sink.apply;

import io.pgcopy.connect.format.Operation;
import io.pgcopy.connect.sink.batch.TableBatch;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A keyless table's changes of one batch, reduced to the rows to delete and the rows to insert.
 * Pure. A keyless table is a multiset of rows, and a change of it (an update or delete carries the
 * whole old row) removes one row equal to the old row; applied one by one, every such change costs
 * a scan of the target. Applied in order, the batch has the same effect as: cancel each removal
 * against a row the batch itself inserted before it, then remove the remaining old rows from the
 * target (one of each occurrence) and insert the remaining new rows. That takes one statement and
 * one COPY per batch, whatever the number of changes.
 */
final class KeylessChanges {
  private final List<byte[]> deletes = new ArrayList<>();
  private final List<byte[]> inserts = new ArrayList<>();

  private KeylessChanges() {}

  /**
   * Reduces {@code changes} (in partition order; for updates and deletes the key is the old row).
   */
  static KeylessChanges of(Collection<TableBatch.Change> changes) {
    Map<ByteBuffer, List<Integer>> inserted = new HashMap<>();
    List<byte[]> added = new ArrayList<>();
    List<byte[]> removed = new ArrayList<>();
    for (TableBatch.Change c : changes) {
      if (c.op() == Operation.UPDATE || c.op() == Operation.DELETE) {
        if (c.key() == null) {
          throw new IllegalArgumentException(
              "a " + c.op() + " of a keyless table carries no old row");
        }
        List<Integer> same = inserted.get(ByteBuffer.wrap(c.key()));
        if (same != null && !same.isEmpty()) {
          added.set(
              same.remove(same.size() - 1),
              null); // the batch inserted it: neither insert nor delete
        } else {
          removed.add(c.key());
        }
      }
      if (c.op() != Operation.DELETE && c.op() != Operation.TRUNCATE) {
        inserted
            .computeIfAbsent(ByteBuffer.wrap(c.value()), k -> new ArrayList<>())
            .add(added.size());
        added.add(c.value());
      }
    }
    KeylessChanges reduced = new KeylessChanges();
    reduced.deletes.addAll(removed);
    for (byte[] row : added) {
      if (row != null) {
        reduced.inserts.add(row);
      }
    }
    return reduced;
  }

  /** Old rows to remove from the target, one row per occurrence. */
  List<byte[]> deletes() {
    return deletes;
  }

  /** New rows to insert, in the order they came. */
  List<byte[]> inserts() {
    return inserts;
  }
}
