package io.pgcopy.connect.format;

/**
 * Names of the Kafka record headers of the pgcopy record contract; see docs/record-format.md.
 * Header values are raw bytes: the connectors must run with
 * {@code header.converter=org.apache.kafka.connect.converters.ByteArrayConverter}.
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

  private RecordHeaders() {}
}
