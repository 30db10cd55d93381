package io.pgcopy.connect.sink.batch;

import io.pgcopy.connect.format.ColumnLayout;
import io.pgcopy.connect.format.Operation;
import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.format.Tuples;
import io.pgcopy.connect.sink.target.EmbeddedOids;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Buffered changes for one target table with one column layout. For a table with a key only the
 * last change per key is kept (records of one key arrive in one partition, in order, so the last is
 * the newest); an update whose unchanged TOASTed values were not sent takes them from the row it
 * replaces in the batch. A keyless table keeps every change in order. A truncate drops what came
 * before it and is applied first.
 */
public final class TableBatch {
  /**
   * One change: what to do, the key (for a keyless table the old row), the new row, absent fields.
   */
  public record Change(Operation op, byte[] key, byte[] value, int[] absent) {
    public boolean isDelete() {
      return op == Operation.DELETE;
    }
  }

  private final TableId target;
  private final ColumnLayout layout;
  private final Map<ByteBuffer, Change> byKey;
  private final List<Change> keyless;
  private final boolean text;
  private boolean truncate;
  private long bytes;

  /**
   * Snapshot rows as they came: runs of binary COPY tuples, in arrival order, before every change.
   */
  private final List<byte[]> runs = new ArrayList<>();

  private long runRows;

  TableBatch(TableId target, ColumnLayout layout) {
    this(target, layout, false);
  }

  /**
   * @param text whether the tuples hold each value's text form (from struct records) rather than
   *     its binary form
   */
  TableBatch(TableId target, ColumnLayout layout, boolean text) {
    this.target = target;
    this.layout = layout;
    this.text = text;
    this.byKey = layout.hasKey() ? new LinkedHashMap<>() : null;
    this.keyless = layout.hasKey() ? null : new ArrayList<>();
  }

  public TableId target() {
    return target;
  }

  public ColumnLayout layout() {
    return layout;
  }

  /** Whether the tuples hold text forms, copied in with COPY's text format. */
  public boolean text() {
    return text;
  }

  /** Adds a change; returns the change in buffered bytes. */
  public long add(Operation op, byte[] key, byte[] value, int[] absent) {
    long before = bytes;
    if (op == Operation.TRUNCATE) {
      truncate = true;
      if (byKey != null) {
        byKey.clear();
      } else {
        keyless.clear();
      }
      runs.clear();
      runRows = 0;
      bytes = 0;
      return bytes - before;
    }
    if (op != Operation.DELETE && value == null) {
      throw new IllegalArgumentException("a " + op + " for " + target + " has no value");
    }
    if (byKey != null) {
      if (key == null) {
        throw new IllegalArgumentException("a record for keyed table " + target + " has no key");
      }
      ByteBuffer k = ByteBuffer.wrap(key);
      Change previous = byKey.get(k);
      if (absent != null && previous != null && previous.value != null) {
        // the unchanged values are in the row this change replaces
        value = Tuples.replaceFields(value, absent, previous.value);
        absent = stillAbsent(absent, previous.absent);
      }
      Change c = new Change(op, key, value, absent);
      previous = byKey.put(k, c);
      if (previous != null) {
        bytes -= size(previous);
      }
      bytes += size(c);
    } else {
      Change c = new Change(op, key, value, absent);
      keyless.add(c);
      bytes += size(c);
    }
    return bytes - before;
  }

  /**
   * Adds a run of snapshot rows (the value of a snapshot batch record), kept as it is for one COPY.
   * Snapshot rows of a key come before any change of it, so a run is never newer than a change
   * already buffered.
   */
  void addRun(byte[] run, int rows) {
    runs.add(run);
    runRows += rows;
    bytes += run.length;
  }

  /** The snapshot runs, oldest first. */
  public List<byte[]> runs() {
    return runs;
  }

  private static int[] stillAbsent(int[] absent, int[] previouslyAbsent) {
    if (previouslyAbsent == null) {
      return null;
    }
    int[] both =
        Arrays.stream(absent)
            .filter(f -> Arrays.stream(previouslyAbsent).anyMatch(p -> p == f))
            .toArray();
    return both.length == 0 ? null : both;
  }

  private static long size(Change c) {
    return (c.key == null ? 0 : c.key.length) + (c.value == null ? 0 : c.value.length);
  }

  /**
   * Whether the batch holds changes that need the table's key (anything but snapshot rows and
   * truncates): they are applied with {@code ON CONFLICT} on it, or told apart from a copy sent
   * twice by it.
   */
  public boolean needsKey() {
    for (Change c : changes()) {
      if (c.op() != Operation.READ) {
        return true;
      }
    }
    return false;
  }

  public boolean truncate() {
    return truncate;
  }

  /** The changes: the last per key, or every change of a keyless table in order. */
  public Collection<Change> changes() {
    return byKey != null ? byKey.values() : keyless;
  }

  /** Changes and snapshot rows buffered. */
  long size() {
    return runRows + (byKey != null ? byKey.size() : keyless.size());
  }

  /** Whether a change (not a snapshot row) is buffered for this key. */
  public boolean hasChange(byte[] key) {
    return byKey != null && byKey.containsKey(ByteBuffer.wrap(key));
  }

  public long bytes() {
    return bytes;
  }

  /**
   * Puts the target database's type OIDs into the arrays and composites of every buffered row (and
   * of the old rows that key a keyless table's changes).
   */
  public void rewriteOids(EmbeddedOids.Shape[] shapes) {
    EmbeddedOids.Shape[] keyShapes = null;
    if (layout.hasKey()) {
      int[] keys = layout.keyFieldIndexes();
      keyShapes = new EmbeddedOids.Shape[keys.length];
      for (int i = 0; i < keys.length; i++) {
        keyShapes[i] = shapes[keys[i]];
      }
    }
    for (byte[] run : runs) {
      try {
        EmbeddedOids.rewriteRun(run, shapes);
      } catch (EmbeddedOids.FieldException e) {
        throw new IllegalArgumentException(
            "column "
                + layout.columns().get(e.field).name()
                + " ("
                + layout.columns().get(e.field).typeName()
                + "): "
                + e.getMessage(),
            e);
      }
    }
    for (Change c : changes()) {
      try {
        if (c.value() != null) {
          EmbeddedOids.rewriteTuple(c.value(), shapes);
        }
        if (c.key() != null) {
          EmbeddedOids.rewriteTuple(c.key(), layout.hasKey() ? keyShapes : shapes);
        }
      } catch (EmbeddedOids.FieldException e) {
        throw new IllegalArgumentException(
            "column "
                + layout.columns().get(e.field).name()
                + " ("
                + layout.columns().get(e.field).typeName()
                + "): "
                + e.getMessage(),
            e);
      }
    }
  }
}
