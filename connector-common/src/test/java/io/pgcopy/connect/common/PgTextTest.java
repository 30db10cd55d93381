package io.pgcopy.connect.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PgTextTest {
  @Test
  void datesBothWays() {
    for (String d :
        new String[] {
          "2024-02-29",
          "1970-01-01",
          "1969-12-31",
          "0001-01-01",
          "0001-12-31 BC",
          "4713-01-01 BC",
          "10000-01-01",
          "5874897-12-31",
          "infinity",
          "-infinity"
        }) {
      assertThat(PgText.formatDate(PgText.parseDateDays(d))).isEqualTo(d);
    }
    assertThat(PgText.parseDateDays("2024-02-29"))
        .isEqualTo((int) LocalDate.of(2024, 2, 29).toEpochDay());
    assertThat(PgText.parseDateDays("0001-12-31 BC"))
        .isEqualTo((int) LocalDate.of(0, 12, 31).toEpochDay());
  }

  @Test
  void timestampsToMillisWithOffsetsAndTruncatedMicros() {
    assertThat(PgText.parseTimestampMillis("2024-01-31 12:34:56.789123"))
        .isEqualTo(Instant.parse("2024-01-31T12:34:56.789Z").toEpochMilli());
    assertThat(PgText.parseTimestampMillis("2024-01-31 12:34:56+05:30"))
        .isEqualTo(Instant.parse("2024-01-31T07:04:56Z").toEpochMilli());
    assertThat(PgText.parseTimestampMillis("2024-01-31 12:34:56.5-03:30:15"))
        .isEqualTo(Instant.parse("2024-01-31T16:05:11.500Z").toEpochMilli());
    // before the epoch, sub-millisecond digits round toward the past like Instant's
    assertThat(PgText.parseTimestampMillis("1969-12-31 23:59:59.9995+00"))
        .isEqualTo(Instant.parse("1969-12-31T23:59:59.999Z").toEpochMilli());
    assertThat(PgText.parseTimestampMillis("0044-03-15 12:00:00+00 BC"))
        .isEqualTo(Instant.parse("-0043-03-15T12:00:00Z").toEpochMilli());
    assertThat(PgText.parseTimestampMillis("infinity")).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void timestampsFormatAsPostgresReadsThem() {
    long ms = Instant.parse("2024-01-31T07:04:56.120Z").toEpochMilli();
    assertThat(PgText.formatTimestamp(ms, true)).isEqualTo("2024-01-31 07:04:56.120+00");
    assertThat(PgText.formatTimestamp(ms, false)).isEqualTo("2024-01-31 07:04:56.120");
    long bc = Instant.parse("-0043-03-15T12:00:00Z").toEpochMilli();
    assertThat(PgText.formatTimestamp(bc, true)).isEqualTo("0044-03-15 12:00:00.000+00 BC");
    assertThat(PgText.parseTimestampMillis(PgText.formatTimestamp(bc, true))).isEqualTo(bc);
    assertThat(PgText.formatTimestamp(Long.MIN_VALUE, false)).isEqualTo("-infinity");
  }

  @Test
  void oneDimensionalArrays() {
    assertThat(PgText.parseArray("{}")).isEmpty();
    assertThat(PgText.parseArray("{1,-2,NULL}")).containsExactly("1", "-2", null);
    assertThat(PgText.parseArray("{\"a b\",\"say \\\"hi\\\"\",\"NULL\",back\\\\slash,\"{x,y}\"}"))
        .containsExactly("a b", "say \"hi\"", "NULL", "back\\slash", "{x,y}");
    var elements = Arrays.asList("a b", null, "q\"uote", "back\\slash", "", "NULL");
    assertThat(PgText.parseArray(PgText.formatArray(elements))).isEqualTo(elements);
    assertThatThrownBy(() -> PgText.parseArray("{{1,2},{3,4}}"))
        .hasMessageContaining("multi-dimensional");
    assertThatThrownBy(() -> PgText.parseArray("[0:1]={1,2}")).hasMessageContaining("[0:1]=");
  }

  @Test
  void byteaInBothOutputFormats() {
    byte[] b = {0, 1, (byte) 0xff, '\\', 'a'};
    assertThat(PgText.parseBytea(PgText.formatBytea(b))).isEqualTo(b);
    assertThat(PgText.formatBytea(b)).isEqualTo("\\x0001ff5c61");
    assertThat(PgText.parseBytea("\\000\\001\\377\\\\a")).isEqualTo(b);
  }

  @Test
  void decimalsAtTheColumnScaleAndNoNaN() {
    assertThat(PgText.parseDecimal("12.50", 2)).isEqualTo(new BigDecimal("12.50"));
    assertThat(PgText.parseDecimal("1200", -2).scale()).isEqualTo(-2);
    assertThatThrownBy(() -> PgText.parseDecimal("NaN", 2)).hasMessageContaining("NaN");
  }
}
