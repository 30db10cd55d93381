package io.pgcopy.connect.format;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;

/**
 * The ordered columns of a table's records, and the binary form carried in the {@link
 * RecordHeaders#COLUMNS} header. Immutable; encode once per table and share the bytes.
 *
 * <pre>
 * byte   version (1; 2 when a column has a missing value; 3 when the table has generated columns)
 * int16  column count
 * per column:
 *   int16 name length, name (UTF-8)
 *   int32 type OID
 *   int32 type modifier
 *   int16 type name length, type name (UTF-8)
 *   byte  flags (bit 0: NOT NULL; bit 1, version 2 only: a missing value follows)
 *   int16 key position (0: not in the key)
 *   [int32 length, missing value in text form (UTF-8)]   version 2 or 3, when flag bit 1 is set
 * version 3 only: int16 generated column count, per generated column:
 *   int16 name length, name (UTF-8)
 *   int16 type name length, type name (UTF-8)
 *   int32 expression length, generation expression (UTF-8)
 *   int16 position (how many of the columns above come before it)
 * </pre>
 *
 * All integers are big-endian, as in the binary COPY format.
 */
public final class ColumnLayout {
  public static final byte VERSION = 1;

  /** The version written when a column carries a missing value. */
  public static final byte VERSION_WITH_MISSING_VALUES = 2;

  /** The version written when the table has stored generated columns. */
  public static final byte VERSION_WITH_GENERATED_COLUMNS = 3;

  private final List<Column> columns;
  private final List<GeneratedColumn> generated;
  private final int[] keyFieldIndexes;
  private final List<Column> keyColumns;

  public ColumnLayout(List<Column> columns) {
    this(columns, List.of());
  }

  /** A layout whose table also has stored generated columns, which records carry no value for. */
  public ColumnLayout(List<Column> columns, List<GeneratedColumn> generated) {
    this.columns = List.copyOf(columns);
    this.generated = List.copyOf(generated);
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

  /** The table's stored generated columns, in table order; records carry no field for them. */
  public List<GeneratedColumn> generated() {
    return generated;
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
      out.writeByte(
          !generated.isEmpty()
              ? VERSION_WITH_GENERATED_COLUMNS
              : missing ? VERSION_WITH_MISSING_VALUES : VERSION);
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
      if (!generated.isEmpty()) {
        out.writeShort(generated.size());
        for (GeneratedColumn g : generated) {
          writeString(out, g.name());
          writeString(out, g.typeName());
          byte[] e = g.expression().getBytes(StandardCharsets.UTF_8);
          out.writeInt(e.length);
          out.write(e);
          out.writeShort(g.position());
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
      if (version != VERSION
          && version != VERSION_WITH_MISSING_VALUES
          && version != VERSION_WITH_GENERATED_COLUMNS) {
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
        if (version != VERSION && (flags & 2) != 0) {
          byte[] v = new byte[in.getInt()];
          in.get(v);
          missingValue = new String(v, StandardCharsets.UTF_8);
        }
        columns.add(
            new Column(name, oid, typmod, typeName, (flags & 1) != 0, keyPosition, missingValue));
      }
      List<GeneratedColumn> generated = new ArrayList<>();
      if (version == VERSION_WITH_GENERATED_COLUMNS) {
        int n = Short.toUnsignedInt(in.getShort());
        for (int i = 0; i < n; i++) {
          String name = readString(in);
          String typeName = readString(in);
          byte[] e = new byte[in.getInt()];
          in.get(e);
          int position = Short.toUnsignedInt(in.getShort());
          if (position > count) {
            throw new IllegalArgumentException(
                "generated column " + name + " at position " + position + " of " + count);
          }
          generated.add(
              new GeneratedColumn(name, typeName, new String(e, StandardCharsets.UTF_8), position));
        }
      }
      if (in.hasRemaining()) {
        throw new IllegalArgumentException("trailing bytes after pgcopy column layout");
      }
      return new ColumnLayout(columns, generated);
    } catch (BufferUnderflowException | NegativeArraySizeException e) {
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
    return o instanceof ColumnLayout l
        && l.columns.equals(columns)
        && l.generated.equals(generated);
  }

  @Override
  public int hashCode() {
    return columns.hashCode() * 31 + generated.hashCode();
  }

  @Override
  public String toString() {
    return "ColumnLayout"
        + columns
        + " key="
        + Arrays.toString(keyFieldIndexes)
        + (generated.isEmpty() ? "" : " generated=" + generated);
  }
}
