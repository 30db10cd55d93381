package io.pgcopy.connect.format;

import java.io.ByteArrayOutputStream;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The value of a post-data record ({@link RowBatch#POST_DATA}): what a table has besides its
 * columns (indexes, constraints, defaults, the state of its sequences), as the source server
 * printed it, sent once the table's snapshot is in Kafka: one record in every key bucket of a keyed
 * table, one in partition 0 of a keyless one. A sink builds it once every bucket's record has
 * arrived, that is once every snapshot row is in the target. Layout (big-endian): the
 * announcement's id (int64), the number of records sent for it (int32), this record's bucket
 * (int32), the number of items (int32), then per item its kind (one byte) and four strings (int32
 * length, -1 for null, UTF-8 bytes): name, column, definition, value. See docs/record-format.md.
 *
 * @param id what tells one announcement of a table from another (the LSN of the snapshot its rows
 *     were read under)
 * @param entries the number of records of this announcement (the table's key buckets, or 1)
 * @param bucket this record's bucket (0 for a keyless table)
 */
public record PostData(long id, int entries, int bucket, List<Item> items) {

  /** What an item makes. */
  public enum Kind {
    /**
     * A sequence the table owns ({@code serial}, identity): name its name (the target's is in the
     * target table's schema), column the owning column, definition its {@code CREATE SEQUENCE}
     * options, value {@code last_value} and {@code is_called} as {@code "<n> t|f"} (null: the
     * source user may not read it).
     */
    SEQUENCE('s'),
    /**
     * An identity column: column, definition {@code ALWAYS} or {@code BY DEFAULT}, name its
     * sequence, value the sequence's options. Built before the sequences' states are set.
     */
    IDENTITY('y'),
    /** A column default: column, definition the expression ({@code pg_get_expr}). */
    DEFAULT('d'),
    /**
     * The primary key: name, definition as {@code pg_get_constraintdef} prints it, value its
     * columns (quoted, comma-separated).
     */
    PRIMARY_KEY('p'),
    /** A unique, exclusion or check constraint: name, definition ({@code pg_get_constraintdef}). */
    CONSTRAINT('c'),
    /**
     * An index that backs no constraint: name, definition what {@code pg_get_indexdef} prints after
     * the table's name ({@code USING btree (a) WHERE ...}), value {@code UNIQUE} or null.
     */
    INDEX('i'),
    /**
     * The replica identity, unless the default: definition {@code FULL}, {@code NOTHING} or {@code
     * USING INDEX}, name that index.
     */
    REPLICA_IDENTITY('r');

    private final byte code;

    Kind(char code) {
      this.code = (byte) code;
    }

    static Kind of(byte code) {
      for (Kind k : values()) {
        if (k.code == code) {
          return k;
        }
      }
      throw new IllegalArgumentException("unknown post-data item kind '" + (char) code + "'");
    }
  }

  /** One thing to build; which fields are set depends on the kind. */
  public record Item(Kind kind, String name, String column, String definition, String value) {}

  public PostData {
    items = List.copyOf(items);
  }

  /** The record value. */
  public byte[] encode() {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    ByteBuffer head = ByteBuffer.allocate(20).putLong(id).putInt(entries).putInt(bucket);
    head.putInt(items.size());
    out.writeBytes(head.array());
    for (Item i : items) {
      out.write(i.kind().code);
      for (String s : new String[] {i.name(), i.column(), i.definition(), i.value()}) {
        if (s == null) {
          out.writeBytes(ByteBuffer.allocate(4).putInt(-1).array());
        } else {
          byte[] b = s.getBytes(StandardCharsets.UTF_8);
          out.writeBytes(ByteBuffer.allocate(4).putInt(b.length).array());
          out.writeBytes(b);
        }
      }
    }
    return out.toByteArray();
  }

  /**
   * Reads a record value.
   *
   * @throws IllegalArgumentException naming what is malformed
   */
  public static PostData decode(byte[] value) {
    if (value == null || value.length < 20) {
      throw new IllegalArgumentException(
          "a post-data value has at least 20 bytes, this one "
              + (value == null ? "none" : value.length));
    }
    ByteBuffer b = ByteBuffer.wrap(value);
    long id = b.getLong();
    int entries = b.getInt();
    int bucket = b.getInt();
    int n = b.getInt();
    if (entries < 1 || bucket < 0 || bucket >= entries || n < 0) {
      throw new IllegalArgumentException(
          "post-data header: entries " + entries + ", bucket " + bucket + ", items " + n);
    }
    List<Item> items = new ArrayList<>(Math.min(n, 1024));
    try {
      for (int i = 0; i < n; i++) {
        Kind kind = Kind.of(b.get());
        String[] s = new String[4];
        for (int f = 0; f < 4; f++) {
          int len = b.getInt();
          if (len < -1 || len > b.remaining()) {
            throw new IllegalArgumentException(
                "post-data item " + i + ": a string of " + len + " bytes");
          }
          if (len >= 0) {
            s[f] = new String(value, b.position(), len, StandardCharsets.UTF_8);
            b.position(b.position() + len);
          }
        }
        items.add(new Item(kind, s[0], s[1], s[2], s[3]));
      }
    } catch (BufferUnderflowException e) {
      throw new IllegalArgumentException("post-data value ends inside an item", e);
    }
    if (b.hasRemaining()) {
      throw new IllegalArgumentException(
          "post-data value has " + b.remaining() + " bytes past its last item");
    }
    return new PostData(id, entries, bucket, items);
  }
}
