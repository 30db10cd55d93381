package io.pgcopy.connect.format;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Splits a binary COPY stream into tuples as the bytes arrive. Memory is one buffer that grows only
 * to the largest single row, whatever the size of the stream. Not thread-safe.
 *
 * <p>Usage: {@link #readHeader()}, then {@link #next()} until it returns false; after each {@code
 * true} the accessors describe the current tuple until the next call.
 */
public final class CopyBinaryReader {
  private static final int OIDS_FLAG = 1 << 16;

  private final InputStream in;
  private byte[] buf;
  private int start;
  private int pos;
  private int limit;
  private int fieldCount;
  private int[] valueOffsets = new int[16];
  private int[] valueLengths = new int[16];
  private boolean headerRead;
  private boolean finished;

  public CopyBinaryReader(InputStream in) {
    this(in, 64 * 1024);
  }

  public CopyBinaryReader(InputStream in, int initialBufferSize) {
    this.in = in;
    this.buf = new byte[Math.max(64, initialBufferSize)];
  }

  /** Reads and checks the file header: signature, flags (OIDs are refused), header extension. */
  public void readHeader() throws IOException {
    ensure(CopyBinary.SIGNATURE.length + 8);
    for (int i = 0; i < CopyBinary.SIGNATURE.length; i++) {
      if (buf[pos + i] != CopyBinary.SIGNATURE[i]) {
        throw new IOException("not a binary COPY stream: bad signature");
      }
    }
    pos += CopyBinary.SIGNATURE.length;
    int flags = CopyBinary.getInt(buf, pos);
    if ((flags & OIDS_FLAG) != 0) {
      throw new IOException("binary COPY stream with OIDs is not supported");
    }
    int extension = CopyBinary.getInt(buf, pos + 4);
    pos += 8;
    if (extension < 0) {
      throw new IOException("bad binary COPY header extension length " + extension);
    }
    ensure(extension);
    pos += extension;
    start = pos;
    headerRead = true;
  }

  /** Advances to the next tuple; false at the trailer. */
  public boolean next() throws IOException {
    if (!headerRead) {
      throw new IllegalStateException("readHeader() first");
    }
    if (finished) {
      return false;
    }
    start = pos;
    ensure(2);
    short count = CopyBinary.getShort(buf, pos);
    pos += 2;
    if (count == -1) {
      finished = true;
      return false;
    }
    if (count < 0) {
      throw new IOException("bad binary COPY field count " + count);
    }
    if (count > valueOffsets.length) {
      valueOffsets = Arrays.copyOf(valueOffsets, count);
      valueLengths = Arrays.copyOf(valueLengths, count);
    }
    fieldCount = count;
    for (int i = 0; i < count; i++) {
      ensure(4);
      int len = CopyBinary.getInt(buf, pos);
      pos += 4;
      if (len < -1) {
        throw new IOException("bad binary COPY field length " + len);
      }
      valueLengths[i] = len;
      valueOffsets[i] = pos - start;
      if (len > 0) {
        ensure(len);
        pos += len;
      }
    }
    return true;
  }

  /** True once the trailer was read. */
  public boolean finished() {
    return finished;
  }

  public int fieldCount() {
    return fieldCount;
  }

  /** Length of field i's value in bytes, -1 for NULL. */
  public int fieldLength(int i) {
    checkField(i);
    return valueLengths[i];
  }

  /** The current tuple's whole length in bytes (count, lengths and values). */
  public int tupleLength() {
    return pos - start;
  }

  public int fieldInt(int i) {
    requireLength(i, 4);
    return CopyBinary.getInt(buf, start + valueOffsets[i]);
  }

  public short fieldShort(int i) {
    requireLength(i, 2);
    return CopyBinary.getShort(buf, start + valueOffsets[i]);
  }

  /**
   * A 4-byte integer at byte {@code at} of field i's value (for composite values such as a tid).
   */
  public int fieldInt(int i, int at) {
    requireRange(i, at, 4);
    return CopyBinary.getInt(buf, start + valueOffsets[i] + at);
  }

