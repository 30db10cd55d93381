package io.pgcopy.connect.format;

import java.util.Arrays;

/**
 * Builds the value of one binary record ({@link RowBatch}): snapshot tuples or change entries
 * appended to one growing buffer. Not thread-safe; {@link #clear()} makes it reusable.
 */
public final class RowBatchWriter {
  private byte[] buf;
  private int size;
  private int rows;

  public RowBatchWriter(int initialCapacity) {
    buf = new byte[Math.max(64, initialCapacity)];
  }

  /**
   * Appends a tuple of {@code fieldCount} fields whose field lengths and values are {@code len}
   * bytes at {@code off}.
   */
  public void appendTuple(int fieldCount, byte[] body, int off, int len) {
    ensure(2 + len);
    CopyBinary.putShort(buf, size, fieldCount);
    System.arraycopy(body, off, buf, size + 2, len);
    size += 2 + len;
    rows++;
  }

  /** Appends a whole binary COPY tuple. */
  public void appendTuple(byte[] tuple) {
    ensure(tuple.length);
    System.arraycopy(tuple, 0, buf, size, tuple.length);
    size += tuple.length;
    rows++;
  }

  /**
   * Appends a change entry.
   *
   * @param oldTuple the key (or a keyless table's whole old row), null when not sent
   * @param newTuple the new row, null for a delete
   * @param absent fields of the new row whose unchanged TOASTed value was not sent, or null
   */
  public void appendChange(
      Operation op, long commitLsn, int[] absent, byte[] oldTuple, byte[] newTuple) {
    appendChange(op, commitLsn, 0, absent, oldTuple, newTuple);
  }

  /**
   * Appends a change that says where it is in the stream: the {@code seq}-th change (1-based) of
   * the transaction committed at {@code commitLsn}; a {@code seq} below 1 is not written. A
   * consumer that remembers the last position it applied can then skip a change sent again.
   */
  public void appendChange(
      Operation op, long commitLsn, int seq, int[] absent, byte[] oldTuple, byte[] newTuple) {
    int flags =
        (oldTuple == null ? 0 : RowBatch.HAS_OLD)
            | (newTuple == null ? 0 : RowBatch.HAS_NEW)
            | (absent == null ? 0 : RowBatch.HAS_ABSENT)
            | (seq > 0 ? RowBatch.HAS_SEQ : 0);
    ensure(changeSize(seq, absent, oldTuple, newTuple));
    entryHead(op, flags, commitLsn);
    if (seq > 0) {
      CopyBinary.putInt(buf, size, seq);
      size += 4;
    }
    if (absent != null) {
      putShort(absent.length);
      for (int f : absent) {
        putShort(f);
      }
    }
    put(oldTuple);
    put(newTuple);
    rows++;
  }

  /**
   * Appends a truncate: the {@code seq}-th change of the transaction committed at {@code
   * commitLsn}, sent as {@code entries} entries (one per key bucket) that together make one
   * truncate.
   */
  public void appendTruncate(long commitLsn, int seq, int entries) {
    ensure(18);
    entryHead(Operation.TRUNCATE, 0, commitLsn);
    CopyBinary.putInt(buf, size, seq);
    CopyBinary.putInt(buf, size + 4, entries);
    size += 8;
    rows++;
  }

  /** The bytes an entry of these parts takes, with change number {@code seq} when above 0. */
  public static int changeSize(int seq, int[] absent, byte[] oldTuple, byte[] newTuple) {
    return 10
        + (seq > 0 ? 4 : 0)
        + (absent == null ? 0 : 2 + 2 * absent.length)
        + (oldTuple == null ? 0 : oldTuple.length)
        + (newTuple == null ? 0 : newTuple.length);
  }

  private void entryHead(Operation op, int flags, long commitLsn) {
    buf[size] = op.code();
    buf[size + 1] = (byte) flags;
    CopyBinary.putInt(buf, size + 2, (int) (commitLsn >>> 32));
    CopyBinary.putInt(buf, size + 6, (int) commitLsn);
    size += 10;
  }

  private void putShort(int v) {
    CopyBinary.putShort(buf, size, v);
    size += 2;
  }

  private void put(byte[] tuple) {
    if (tuple != null) {
      System.arraycopy(tuple, 0, buf, size, tuple.length);
      size += tuple.length;
    }
  }

  private void ensure(int more) {
    if (size + more > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + more));
    }
  }

  /** Bytes written so far. */
  public int size() {
    return size;
  }

  /** Rows (or entries) written so far. */
  public int rows() {
    return rows;
  }

  public boolean isEmpty() {
    return rows == 0;
  }

  /** A copy of the value written so far. */
  public byte[] toByteArray() {
    return Arrays.copyOf(buf, size);
  }

  /** Forgets what was written, keeping the buffer. */
  public void clear() {
    size = 0;
    rows = 0;
  }
}
