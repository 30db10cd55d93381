package io.pgcopy.connect.format;

/** Constants of PostgreSQL's binary COPY format (protocol docs, "COPY ... Binary Format"). */
public final class CopyBinary {
  /** "PGCOPY\n\377\r\n\0" */
  static final byte[] SIGNATURE = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xFF, '\r', '\n', 0};

  /**
   * Signature, flags (no OIDs) and an empty header extension: what {@code COPY .. FROM STDIN
   * (FORMAT binary)} expects first.
   */
  public static byte[] header() {
    byte[] h = new byte[SIGNATURE.length + 8];
    System.arraycopy(SIGNATURE, 0, h, 0, SIGNATURE.length);
    return h;
  }

  /** The file trailer: a field count of -1. */
  public static byte[] trailer() {
    return new byte[] {(byte) 0xFF, (byte) 0xFF};
  }

  static int getInt(byte[] b, int off) {
    return ((b[off] & 0xFF) << 24)
        | ((b[off + 1] & 0xFF) << 16)
        | ((b[off + 2] & 0xFF) << 8)
        | (b[off + 3] & 0xFF);
  }

  static short getShort(byte[] b, int off) {
    return (short) (((b[off] & 0xFF) << 8) | (b[off + 1] & 0xFF));
  }

  static void putInt(byte[] b, int off, int v) {
    b[off] = (byte) (v >>> 24);
    b[off + 1] = (byte) (v >>> 16);
    b[off + 2] = (byte) (v >>> 8);
    b[off + 3] = (byte) v;
  }

  static void putShort(byte[] b, int off, int v) {
    b[off] = (byte) (v >>> 8);
    b[off + 1] = (byte) v;
  }

  private CopyBinary() {}
}
