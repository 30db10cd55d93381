package io.pgcopy.connect.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TableIdTest {
  @Test
  void foldsUnquotedNamesLikePostgres() {
    assertThat(TableId.parse("Public.Accounts")).isEqualTo(new TableId("public", "accounts"));
    assertThat(TableId.parse("accounts")).isEqualTo(new TableId("public", "accounts"));
  }

  @Test
  void keepsQuotedNamesExactly() {
    TableId id = TableId.parse("\"My Schema\".\"we\"\"ird.Name\"");
    assertThat(id).isEqualTo(new TableId("My Schema", "we\"ird.Name"));
    assertThat(id.quoted()).isEqualTo("\"My Schema\".\"we\"\"ird.Name\"");
    assertThat(TableId.parse(id.quoted())).isEqualTo(id);
  }

  @Test
  void rejectsMalformedNames() {
    assertThatThrownBy(() -> TableId.parse("a.b.c")).hasMessageContaining("schema.table");
    assertThatThrownBy(() -> TableId.parse("\"a")).hasMessageContaining("unterminated");
    assertThatThrownBy(() -> TableId.parse("a.")).hasMessageContaining("empty");
  }

  @Test
  void aListKeepsCommasInsideQuotedNames() {
    assertThat(TableId.parseList(" public.a, \"x,y\".\"b \"\",c\" ,,T"))
        .containsExactly(
            new TableId("public", "a"), new TableId("x,y", "b \",c"), new TableId("public", "t"));
    assertThat(TableId.parseList("")).isEmpty();
  }
}
