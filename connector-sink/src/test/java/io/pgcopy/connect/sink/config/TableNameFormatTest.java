package io.pgcopy.connect.sink.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgcopy.connect.format.TableId;
import org.junit.jupiter.api.Test;

class TableNameFormatTest {
  @Test
  void tableNameFormatFillsPlaceholdersWithExactNames() {
    assertThat(new TableNameFormat("${schema}.${table}").target("topic", "Sales", "Orders"))
        .isEqualTo(new TableId("Sales", "Orders"));
    assertThat(new TableNameFormat("archive.${schema}_${table}").target("topic", "s", "t"))
        .isEqualTo(new TableId("archive", "s_t"));
    assertThatThrownBy(() -> new TableNameFormat("${table}")).hasMessageContaining("schema.table");
  }
}
