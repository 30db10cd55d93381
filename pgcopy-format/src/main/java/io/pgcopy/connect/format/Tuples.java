package io.pgcopy.connect.format;

import java.util.Arrays;

/** Pure functions over one binary COPY tuple held in a byte array (a record key or value). */
public final class Tuples {
  private Tuples() {}

  /**
   * Offsets of each field's length word in the tuple; the array has one extra slot holding the
   * tuple's end, so field i spans {@code [offsets[i], offsets[i+1])}.
   */
  public static int[] fieldOffsets(byte[] tuple) {
    if (tuple.length < 2) {
      throw new IllegalArgumentException("tuple shorter than its field count");
    }
    int count = CopyBinary.getShort(tuple, 0);
    if (count < 0) {
      throw new IllegalArgumentException("bad field count " + count);
    }
    int[] offsets = new int[count + 1];
    int o = 2;
    for (int i = 0; i < count; i++) {
      offsets[i] = o;
      if (o + 4 > tuple.length) {
        throw new IllegalArgumentException("tuple truncated in field " + i);
      }
      int len = CopyBinary.getInt(tuple, o);
      if (len < -1) {
        throw new IllegalArgumentException("bad length " + len + " of field " + i);
      }
      o += 4 + Math.max(0, len);
      if (o > tuple.length) {
        throw new IllegalArgumentException("tuple truncated in field " + i);
      }
    }
    if (o != tuple.length) {
      throw new IllegalArgumentException("tuple has " + (tuple.length - o) + " trailing bytes");
    }
    offsets[count] = o;
    return offsets;
  }

  public static int fieldCount(byte[] tuple) {
    return CopyBinary.getShort(tuple, 0);
  }

  /** A new tuple of the given fields, in that order. */
  public static byte[] project(byte[] tuple, int[] fields) {
    int[] offsets = fieldOffsets(tuple);
    int size = 2;
    for (int f : fields) {
      size += offsets[f + 1] - offsets[f];
    }
    byte[] out = new byte[size];
    CopyBinary.putShort(out, 0, fields.length);
    int o = 2;
    for (int f : fields) {
      int len = offsets[f + 1] - offsets[f];
      System.arraycopy(tuple, offsets[f], out, o, len);
      o += len;
    }
    return out;
  }

  /** Builds a tuple from values, null meaning SQL NULL. */
  public static byte[] of(byte[]... values) {
    int size = 2;
    for (byte[] v : values) {
      size += 4 + (v == null ? 0 : v.length);
    }
    byte[] out = new byte[size];
    CopyBinary.putShort(out, 0, values.length);
    int o = 2;
    for (byte[] v : values) {
      CopyBinary.putInt(out, o, v == null ? -1 : v.length);
      o += 4;
      if (v != null) {
        System.arraycopy(v, 0, out, o, v.length);
        o += v.length;
      }
    }
    return out;
  }

  /** Every field's value, null meaning SQL NULL. */
  public static byte[][] values(byte[] tuple) {
    int[] offsets = fieldOffsets(tuple);
    byte[][] out = new byte[offsets.length - 1][];
    for (int i = 0; i < out.length; i++) {
      int len = CopyBinary.getInt(tuple, offsets[i]);
      out[i] = len < 0 ? null : Arrays.copyOfRange(tuple, offsets[i] + 4, offsets[i] + 4 + len);
    }
    return out;
  }

  /** Field i's value, null for SQL NULL. */
  public static byte[] value(byte[] tuple, int i) {
    int[] offsets = fieldOffsets(tuple);
    int len = CopyBinary.getInt(tuple, offsets[i]);
    return len < 0 ? null : Arrays.copyOfRange(tuple, offsets[i] + 4, offsets[i] + 4 + len);
  }

  /** {@code tuple} with each of {@code fields} replaced by the same field of {@code from}. */
  public static byte[] replaceFields(byte[] tuple, int[] fields, byte[] from) {
    int n = fieldCount(tuple);
    byte[][] values = new byte[n][];
    boolean[] replaced = new boolean[n];
    for (int f : fields) {
      replaced[f] = true;
    }
    int[] offsets = fieldOffsets(tuple);
    int[] fromOffsets = fieldOffsets(from);
    int size = 2;
    for (int i = 0; i < n; i++) {
      byte[] src = replaced[i] ? from : tuple;
      int[] o = replaced[i] ? fromOffsets : offsets;
      values[i] = Arrays.copyOfRange(src, o[i], o[i + 1]);
      size += values[i].length;
    }
    byte[] out = new byte[size];
    CopyBinary.putShort(out, 0, n);
    int pos = 2;
    for (byte[] v : values) {
      System.arraycopy(v, 0, out, pos, v.length);
      pos += v.length;
    }
    return out;
  }
}
