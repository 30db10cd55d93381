package io.pgcopy.connect.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgcopy.connect.format.Column;
import io.pgcopy.connect.format.ColumnLayout;
import io.pgcopy.connect.format.Tuples;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.json.JsonConverter;
import org.junit.jupiter.api.Test;

class StructRowsTest {
  private static final ColumnLayout LAYOUT =
      new ColumnLayout(
          List.of(
              new Column("id", 23, -1, "integer", true, 1),
              new Column("price", 1700, ((10 << 16) | 2) + 4, "numeric(10,2)", false, 0),
              new Column("any", 1700, -1, "numeric", false, 0),
              new Column("name", 25, -1, "text", false, 0),
              new Column("raw", 17, -1, "bytea", false, 0),
              new Column("day", 1082, -1, "date", false, 0),
              new Column("at", 1184, -1, "timestamp with time zone", false, 0),
              new Column("local", 1114, -1, "timestamp without time zone", false, 0),
              new Column("tags", 1009, -1, "text[]", false, 0),
              new Column("scores", 1007, -1, "integer[]", false, 0),
              new Column("ratio", 701, -1, "double precision", false, 0),
              new Column("small", 700, -1, "real", false, 0),
              new Column("ok", 16, -1, "boolean", false, 0),
              new Column("tiny", 21, -1, "smallint", false, 0),
              new Column("big", 20, -1, "bigint", false, 0),
              new Column("span", 1186, -1, "interval", false, 0),
              new Column("Odd \"Name\"", 3802, -1, "jsonb", false, 0)));

  /**
   * Text forms as PostgreSQL prints them (TimeZone UTC, bytea_output hex) and as the sink writes
   * them.
   */
  private static final String[] ROW = {
    "7",
    "1234.50",
    "3.14159265358979323846",
    "tab\there\nnew line \\ \"q\" ü",
    "\\x00ff10",
    "2024-02-29",
    "2024-01-31 07:04:56.123+00",
    "1999-12-31 23:59:59.999",
    "{\"a b\",NULL,\"\"}",
    "{1,-2,NULL}",
    "NaN",
    "1.5",
    "t",
    "-32768",
    "9223372036854775807",
    "1 day 02:03:04",
    "{\"k\": [1, 2]}"
  };

  @Test
  void rowsBecomeTypedStructs() {
    StructRows rows = new StructRows("demo.public.items", LAYOUT, StructRows.TemporalMode.CONNECT);
    Struct v = rows.value(tuple(ROW));
    v.validate();
    assertThat(rows.valueSchema().name()).isEqualTo("demo.public.items.Value");
    assertThat(v.getInt32("id")).isEqualTo(7);
    assertThat(v.schema().field("price").schema().name()).isEqualTo(Decimal.LOGICAL_NAME);
    assertThat(v.get("price")).isEqualTo(new BigDecimal("1234.50"));
    assertThat(v.getString("any")).isEqualTo("3.14159265358979323846");
    assertThat(v.getBytes("raw")).containsExactly(0, 0xff, 0x10);
    assertThat(v.schema().field("day").schema().name()).isEqualTo(Date.LOGICAL_NAME);
    assertThat(((java.util.Date) v.get("day")).toInstant())
        .isEqualTo(Instant.parse("2024-02-29T00:00:00Z"));
    assertThat(v.schema().field("at").schema().name()).isEqualTo(Timestamp.LOGICAL_NAME);
    assertThat(((java.util.Date) v.get("at")).toInstant())
        .isEqualTo(Instant.parse("2024-01-31T07:04:56.123Z"));
    assertThat(v.getArray("tags")).containsExactly("a b", null, "");
    assertThat(v.getArray("scores")).containsExactly(1, -2, null);
    assertThat(v.getFloat64("ratio")).isNaN();
    assertThat(v.getFloat32("small")).isEqualTo(1.5f);
    assertThat(v.getBoolean("ok")).isTrue();
    assertThat(v.getInt16("tiny")).isEqualTo((short) -32768);
    assertThat(v.getInt64("big")).isEqualTo(Long.MAX_VALUE);
    assertThat(v.getString("span")).isEqualTo("1 day 02:03:04");
    assertThat(v.schema().field("Odd \"Name\"").schema().parameters())
        .containsEntry(StructRows.TYPE_PARAMETER, "jsonb");
    Struct k = rows.key(Tuples.of("7".getBytes(StandardCharsets.UTF_8)));
    assertThat(rows.keySchema().fields()).hasSize(1);
    assertThat(k.getInt32("id")).isEqualTo(7);
  }

