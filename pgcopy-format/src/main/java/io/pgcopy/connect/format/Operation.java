package io.pgcopy.connect.format;

/**
 * What a record does to its table; carried in the {@link RecordHeaders#OPERATION} header as one
 * byte.
 */
public enum Operation {
  /** A row read by the initial snapshot. */
  READ('r'),
  INSERT('c'),
  UPDATE('u'),
  /** A delete; the record value is null (a tombstone) and the key names the row. */
  DELETE('d'),
  TRUNCATE('t');

  private final byte code;

  Operation(char code) {
    this.code = (byte) code;
  }

  public byte code() {
    return code;
  }

  public static Operation fromCode(byte code) {
    for (Operation op : values()) {
      if (op.code == code) {
        return op;
      }
    }
    throw new IllegalArgumentException("unknown pgcopy operation code '" + (char) code + "'");
  }
}
