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
 * byte   version (1)
 * int16  column count
 * per column:
 *   int16 name length, name (UTF-8)
 *   int32 type OID
 *   int32 type modifier
 *   int16 type name length, type name (UTF-8)
 *   byte  flags (bit 0: NOT NULL)
 *   int16 key position (0: not in the key)
 * </pre>
 * All integers are big-endian, as in the binary COPY format.
 */
public final class ColumnLayout {
  public static final byte VERSION = 1;

  private final List<Column> columns;
  private final int[] keyFieldIndexes;

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
    List<Column> keys = new ArrayList<>();
    for (int i : keyFieldIndexes) {
      keys.add(columns.get(i));
    }
    return Collections.unmodifiableList(keys);
  }

  public byte[] encode() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(32 + columns.size() * 32);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      out.writeShort(columns.size());
      for (Column c : columns) {
        writeString(out, c.name());
        out.writeInt(c.typeOid());
        out.writeInt(c.typeModifier());
        writeString(out, c.typeName());
        out.writeByte(c.notNull() ? 1 : 0);
        out.writeShort(c.keyPosition());
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
      if (version != VERSION) {
        throw new IllegalArgumentException("unsupported pgcopy column layout version " + version);
      }
      int count = Short.toUnsignedInt(in.getShort());
      List<Column> columns = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        String name = readString(in);
        int oid = in.getInt();
        int typmod = in.getInt();
        String typeName = readString(in);
        boolean notNull = (in.get() & 1) != 0;
        int keyPosition = Short.toUnsignedInt(in.getShort());
        columns.add(new Column(name, oid, typmod, typeName, notNull, keyPosition));
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
