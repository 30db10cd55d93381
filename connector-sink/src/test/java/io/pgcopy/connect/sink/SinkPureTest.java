package io.pgcopy.connect.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgcopy.connect.format.Column;
import io.pgcopy.connect.format.ColumnLayout;
import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.format.Tuples;
import java.util.List;
import org.junit.jupiter.api.Test;

class SinkPureTest {
  private static final ColumnLayout KEYED = new ColumnLayout(List.of(
      new Column("id", 23, -1, "integer", true, 1),
      new Column("Note \"x\"", 1043, 44, "character varying(40)", false, 0)));
  private static final ColumnLayout KEYLESS = new ColumnLayout(List.of(new Column("v", 25, -1, "text", false, 0)));
  private static final TableId T = new TableId("My Schema", "t");

  @Test
  void tableNameFormatFillsPlaceholdersWithExactNames() {
    assertThat(new TableNameFormat("${schema}.${table}").target("topic", "Sales", "Orders"))
        .isEqualTo(new TableId("Sales", "Orders"));
    assertThat(new TableNameFormat("archive.${schema}_${table}").target("topic", "s", "t"))
        .isEqualTo(new TableId("archive", "s_t"));
    assertThatThrownBy(() -> new TableNameFormat("${table}")).hasMessageContaining("schema.table");
  }

  @Test
  void keyedBatchKeepsTheLastRowPerKey() {
    TableBatch b = new TableBatch(T, KEYED);
    byte[] k1 = Tuples.of(new byte[] {0, 0, 0, 1});
    byte[] k2 = Tuples.of(new byte[] {0, 0, 0, 2});
    b.add(k1, new byte[] {1});
    b.add(k2, new byte[] {2});
    b.add(k1.clone(), new byte[] {3, 3});
    assertThat(b.size()).isEqualTo(2);
    assertThat(b.rows()).containsExactly(new byte[] {3, 3}, new byte[] {2});
    assertThat(b.bytes()).isEqualTo(3);
  }

  @Test
  void keylessBatchKeepsIdenticalRows() {
    TableBatch b = new TableBatch(T, KEYLESS);
    b.add(null, new byte[] {1});
    b.add(null, new byte[] {1});
    assertThat(b.size()).isEqualTo(2);
  }

  @Test
  void createTableUsesExactTypesNotNullAndKey() {
    assertThat(TargetTables.createTableSql(T, KEYED)).isEqualTo(
        "CREATE TABLE IF NOT EXISTS \"My Schema\".\"t\" (\"id\" integer NOT NULL, \"Note \"\"x\"\"\" character varying(40),"
            + " PRIMARY KEY (\"id\"))");
  }

  @Test
  void upsertUpdatesNonKeyColumns() {
    assertThat(BatchApplier.upsertSql(T, KEYED, "\"stage\"")).isEqualTo(
        "INSERT INTO \"My Schema\".\"t\" (\"id\", \"Note \"\"x\"\"\") SELECT \"id\", \"Note \"\"x\"\"\" FROM \"stage\""
            + " ON CONFLICT (\"id\") DO UPDATE SET \"Note \"\"x\"\"\" = EXCLUDED.\"Note \"\"x\"\"\"");
    ColumnLayout keyOnly = new ColumnLayout(List.of(new Column("id", 23, -1, "integer", true, 1)));
    assertThat(BatchApplier.upsertSql(T, keyOnly, "s")).endsWith("DO NOTHING");
  }
}
