package io.pgcopy.connect.format;

/**
 * Names of the Kafka record headers of the pgcopy record contract; see docs/record-format.md.
 * Header values are raw bytes: the connectors must run with {@code
 * header.converter=org.apache.kafka.connect.converters.ByteArrayConverter}.
 */
public final class RecordHeaders {
  /** One ASCII byte, {@link Operation#code()}. */
  public static final String OPERATION = "pgcopy.op";

  /** The source schema name, UTF-8. */
  public static final String SCHEMA = "pgcopy.schema";

  /** The source table name, UTF-8 (the partitioned parent for rows of a partition). */
  public static final String TABLE = "pgcopy.table";

  /** The column layout, encoded by {@link ColumnLayout#encode()}. */
  public static final String COLUMNS = "pgcopy.columns";

  /** On control records only (snapshot progress markers): consumers skip records that carry it. */
  public static final String CONTROL = "pgcopy.control";

  /** On change records: the commit LSN of the source transaction, 8 bytes big-endian. */
  public static final String LSN = "pgcopy.lsn";

  /**
   * On a keyless table's struct change records: the change's number (1-based) in its transaction,
   * int32. With {@link #LSN} it is the change's position in the stream (a binary record's entries
   * carry it in the value).
   */
  public static final String SEQ = "pgcopy.seq";

  /**
   * On updates whose unchanged TOASTed columns were not sent: int16 count, then int16 field
   * indexes. Those fields are NULL in the value and must be left as they are in the target.
   */
  public static final String ABSENT = "pgcopy.absent";

  /**
   * Binary records whose tuples hold the values' text forms (UTF-8, as the types' output functions
   * print them with {@code DateStyle=ISO}, {@code TimeZone=UTC}, {@code extra_float_digits=3},
   * {@code bytea_output=hex}) rather than their binary forms: one byte, {@code 't'}. Absent: binary
   * forms.
   */
  public static final String TEXT = "pgcopy.text";

  /** Binary records: the number of rows (or change entries) in the value, int32. */
  public static final String ROWS = "pgcopy.rows";

  private RecordHeaders() {}

  /** Encodes field indexes for {@link #ABSENT}. */
  public static byte[] encodeFieldList(int[] fields) {
    byte[] out = new byte[2 + 2 * fields.length];
    CopyBinary.putShort(out, 0, fields.length);
    for (int i = 0; i < fields.length; i++) {
      CopyBinary.putShort(out, 2 + 2 * i, fields[i]);
    }
    return out;
  }

  /** Decodes {@link #ABSENT}. */
  public static int[] decodeFieldList(byte[] encoded) {
    if (encoded.length < 2) {
      throw new IllegalArgumentException("field list of " + encoded.length + " bytes");
    }
    int n = CopyBinary.getShort(encoded, 0);
    if (encoded.length != 2 + 2 * n) {
      throw new IllegalArgumentException(
          "field list of " + n + " fields has " + encoded.length + " bytes");
    }
    int[] fields = new int[n];
    for (int i = 0; i < n; i++) {
      fields[i] = CopyBinary.getShort(encoded, 2 + 2 * i);
    }
    return fields;
  }
}
