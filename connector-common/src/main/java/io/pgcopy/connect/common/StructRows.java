package io.pgcopy.connect.common;

import io.pgcopy.connect.format.Column;
import io.pgcopy.connect.format.ColumnLayout;
import io.pgcopy.connect.format.Tuples;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.errors.DataException;

/**
 * The struct record format of one table layout: Connect schemas for its key and value, and the
 * conversion between Connect {@link Struct}s and tuples whose fields hold PostgreSQL's text form of
 * each value (what the source reads in this format, and what the sink copies in with {@code COPY ..
 * (FORMAT text)}).
 *
 * <p>Types: boolean, smallint, integer, bigint, oid, real and double precision map to the Connect
 * primitive; numeric with a declared scale to Decimal; bytea to bytes; date, timestamp and
 * timestamptz to the Date and Timestamp logical types (milliseconds; 'infinity' is the largest
 * value) or, with {@link TemporalMode#STRING}, to their ISO text; one-dimensional arrays of those
 * primitives and of text-like types to arrays; every other type (unconstrained numeric, time,
 * interval, uuid, json, enums, composites, ranges, ...) to its text form as a string. Every field
 * is optional. Each field's schema carries the column's SQL type in the parameter {@value
 * #TYPE_PARAMETER}.
 */
public final class StructRows {
  public static final String TYPE_PARAMETER = "pgcopy.type";

  /** How date, timestamp and timestamptz columns travel. */
  public enum TemporalMode {
    /** Connect's Date and Timestamp logical types: understood by every sink, milliseconds only. */
    CONNECT,
    /** Text in ISO form, exactly as PostgreSQL prints it. */
    STRING;

    public static TemporalMode of(String s) {
      return valueOf(s.toUpperCase(Locale.ROOT));
    }
  }

  private enum Kind {
    BOOLEAN,
    INT16,
    INT32,
    INT64,
    FLOAT32,
    FLOAT64,
    DECIMAL,
    BYTES,
    DATE,
    TIMESTAMP,
    TIMESTAMPTZ,
    TEXT
  }

  private final String name;
  private final ColumnLayout layout;
  private final Kind[] kinds;
  private final Kind[] elementKinds;
  private final int[] scales;
  private final Schema valueSchema;
  private final Schema keySchema;
  private final int[] keyFields;

  /**
   * @param name the schema name prefix, usually the topic; invalid characters become '_'
   */
  public StructRows(String name, ColumnLayout layout, TemporalMode temporal) {
    this.name = name;
    this.layout = layout;
    int n = layout.size();
    kinds = new Kind[n];
    elementKinds = new Kind[n];
    scales = new int[n];
    Schema[] fieldSchemas = new Schema[n];
    for (int i = 0; i < n; i++) {
      Column c = layout.columns().get(i);
      int element = arrayElement(c.typeOid());
      if (element != 0) {
        elementKinds[i] = kind(element, -1, temporal);
        kinds[i] = Kind.TEXT;
        fieldSchemas[i] =
            SchemaBuilder.array(schema(elementKinds[i], -1).optional().build())
                .optional()
                .parameter(TYPE_PARAMETER, c.typeName())
                .build();
      } else {
        kinds[i] = kind(c.typeOid(), c.typeModifier(), temporal);
        scales[i] = kinds[i] == Kind.DECIMAL ? numericScale(c.typeModifier()) : 0;
        fieldSchemas[i] =
            schema(kinds[i], c.typeModifier())
                .optional()
                .parameter(TYPE_PARAMETER, c.typeName())
                .build();
      }
    }
    SchemaBuilder value = SchemaBuilder.struct().name(schemaName(name) + ".Value").optional();
    for (int i = 0; i < n; i++) {
      value.field(layout.columns().get(i).name(), fieldSchemas[i]);
    }
    valueSchema = value.build();
    keyFields = layout.keyFieldIndexes();
    if (keyFields.length == 0) {
      keySchema = valueSchema;
    } else {
      SchemaBuilder key = SchemaBuilder.struct().name(schemaName(name) + ".Key").optional();
      for (int f : keyFields) {
        key.field(layout.columns().get(f).name(), fieldSchemas[f]);
      }
      keySchema = key.build();
    }
  }

