package io.pgcopy.connect.format;

/**
 * The value of a binary pgcopy record: many rows of one table, laid out as docs/record-format.md
 * describes. Two kinds, told apart by the {@link RecordHeaders#OPERATION} header:
 *
 * <ul>
 *   <li>{@link #ROWS} ({@code 'R'}, snapshot rows): the value is a run of binary COPY tuples,
 *       exactly the bytes between a COPY stream's header and trailer;
 *   <li>{@link #CHANGES} ({@code 'C'}, change data capture): the value is a run of entries, each an
 *       operation byte, a flags byte, the commit LSN (int64), then what the flags announce: the
 *       change's number in its transaction (int32; a keyless table's changes carry it), the absent
 *       fields (int16 count, int16 indexes), the old tuple (the key, or the whole old row of a
 *       keyless table), the new tuple; a truncate instead carries its number in the transaction
 *       (int32) and the number of truncate entries sent for it (int32), one per key bucket.
 * </ul>
 *
 * The number of rows or entries is in the {@link RecordHeaders#ROWS} header (int32).
 */
public final class RowBatch {
  /** Operation header of a batch of snapshot rows. */
  public static final byte ROWS = 'R';

  /** Operation header of a batch of changes. */
  public static final byte CHANGES = 'C';

  /**
   * Operation header of a post-data record: no rows, what to build once the table's snapshot is in
   * ({@link PostData}). Consumers that only want rows skip it.
   */
  public static final byte POST_DATA = 'P';

  /**
   * Operation header of a sequence's state, on the sequences topic: a {@link PostData} value with
   * one {@link PostData.Kind#SEQUENCE} item. Consumers that only want rows skip it.
   */
  public static final byte SEQUENCES = 'S';

  /** Entry flag: the old tuple follows. */
  static final int HAS_OLD = 1;

  /** Entry flag: the new tuple follows. */
  static final int HAS_NEW = 2;

  /** Entry flag: the list of absent (unchanged TOASTed) fields follows. */
  static final int HAS_ABSENT = 4;

  /** Entry flag: the change's number in its transaction (int32) follows the commit LSN. */
  static final int HAS_SEQ = 8;

  private RowBatch() {}

  /**
   * Whether an operation header announces a batch (binary records) rather than one row (struct
   * records).
   */
  public static boolean isBatch(byte operation) {
    return operation == ROWS || operation == CHANGES;
  }

  /** The length of the binary COPY tuple starting at {@code at}, walking its field lengths. */
  public static int tupleLength(byte[] b, int at) {
    int count = CopyBinary.getShort(b, at);
    if (count < 0) {
      throw new IllegalArgumentException("bad field count " + count + " at byte " + at);
    }
    int o = at + 2;
    for (int i = 0; i < count; i++) {
      int len = CopyBinary.getInt(b, o);
      if (len < -1) {
        throw new IllegalArgumentException("bad field length " + len + " at byte " + o);
      }
      o += 4 + Math.max(0, len);
    }
    if (o > b.length) {
      throw new IllegalArgumentException("tuple at byte " + at + " runs past the value's end");
    }
    return o - at;
  }
}
