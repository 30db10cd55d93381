package io.pgcopy.connect.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ColumnLayoutTest {
  private final ColumnLayout layout =
      new ColumnLayout(
          List.of(
              new Column("b", 23, -1, "integer", true, 2),
              new Column("Näme \"q\"", 1700, 655366, "numeric(10,2)", false, 0),
              new Column("a", 25, -1, "text", true, 1)));

  @Test
  void roundTrips() {
    assertThat(ColumnLayout.decode(layout.encode())).isEqualTo(layout);
  }

  /**
   * A column added with a constant default carries the value older rows have; only then is version
   * 2 written.
   */
  @Test
  void missingValueRoundTripsInVersionTwo() {
    assertThat(layout.encode()[0]).isEqualTo(ColumnLayout.VERSION);
    ColumnLayout added =
        new ColumnLayout(
            List.of(
                new Column("id", 20, -1, "bigint", true, 1),
                new Column("added", 1700, 655366, "numeric(10,2)", false, 0, "1.25"),
                new Column("note", 25, -1, "text", false, 0, "it's")));
    byte[] encoded = added.encode();
    assertThat(encoded[0]).isEqualTo(ColumnLayout.VERSION_WITH_MISSING_VALUES);
    ColumnLayout decoded = ColumnLayout.decode(encoded);
    assertThat(decoded).isEqualTo(added);
    assertThat(decoded.columns())
        .extracting(Column::missingValue)
        .containsExactly(null, "1.25", "it's");
  }

  /** Generated columns (no field in records) round-trip in version 3, missing values with them. */
  @Test
  void generatedColumnsRoundTripInVersionThree() {
    ColumnLayout withGenerated =
        new ColumnLayout(
            List.of(
                new Column("id", 20, -1, "bigint", true, 1),
                new Column("price", 1700, -1, "numeric", false, 0, "0")),
            List.of(
                new GeneratedColumn("doubled", "numeric", "(price * (2)::numeric)", 2),
                new GeneratedColumn(
                    "Ünïcode \"g\"", "text", "('x'::text || repeat('y'::text, 40000))", 0)));
    byte[] encoded = withGenerated.encode();
    assertThat(encoded[0]).isEqualTo(ColumnLayout.VERSION_WITH_GENERATED_COLUMNS);
    ColumnLayout decoded = ColumnLayout.decode(encoded);
    assertThat(decoded)
        .isEqualTo(withGenerated)
        .isNotEqualTo(new ColumnLayout(withGenerated.columns()));
    assertThat(decoded.columns().get(1).missingValue()).isEqualTo("0");
    assertThat(decoded.generated()).extracting(GeneratedColumn::position).containsExactly(2, 0);
    assertThatThrownBy(
            () -> ColumnLayout.decode(java.util.Arrays.copyOf(encoded, encoded.length - 1)))
        .hasMessageContaining("truncated");
  }

  @Test
  void ordersKeyFieldsByKeyPosition() {
    assertThat(layout.keyFieldIndexes()).containsExactly(2, 0);
    assertThat(layout.hasKey()).isTrue();
    assertThat(new ColumnLayout(List.of(new Column("x", 25, -1, "text", false, 0))).hasKey())
        .isFalse();
  }

  @Test
  void rejectsUnknownVersionAndTruncation() {
    byte[] encoded = layout.encode();
    byte[] wrongVersion = encoded.clone();
    wrongVersion[0] = 9;
    assertThatThrownBy(() -> ColumnLayout.decode(wrongVersion)).hasMessageContaining("version 9");
    assertThatThrownBy(() -> ColumnLayout.decode(java.util.Arrays.copyOf(encoded, 10)))
        .hasMessageContaining("truncated");
  }
}