  public ColumnLayout layout() {
    return layout;
  }

  public Schema valueSchema() {
    return valueSchema;
  }

  /** The key's schema; for a table without a key, the value's (its key is the whole old row). */
  public Schema keySchema() {
    return keySchema;
  }

  /** A row: a tuple of every column's text form. */
  public Struct value(byte[] textTuple) {
    return struct(valueSchema, textTuple, null);
  }

  /** A key: a tuple of the key columns' text form, or for a table without a key, the whole row. */
  public Struct key(byte[] textTuple) {
    return struct(keySchema, textTuple, keyFields.length == 0 ? null : keyFields);
  }

  private Struct struct(Schema schema, byte[] tuple, int[] columns) {
    byte[][] values = Tuples.values(tuple);
    if (values.length != schema.fields().size()) {
      throw new DataException(
          name
              + ": a tuple of "
              + values.length
              + " fields for "
              + schema.fields().size()
              + " columns");
    }
    Struct s = new Struct(schema);
    for (int i = 0; i < values.length; i++) {
      if (values[i] == null) {
        continue;
      }
      int column = columns == null ? i : columns[i];
      String text = new String(values[i], StandardCharsets.UTF_8);
      Field f = schema.fields().get(i);
      try {
        s.put(
            f,
            elementKinds[column] != null
                ? parseArray(elementKinds[column], text)
                : kinds[column] == Kind.DECIMAL
                    ? PgText.parseDecimal(text, scales[column])
                    : parse(kinds[column], text));
      } catch (RuntimeException e) {
        throw new DataException(
            name
                + ": column "
                + f.name()
                + " ("
                + layout.columns().get(column).typeName()
                + "): "
                + e.getMessage()
                + "; such values need record.format=binary or a cast in a view",
            e);
      }
    }
    return s;
  }

  /**
   * The text-form tuple of {@code columns} (in that order) taken by name from a struct, as the sink
   * copies it in. A field the struct lacks is an error; a null field is SQL NULL.
   */
  public static byte[] textTuple(List<Column> columns, Struct struct) {
    byte[][] values = new byte[columns.size()][];
    for (int i = 0; i < values.length; i++) {
      Column c = columns.get(i);
      Field f = struct.schema().field(c.name());
      if (f == null) {
        throw new DataException(
            "the record's struct " + struct.schema().name() + " has no field " + c.name());
      }
      Object v = struct.get(f);
      values[i] =
          v == null ? null : format(f.schema(), c.typeOid(), v).getBytes(StandardCharsets.UTF_8);
    }
    return Tuples.of(values);
  }

  private static String format(Schema schema, int typeOid, Object v) {
    String logical = schema.name();
    if (Decimal.LOGICAL_NAME.equals(logical)) {
      return ((BigDecimal) v).toPlainString();
    }
    if (Date.LOGICAL_NAME.equals(logical)) {
      return PgText.formatDate(
          Math.toIntExact(Math.floorDiv(((java.util.Date) v).getTime(), 86_400_000L)));
    }
    if (Timestamp.LOGICAL_NAME.equals(logical)) {
      return PgText.formatTimestamp(((java.util.Date) v).getTime(), typeOid == TIMESTAMPTZ);
    }
    if (v instanceof java.util.Date d) { // a Time, or a logical type of another source
      return java.time.Instant.ofEpochMilli(d.getTime()).toString();
    }
    return switch (schema.type()) {
      case BOOLEAN -> ((Boolean) v) ? "t" : "f";
      case BYTES -> PgText.formatBytea(v instanceof ByteBuffer b ? bytes(b) : (byte[]) v);
      case ARRAY -> {
        List<String> elements = new ArrayList<>();
        for (Object e : (List<?>) v) {
          elements.add(e == null ? null : format(schema.valueSchema(), 0, e));
        }
        yield PgText.formatArray(elements);
      }
      case STRUCT, MAP ->
          throw new DataException("a " + schema.type() + " field cannot be written to a column");
      default -> v.toString();
    };
  }

