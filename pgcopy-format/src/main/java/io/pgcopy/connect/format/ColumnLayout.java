package io.pgcopy.connect.format;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;

/**
 * The ordered columns of a table's records, and the binary form carried in the
 * {@link RecordHeaders#COLUMNS} header. Immutable; encode once per table and share the bytes.
 *
 * <pre>
 * byte   version (1, or 2 when a column has a missing value)
 * int16  column count
 * per column:
 *   int16 name length, name (UTF-8)
 *   int32 type OID
 *   int32 type modifier
 *   int16 type name length, type name (UTF-8)
 *   byte  flags (bit 0: NOT NULL; bit 1, version 2 only: a missing value follows)
 *   int16 key position (0: not in the key)
 *   [int32 length, missing value in text form (UTF-8)]   version 2, when flag bit 1 is set
 * </pre>
 * All integers are big-endian, as in the binary COPY format.
 */
public final class ColumnLayout {
  public static final byte VERSION = 1;
  /** The version written when a column carries a missing value. */
  public static final byte VERSION_WITH_MISSING_VALUES = 2;

  private final List<Column> columns;
  private final int[] keyFieldIndexes;
  private final List<Column> keyColumns;

  public ColumnLayout(List<Column> columns) {
    this.columns = List.copyOf(columns);
    List<Integer> keys = new ArrayList<>();
    for (int i = 0; i < this.columns.size(); i++) {
      if (this.columns.get(i).isKey()) {
        keys.add(i);
      }
    }
    keys.sort(Comparator.comparingInt(i -> this.columns.get(i).keyPosition()));
    this.keyFieldIndexes = keys.stream().mapToInt(Integer::intValue).toArray();
    List<Column> keyList = new ArrayList<>();
    for (int i : keyFieldIndexes) {
      keyList.add(this.columns.get(i));
    }
    this.keyColumns = Collections.unmodifiableList(keyList);
  }

  public List<Column> columns() {
    return columns;
  }

  public int size() {
    return columns.size();
  }

  public boolean hasKey() {
    return keyFieldIndexes.length > 0;
  }

  /** Indexes (into {@link #columns()}) of the key columns, in key order. */
  public int[] keyFieldIndexes() {
    return keyFieldIndexes.clone();
  }

  public List<Column> keyColumns() {
    return keyColumns;
  }

  public byte[] encode() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(32 + columns.size() * 32);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      boolean missing = columns.stream().anyMatch(c -> c.missingValue() != null);
      out.writeByte(missing ? VERSION_WITH_MISSING_VALUES : VERSION);
      out.writeShort(columns.size());
      for (Column c : columns) {
        writeString(out, c.name());
        out.writeInt(c.typeOid());
        out.writeInt(c.typeModifier());
        writeString(out, c.typeName());
        out.writeByte((c.notNull() ? 1 : 0) | (c.missingValue() != null ? 2 : 0));
        out.writeShort(c.keyPosition());
        if (c.missingValue() != null) {
          byte[] v = c.missingValue().getBytes(StandardCharsets.UTF_8);
          out.writeInt(v.length);
          out.write(v);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  private static void writeString(DataOutputStream out, String s) throws IOException {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    if (b.length > 0xFFFF) {
      throw new IllegalArgumentException("name longer than 65535 bytes");
    }
    out.writeShort(b.length);
    out.write(b);
  }

  public static ColumnLayout decode(byte[] encoded) {
    ByteBuffer in = ByteBuffer.wrap(encoded);
    try {
      byte version = in.get();
      if (version != VERSION && version != VERSION_WITH_MISSING_VALUES) {
        throw new IllegalArgumentException("unsupported pgcopy column layout version " + version);
      }
      int count = Short.toUnsignedInt(in.getShort());
      List<Column> columns = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        String name = readString(in);
        int oid = in.getInt();
        int typmod = in.getInt();
        String typeName = readString(in);
        byte flags = in.get();
        int keyPosition = Short.toUnsignedInt(in.getShort());
        String missingValue = null;
        if (version == VERSION_WITH_MISSING_VALUES && (flags & 2) != 0) {
          byte[] v = new byte[in.getInt()];
          in.get(v);
          missingValue = new String(v, StandardCharsets.UTF_8);
        }
        columns.add(new Column(name, oid, typmod, typeName, (flags & 1) != 0, keyPosition, missingValue));
      }
      if (in.hasRemaining()) {
        throw new IllegalArgumentException("trailing bytes after pgcopy column layout");
      }
      return new ColumnLayout(columns);
    } catch (java.nio.BufferUnderflowException e) {
      throw new IllegalArgumentException("truncated pgcopy column layout", e);
    }
  }

  private static String readString(ByteBuffer in) {
    int len = Short.toUnsignedInt(in.getShort());
    byte[] b = new byte[len];
    in.get(b);
    return new String(b, StandardCharsets.UTF_8);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ColumnLayout && ((ColumnLayout) o).columns.equals(columns);
  }

  @Override
  public int hashCode() {
    return columns.hashCode();
  }

  @Override
  public String toString() {
    return "ColumnLayout" + columns + " key=" + Arrays.toString(keyFieldIndexes);
  }
}
