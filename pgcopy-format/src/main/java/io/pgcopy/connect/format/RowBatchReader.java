package io.pgcopy.connect.format;

import java.util.Arrays;

/**
 * Iterates the rows of one binary pgcopy record's value ({@link RowBatch}), without copying
 * anything until asked. Usage: {@code RowBatchReader r = RowBatchReader.of(op, value);} then {@link
 * #next()} until it returns false; after each {@code true} the accessors describe the current row.
 * The tuples are binary COPY tuples: {@link Tuples} splits them into values.
 */
public final class RowBatchReader {
  private final byte[] value;
  private final boolean changes;
  private int pos;
  private Operation op;
  private long commitLsn;
  private int[] absent;
  private int oldAt = -1;
  private int oldLength;
  private int newAt = -1;
  private int newLength;
  private int truncateSeq;
  private int truncateEntries;
  private int changeSeq;

  private RowBatchReader(byte[] value, boolean changes) {
    this.value = value;
    this.changes = changes;
  }

  /**
   * A reader of {@code value}, the value of a record whose {@link RecordHeaders#OPERATION} header
   * is {@code operation} ({@link RowBatch#ROWS} or {@link RowBatch#CHANGES}).
   */
  public static RowBatchReader of(byte operation, byte[] value) {
    if (!RowBatch.isBatch(operation)) {
      throw new IllegalArgumentException("operation '" + (char) operation + "' is not a row batch");
    }
    return new RowBatchReader(value == null ? new byte[0] : value, operation == RowBatch.CHANGES);
  }

  /**
   * Walks a whole batch without copying anything and returns how many rows (or changes) it holds,
   * so a consumer can refuse a malformed record before using any of it.
   *
   * @param fields how many fields every new row must have (the record's column layout)
   * @throws IllegalArgumentException naming the row and byte where {@code value} is not a batch of
   *     {@code operation}
   */
  public static int check(byte operation, byte[] value, int fields) {
    RowBatchReader r = of(operation, value);
    int n = 0;
    try {
      while (r.next()) {
        if (r.newAt >= 0) {
          int count = CopyBinary.getShort(r.value, r.newAt);
          if (count != fields) {
            throw new IllegalArgumentException(
                "row "
                    + n
                    + " at byte "
                    + r.newAt
                    + " has "
                    + count
                    + " fields where the column layout has "
                    + fields);
          }
        }
        n++;
      }
    } catch (IndexOutOfBoundsException e) {
      throw new IllegalArgumentException("row batch ends inside row " + n, e);
    }
    return n;
  }

  /** Advances to the next row; false after the last. */
  public boolean next() {
    if (pos >= value.length) {
      return false;
    }
    oldAt = -1;
    newAt = -1;
    absent = null;
    changeSeq = 0;
    if (!changes) {
      op = Operation.READ;
      commitLsn = 0;
      newAt = pos;
      newLength = RowBatch.tupleLength(value, pos);
      pos += newLength;
      return true;
    }
    require(10);
    op = Operation.fromCode(value[pos]);
    int flags = value[pos + 1];
    commitLsn =
        ((long) CopyBinary.getInt(value, pos + 2) << 32)
            | (CopyBinary.getInt(value, pos + 6) & 0xffffffffL);
    pos += 10;
    if (op == Operation.TRUNCATE) {
      require(8);
      truncateSeq = CopyBinary.getInt(value, pos);
      truncateEntries = CopyBinary.getInt(value, pos + 4);
      changeSeq = truncateSeq;
      pos += 8;
      return true;
    }
    if ((flags & RowBatch.HAS_SEQ) != 0) {
      require(4);
      changeSeq = CopyBinary.getInt(value, pos);
      pos += 4;
    }
    if ((flags & RowBatch.HAS_ABSENT) != 0) {
      require(2);
      int n = CopyBinary.getShort(value, pos);
      require(2 + 2 * n);
      absent = new int[n];
      for (int i = 0; i < n; i++) {
        absent[i] = CopyBinary.getShort(value, pos + 2 + 2 * i);
      }
      pos += 2 + 2 * n;
    }
    if ((flags & RowBatch.HAS_OLD) != 0) {
      oldAt = pos;
      oldLength = RowBatch.tupleLength(value, pos);
      pos += oldLength;
    }
    if ((flags & RowBatch.HAS_NEW) != 0) {
      newAt = pos;
      newLength = RowBatch.tupleLength(value, pos);
      pos += newLength;
    }
    return true;
  }

  private void require(int n) {
    if (pos + n > value.length) {
      throw new IllegalArgumentException("row batch ends inside an entry at byte " + pos);
    }
  }

  /** {@link Operation#READ} for snapshot rows; insert, update, delete or truncate for changes. */
  public Operation operation() {
    return op;
  }

  /** The commit LSN of the change's transaction; 0 for snapshot rows. */
  public long commitLsn() {
    return commitLsn;
  }

  /**
   * Fields of the new row whose unchanged TOASTed value was not sent (keep the value you have), or
   * null.
   */
  public int[] absent() {
    return absent;
  }

  /**
   * The old tuple (a delete's or update's key, or a keyless table's whole old row) as a new array,
   * or null.
   */
  public byte[] oldTuple() {
    return oldAt < 0 ? null : Arrays.copyOfRange(value, oldAt, oldAt + oldLength);
  }

  /** The new row as a new array, or null (deletes, truncates). */
  public byte[] newTuple() {
    return newAt < 0 ? null : Arrays.copyOfRange(value, newAt, newAt + newLength);
  }

  /** Where the new row starts in the value, -1 without one. */
  public int newTupleOffset() {
    return newAt;
  }

  public int newTupleLength() {
    return newAt < 0 ? 0 : newLength;
  }

  /** A truncate's number within its transaction: with the commit LSN it names the truncate. */
  public int truncateSeq() {
    return truncateSeq;
  }

  /**
   * The change's number (1-based) within its transaction, or 0 when the entry does not say (a keyed
   * table's change, a snapshot's truncate). With the commit LSN it is the change's position in the
   * stream: positions grow in a partition's order, so one at or below the last applied was applied
   * already.
   */
  public int changeSeq() {
    return changeSeq;
  }

  /** How many truncate entries (one per key bucket) make up this truncate. */
  public int truncateEntries() {
    return truncateEntries;
  }
}