  private static byte[] bytes(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }

  private static Object parse(Kind kind, String s) {
    return switch (kind) {
      case BOOLEAN -> PgText.parseBoolean(s);
      case INT16 -> Short.parseShort(s);
      case INT32 -> Integer.parseInt(s);
      case INT64 -> Long.parseLong(s);
      case FLOAT32 -> Float.parseFloat(s);
      case FLOAT64 -> Double.parseDouble(s);
      case BYTES -> PgText.parseBytea(s);
      case DATE -> new java.util.Date(PgText.daysToMillis(PgText.parseDateDays(s)));
      case TIMESTAMP, TIMESTAMPTZ -> new java.util.Date(PgText.parseTimestampMillis(s));
      case DECIMAL, TEXT -> s; // a DECIMAL column is parsed at its scale by the caller
    };
  }

  private List<Object> parseArray(Kind element, String s) {
    List<Object> out = new ArrayList<>();
    for (String e : PgText.parseArray(s)) {
      out.add(e == null ? null : parse(element, e));
    }
    return out;
  }

  private static final int TIMESTAMPTZ = 1184;

  private static Kind kind(int oid, int typmod, TemporalMode temporal) {
    return switch (oid) {
      case 16 -> Kind.BOOLEAN;
      case 21 -> Kind.INT16;
      case 23 -> Kind.INT32;
      case 20, 26 -> Kind.INT64;
      case 700 -> Kind.FLOAT32;
      case 701 -> Kind.FLOAT64;
      case 1700 -> typmod >= 4 ? Kind.DECIMAL : Kind.TEXT;
      case 17 -> Kind.BYTES;
      case 1082 -> temporal == TemporalMode.CONNECT ? Kind.DATE : Kind.TEXT;
      case 1114 -> temporal == TemporalMode.CONNECT ? Kind.TIMESTAMP : Kind.TEXT;
      case 1184 -> temporal == TemporalMode.CONNECT ? Kind.TIMESTAMPTZ : Kind.TEXT;
      default -> Kind.TEXT;
    };
  }

  /** The element type of the array types carried as Connect arrays, 0 for any other type. */
  private static int arrayElement(int oid) {
    return switch (oid) {
      case 1000 -> 16; // boolean[]
      case 1005 -> 21; // smallint[]
      case 1007 -> 23; // integer[]
      case 1016 -> 20; // bigint[]
      case 1021 -> 700; // real[]
      case 1022 -> 701; // double precision[]
      case 1009, 1015, 1014, 1003, 2951 -> 25; // text[], varchar[], char[], name[], uuid[]
      default -> 0;
    };
  }

  private static SchemaBuilder schema(Kind kind, int typmod) {
    return switch (kind) {
      case BOOLEAN -> SchemaBuilder.bool();
      case INT16 -> SchemaBuilder.int16();
      case INT32 -> SchemaBuilder.int32();
      case INT64 -> SchemaBuilder.int64();
      case FLOAT32 -> SchemaBuilder.float32();
      case FLOAT64 -> SchemaBuilder.float64();
      case DECIMAL ->
          Decimal.builder(numericScale(typmod))
              .parameter("connect.decimal.precision", String.valueOf(numericPrecision(typmod)));
      case BYTES -> SchemaBuilder.bytes();
      case DATE -> Date.builder();
      case TIMESTAMP, TIMESTAMPTZ -> Timestamp.builder();
      case TEXT -> SchemaBuilder.string();
    };
  }

  static int numericPrecision(int typmod) {
    return ((typmod - 4) >> 16) & 0xffff;
  }

  /** The scale of numeric(p, s), which may be negative since PostgreSQL 15. */
  static int numericScale(int typmod) {
    return (((typmod - 4) & 0x7ff) ^ 1024) - 1024;
  }

  private static String schemaName(String name) {
    StringBuilder sb = new StringBuilder(name.length());
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean ok =
          c == '_'
              || c == '.'
              || (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9' && sb.length() > 0);
      sb.append(ok ? c : '_');
    }
    return sb.toString();
  }
}
