package io.pgcopy.connect.format.pgoutput;

import java.nio.ByteBuffer;

/**
 * A row as pgoutput sends it: per column a kind, {@code 'n'} (NULL), {@code 'u'} (unchanged TOASTed
 * value, not sent), {@code 't'} (text) or {@code 'b'} (binary, the type's send format), and the
 * value bytes for the last two. The bytes are slices of the message buffer, copied out only by
 * {@link #toCopyTuple()}.
 */
public final class TupleData {
  private final byte[] kinds;
  private final byte[] buffer;
  private final int[] offsets;
  private final int[] lengths;

  TupleData(byte[] kinds, byte[] buffer, int[] offsets, int[] lengths) {
    this.kinds = kinds;
    this.buffer = buffer;
    this.offsets = offsets;
    this.lengths = lengths;
  }

  /**
   * Parses tuple data at the buffer's position (which must be backed by an array) and advances past
   * it.
   */
  static TupleData read(ByteBuffer in) {
    int n = in.getShort() & 0xffff;
    byte[] kinds = new byte[n];
    int[] offsets = new int[n];
    int[] lengths = new int[n];
    for (int i = 0; i < n; i++) {
      byte kind = in.get();
      kinds[i] = kind;
      switch (kind) {
        case 'n', 'u' -> lengths[i] = -1;
        case 't', 'b' -> {
          int len = in.getInt();
          if (len < 0 || len > in.remaining()) {
            throw new IllegalArgumentException(
                "column " + i + ": value length " + len + " exceeds the message");
          }
          offsets[i] = in.arrayOffset() + in.position();
          lengths[i] = len;
          in.position(in.position() + len);
        }
        default ->
            throw new IllegalArgumentException(
                "column " + i + ": unknown tuple data kind '" + (char) kind + "'");
      }
    }
    return new TupleData(kinds, in.array(), offsets, lengths);
  }

  public int size() {
    return kinds.length;
  }

  /** {@code 'n'}, {@code 'u'}, {@code 't'} or {@code 'b'}. */
  public char kind(int column) {
    return (char) kinds[column];
  }

  public boolean isUnchangedToast(int column) {
    return kinds[column] == 'u';
  }

  public boolean hasUnchangedToast() {
    for (byte k : kinds) {
      if (k == 'u') {
        return true;
      }
    }
    return false;
  }

  /** The indexes of the columns whose unchanged TOASTed values were not sent, or null when none. */
  public int[] unchangedToastColumns() {
    if (!hasUnchangedToast()) {
      return null;
    }
    int n = 0;
    for (byte k : kinds) {
      if (k == 'u') {
        n++;
      }
    }
    int[] idx = new int[n];
    n = 0;
    for (int i = 0; i < kinds.length; i++) {
      if (kinds[i] == 'u') {
        idx[n++] = i;
      }
    }
    return idx;
  }

  /** The value bytes of a column, null for NULL and unchanged TOAST. */
  public byte[] value(int column) {
    if (lengths[column] < 0) {
      return null;
    }
    byte[] v = new byte[lengths[column]];
    System.arraycopy(buffer, offsets[column], v, 0, v.length);
    return v;
  }

  /**
   * The row as a binary COPY tuple: int16 field count, then per field int32 length (-1 for NULL and
   * for an unchanged TOASTed value, which the caller marks as absent) and the bytes.
   *
   * @throws IllegalStateException when a value came as text (the stream was not started with {@code
   *     binary 'true'}): text and binary forms cannot be mixed in one COPY tuple
   */
  public byte[] toCopyTuple() {
    return toCopyTuple(false);
  }

  /**
   * The row as a tuple in the layout of a binary COPY tuple whose fields hold the values as they
   * came: binary forms ({@code text} false, the stream started with {@code binary 'true'}) or text
   * forms ({@code text} true, the stream started without it).
   *
   * @throws IllegalStateException when a value came in the other form
   */
  public byte[] toCopyTuple(boolean text) {
    int size = 2;
    byte other = text ? (byte) 'b' : (byte) 't';
    for (int i = 0; i < kinds.length; i++) {
      if (kinds[i] == other) {
        throw new IllegalStateException(
            "column "
                + i
                + " came in "
                + (text ? "binary" : "text")
                + " format; the stream"
                + " needs binary '"
                + !text
                + "'");
      }
      size += 4 + Math.max(lengths[i], 0);
    }
    ByteBuffer out = ByteBuffer.allocate(size);
    out.putShort((short) kinds.length);
    for (int i = 0; i < kinds.length; i++) {
      out.putInt(lengths[i]);
      if (lengths[i] > 0) {
        out.put(buffer, offsets[i], lengths[i]);
      }
    }
    return out.array();
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("(");
    for (int i = 0; i < kinds.length; i++) {
      sb.append(i == 0 ? "" : ", ").append((char) kinds[i]);
      if (lengths[i] >= 0) {
        sb.append(':').append(lengths[i]);
      }
    }
    return sb.append(')').toString();
  }
}