  /** A 2-byte integer at byte {@code at} of field i's value. */
  public short fieldShort(int i, int at) {
    requireRange(i, at, 2);
    return CopyBinary.getShort(buf, start + valueOffsets[i] + at);
  }

  private void requireRange(int i, int at, int size) {
    checkField(i);
    if (at < 0 || valueLengths[i] < at + size) {
      throw new IllegalStateException(
          "field " + i + " has " + valueLengths[i] + " bytes, no " + size + " at " + at);
    }
  }

  private void requireLength(int i, int expected) {
    checkField(i);
    if (valueLengths[i] != expected) {
      throw new IllegalStateException(
          "field " + i + " has " + valueLengths[i] + " bytes, expected " + expected);
    }
  }

  private void checkField(int i) {
    if (i < 0 || i >= fieldCount) {
      throw new IndexOutOfBoundsException("field " + i + " of " + fieldCount);
    }
  }

  /**
   * Appends the current tuple without its first {@code skip} fields to a batch; returns the bytes
   * appended.
   */
  public int appendTupleWithoutLeadingFields(int skip, RowBatchWriter out) {
    if (skip < 0 || skip > fieldCount) {
      throw new IndexOutOfBoundsException("skip " + skip + " of " + fieldCount);
    }
    int from = skip == fieldCount ? pos - start : valueOffsets[skip] - 4;
    int bodyLength = (pos - start) - from;
    out.appendTuple(fieldCount - skip, buf, start + from, bodyLength);
    return 2 + bodyLength;
  }

  /** The length of the current tuple without its first {@code skip} fields. */
  public int tupleLengthWithoutLeadingFields(int skip) {
    int from = skip == fieldCount ? pos - start : valueOffsets[skip] - 4;
    return 2 + (pos - start) - from;
  }

  /**
   * The current tuple without its first {@code skip} fields, as a new array in binary COPY tuple
   * form.
   */
  public byte[] tupleWithoutLeadingFields(int skip) {
    if (skip < 0 || skip > fieldCount) {
      throw new IndexOutOfBoundsException("skip " + skip + " of " + fieldCount);
    }
    int from = skip == fieldCount ? pos - start : valueOffsets[skip] - 4;
    int bodyLength = (pos - start) - from;
    byte[] out = new byte[2 + bodyLength];
    CopyBinary.putShort(out, 0, fieldCount - skip);
    System.arraycopy(buf, start + from, out, 2, bodyLength);
    return out;
  }

  /** A new tuple made of the given fields of the current one, in the given order (a record key). */
  public byte[] project(int[] fields) {
    int size = 2;
    for (int f : fields) {
      checkField(f);
      size += 4 + Math.max(0, valueLengths[f]);
    }
    byte[] out = new byte[size];
    CopyBinary.putShort(out, 0, fields.length);
    int o = 2;
    for (int f : fields) {
      int len = valueLengths[f];
      CopyBinary.putInt(out, o, len);
      o += 4;
      if (len > 0) {
        System.arraycopy(buf, start + valueOffsets[f], out, o, len);
        o += len;
      }
    }
    return out;
  }

  /** Makes sure n bytes after pos are buffered, keeping the current tuple's bytes. */
  private void ensure(int n) throws IOException {
    if (limit - pos >= n) {
      return;
    }
    if (start > 0) {
      System.arraycopy(buf, start, buf, 0, limit - start);
      pos -= start;
      limit -= start;
      start = 0;
    }
    if (buf.length < pos + n) {
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + n));
    }
    while (limit - pos < n) {
      int r = in.read(buf, limit, buf.length - limit);
      if (r < 0) {
        throw new EOFException(
            finished || pos == start && limit == pos
                ? "binary COPY stream ended without its trailer"
                : "binary COPY stream ended inside a tuple");
      }
      limit += r;
    }
  }
}