  @Test
  void throughTheJsonConverterAndBackToTheSameText() {
    StructRows rows = new StructRows("demo.public.items", LAYOUT, StructRows.TemporalMode.CONNECT);
    JsonConverter json = new JsonConverter();
    json.configure(Map.of("schemas.enable", "true"), false);
    String[] row = ROW.clone();
    row[10] = "-1.25e-300"; // JSON has no NaN: the JSON converter reads it back as 0.0
    byte[] wire = json.fromConnectData("t", rows.valueSchema(), rows.value(tuple(row)));
    SchemaAndValue back = json.toConnectData("t", wire);
    byte[] text = StructRows.textTuple(LAYOUT.columns(), (Struct) back.value());
    List<String> expected = new ArrayList<>(List.of(row));
    expected.set(10, "-1.25E-300");
    // what the sink writes: quoted array elements, milliseconds, +00; PostgreSQL reads each as the
    // source value
    expected.set(6, "2024-01-31 07:04:56.123+00");
    expected.set(7, "1999-12-31 23:59:59.999");
    expected.set(9, "{\"1\",\"-2\",NULL}");
    assertThat(strings(text)).isEqualTo(expected);
  }

  @Test
  void nullsStayNullAndATableWithoutKeyIsKeyedByItsRow() {
    ColumnLayout keyless =
        new ColumnLayout(
            List.of(
                new Column("a", 23, -1, "integer", false, 0),
                new Column("b", 25, -1, "text", false, 0)));
    StructRows rows = new StructRows("x", keyless, StructRows.TemporalMode.STRING);
    byte[] t = Tuples.of(null, "b".getBytes(StandardCharsets.UTF_8));
    Struct k = rows.key(t);
    assertThat(rows.keySchema()).isSameAs(rows.valueSchema());
    assertThat(k.get("a")).isNull();
    assertThat(StructRows.textTuple(keyless.columns(), k)).isEqualTo(t);
  }

  @Test
  void stringTemporalModeKeepsPostgresText() {
    StructRows rows = new StructRows("x", LAYOUT, StructRows.TemporalMode.STRING);
    Struct v = rows.value(tuple(ROW));
    assertThat(v.schema().field("at").schema().type()).isEqualTo(Schema.Type.STRING);
    assertThat(v.getString("local")).isEqualTo("1999-12-31 23:59:59.999");
    assertThat(strings(StructRows.textTuple(LAYOUT.columns(), v)).get(6)).isEqualTo(ROW[6]);
  }

  @Test
  void valuesAStructCannotCarryNameTheColumn() {
    StructRows rows = new StructRows("x", LAYOUT, StructRows.TemporalMode.CONNECT);
    String[] nan = ROW.clone();
    nan[1] = "NaN";
    assertThatThrownBy(() -> rows.value(tuple(nan)))
        .isInstanceOf(DataException.class)
        .hasMessageContaining("column price (numeric(10,2))")
        .hasMessageContaining("NaN");
    String[] matrix = ROW.clone();
    matrix[9] = "{{1,2},{3,4}}";
    assertThatThrownBy(() -> rows.value(tuple(matrix)))
        .hasMessageContaining("column scores (integer[])");
  }

  @Test
  void aStructWithoutAColumnIsRefused() {
    StructRows rows = new StructRows("x", LAYOUT, StructRows.TemporalMode.CONNECT);
    Struct k = rows.key(Tuples.of("7".getBytes(StandardCharsets.UTF_8)));
    assertThatThrownBy(() -> StructRows.textTuple(LAYOUT.columns(), k))
        .hasMessageContaining("no field price");
  }

  private static byte[] tuple(String[] texts) {
    byte[][] values = new byte[texts.length][];
    for (int i = 0; i < texts.length; i++) {
      values[i] = texts[i] == null ? null : texts[i].getBytes(StandardCharsets.UTF_8);
    }
    return Tuples.of(values);
  }

  private static List<String> strings(byte[] tuple) {
    List<String> out = new ArrayList<>();
    for (byte[] v : Tuples.values(tuple)) {
      out.add(v == null ? null : new String(v, StandardCharsets.UTF_8));
    }
    return out;
  }
}
