package io.pgcopy.connect.sink;

import io.pgcopy.connect.format.ColumnLayout;
import io.pgcopy.connect.format.TableId;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Buffered rows for one target table with one column layout. For a table with a key only the
 * last row per key is kept (records of one key arrive in partition order, so the last is the
 * newest); a keyless table keeps every row.
 */
final class TableBatch {
  private final TableId target;
  private final ColumnLayout layout;
  private final Map<ByteBuffer, byte[]> byKey;
  private final List<byte[]> keyless;
  private long bytes;

  TableBatch(TableId target, ColumnLayout layout) {
    this.target = target;
    this.layout = layout;
    this.byKey = layout.hasKey() ? new LinkedHashMap<>() : null;
    this.keyless = layout.hasKey() ? null : new ArrayList<>();
  }

  TableId target() {
    return target;
  }

  ColumnLayout layout() {
    return layout;
  }

  /** Adds a row; returns the change in buffered value bytes. */
  long add(byte[] key, byte[] value) {
    long before = bytes;
    if (byKey != null) {
      if (key == null) {
        throw new IllegalArgumentException("a record for keyed table " + target + " has no key");
      }
      byte[] previous = byKey.put(ByteBuffer.wrap(key), value);
      if (previous != null) {
        bytes -= previous.length;
      }
    } else {
      keyless.add(value);
    }
    bytes += value.length;
    return bytes - before;
  }

  Collection<byte[]> rows() {
    return byKey != null ? byKey.values() : keyless;
  }

  int size() {
    return byKey != null ? byKey.size() : keyless.size();
  }

  long bytes() {
    return bytes;
  }
}
