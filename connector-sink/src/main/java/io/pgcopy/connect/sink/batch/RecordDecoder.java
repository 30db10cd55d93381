package io.pgcopy.connect.sink.batch;

import io.pgcopy.connect.common.StructRows;
import io.pgcopy.connect.format.Column;
import io.pgcopy.connect.format.ColumnLayout;
import io.pgcopy.connect.format.Operation;
import io.pgcopy.connect.format.RecordHeaders;
import io.pgcopy.connect.format.RowBatch;
import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.sink.config.TableNameFormat;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.sink.SinkRecord;

/**
 * Reads the pgcopy headers of a record: operation, target table and column layout. The layout and
 * table name are decoded once per topic and reused while the header bytes stay the same, so the
 * per-record cost is a byte comparison.
 */
public final class RecordDecoder {
  static final String CONVERTER_HINT =
      "; the pgcopy sink needs header.converter set to "
          + "org.apache.kafka.connect.converters.ByteArrayConverter, and key.converter and value.converter set to it too "
          + "for record.format=binary, or to the converter the source used for record.format=struct";

  private final TableNameFormat tableNameFormat;
  private final Map<String, Cached> byTopic = new HashMap<>();

  private static final class Cached {
    byte[] schema;
    byte[] table;
    byte[] columns;
    TableId target;
    ColumnLayout layout;
  }

  /**
   * What the sink needs of one record.
   *
   * @param operation the row's operation (struct records), or null for a batch
   * @param batchKind {@link RowBatch#ROWS} or {@link RowBatch#CHANGES} for a batch (binary
   *     records), else 0
   * @param text whether a batch's tuples hold text forms ({@link RecordHeaders#TEXT})
   */
  record Decoded(
      Operation operation,
      byte batchKind,
      TableId target,
      ColumnLayout layout,
      int[] absent,
      boolean text) {
    boolean isBatch() {
      return batchKind != 0;
    }
  }

  public RecordDecoder(TableNameFormat tableNameFormat) {
    this.tableNameFormat = tableNameFormat;
  }

  /** True for control records (snapshot progress markers), which carry no row. */
  public static boolean isControl(SinkRecord record) {
    return record.headers().lastWithName(RecordHeaders.CONTROL) != null;
  }

  /** The target table of a record (a post-data announcement's, for one). */
  public TableId target(SinkRecord record) {
    return decode(record).target();
  }

  Decoded decode(SinkRecord record) {
    byte[] op = bytes(record, RecordHeaders.OPERATION);
    if (op.length != 1) {
      throw new DataException(
          where(record)
              + ": header "
              + RecordHeaders.OPERATION
              + " must be one byte"
              + CONVERTER_HINT);
    }
    byte[] schema = bytes(record, RecordHeaders.SCHEMA);
    byte[] table = bytes(record, RecordHeaders.TABLE);
    byte[] columns = bytes(record, RecordHeaders.COLUMNS);
    Cached c = byTopic.computeIfAbsent(record.topic(), t -> new Cached());
    if (!Arrays.equals(c.columns, columns)) {
      try {
        c.layout = ColumnLayout.decode(columns);
      } catch (IllegalArgumentException e) {
        throw new DataException(
            where(record)
                + ": bad "
                + RecordHeaders.COLUMNS
                + " header: "
                + e.getMessage()
                + CONVERTER_HINT,
            e);
      }
      c.columns = columns;
    }
    if (!Arrays.equals(c.schema, schema) || !Arrays.equals(c.table, table)) {
      c.target =
          tableNameFormat.target(
              record.topic(),
              new String(schema, StandardCharsets.UTF_8),
              new String(table, StandardCharsets.UTF_8));
      c.schema = schema;
      c.table = table;
    }
    if (op[0] == RowBatch.POST_DATA || op[0] == RowBatch.SEQUENCES) {
      return new Decoded(null, op[0], c.target, c.layout, null, false);
    }
    if (RowBatch.isBatch(op[0])) {
      Header text = record.headers().lastWithName(RecordHeaders.TEXT);
      if (text != null && !(text.value() instanceof byte[] t && t.length == 1 && t[0] == 't')) {
        throw new DataException(
            where(record)
                + ": header "
                + RecordHeaders.TEXT
                + " must be the byte 't'"
                + CONVERTER_HINT);
      }
      return new Decoded(null, op[0], c.target, c.layout, null, text != null);
    }
    Operation operation;
    try {
      operation = Operation.fromCode(op[0]);
    } catch (IllegalArgumentException e) {
      throw new DataException(where(record) + ": " + e.getMessage(), e);
    }
    int[] absent = null;
    Header a = record.headers().lastWithName(RecordHeaders.ABSENT);
    if (a != null && a.value() != null) {
      try {
        absent = RecordHeaders.decodeFieldList(bytes(record, RecordHeaders.ABSENT));
        for (int f : absent) {
          if (f < 0 || f >= c.layout.size()) {
            throw new IllegalArgumentException("field " + f + " of " + c.layout.size());
          }
        }
      } catch (IllegalArgumentException e) {
        throw new DataException(
            where(record) + ": bad " + RecordHeaders.ABSENT + " header: " + e.getMessage(), e);
      }
    }
    return new Decoded(operation, (byte) 0, c.target, c.layout, absent, false);
  }

  static byte[] value(SinkRecord record) {
    return asBytes(record, record.value(), "value");
  }

  static byte[] key(SinkRecord record) {
    return asBytes(record, record.key(), "key");
  }

  /** A struct key or value as a tuple of the columns' text forms; null stays null. */
  static byte[] textTuple(SinkRecord record, Object o, String what, List<Column> columns) {
    if (o == null) {
      return null;
    }
    if (!(o instanceof Struct s)) {
      throw new DataException(
          where(record)
              + ": the "
              + what
              + " is a "
              + o.getClass().getSimpleName()
              + ", not a Struct like the "
              + (what.equals("key") ? "value" : "key"));
    }
    try {
      return StructRows.textTuple(columns, s);
    } catch (DataException | ClassCastException e) {
      throw new DataException(where(record) + ": the " + what + ": " + e.getMessage(), e);
    }
  }

  private static byte[] asBytes(SinkRecord record, Object o, String what) {
    if (o == null || o instanceof byte[]) {
      return (byte[]) o;
    }
    throw new DataException(
        where(record)
            + ": the "
            + what
            + " is a "
            + o.getClass().getSimpleName()
            + ", not bytes"
            + CONVERTER_HINT);
  }

  private static byte[] bytes(SinkRecord record, String name) {
    Header h = record.headers().lastWithName(name);
    if (h == null || h.value() == null) {
      throw new DataException(
          where(record) + " has no " + name + " header: it was not written by the pgcopy source");
    }
    if (!(h.value() instanceof byte[])) {
      throw new DataException(
          where(record)
              + ": header "
              + name
              + " is a "
              + h.value().getClass().getSimpleName()
              + ", not bytes"
              + CONVERTER_HINT);
    }
    return (byte[]) h.value();
  }

  /** Where a record is, for messages: its topic, partition and offset. */
  public static String where(SinkRecord r) {
    return "record of topic "
        + r.topic()
        + ", partition "
        + r.kafkaPartition()
        + ", offset "
        + r.kafkaOffset();
  }
}
