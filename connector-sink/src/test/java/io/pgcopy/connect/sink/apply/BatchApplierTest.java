package io.pgcopy.connect.sink.apply;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgcopy.connect.format.Column;
import io.pgcopy.connect.format.ColumnLayout;
import io.pgcopy.connect.format.TableId;
import java.util.List;
import org.junit.jupiter.api.Test;

class BatchApplierTest {
  private static final ColumnLayout KEYED =
      new ColumnLayout(
          List.of(
              new Column("id", 23, -1, "integer", true, 1),
              new Column("Note \"x\"", 1043, 44, "character varying(40)", false, 0)));
  private static final TableId T = new TableId("My Schema", "t");

  @Test
  void upsertUpdatesNonKeyColumns() {
    assertThat(BatchApplier.upsertSql(T, KEYED, "\"stage\""))
        .isEqualTo(
            "INSERT INTO \"My Schema\".\"t\" (\"id\", \"Note \"\"x\"\"\") OVERRIDING SYSTEM VALUE SELECT \"id\", \"Note \"\"x\"\"\" FROM \"stage\""
                + " ON CONFLICT (\"id\") DO UPDATE SET \"Note \"\"x\"\"\" = EXCLUDED.\"Note \"\"x\"\"\"");
    ColumnLayout keyOnly = new ColumnLayout(List.of(new Column("id", 23, -1, "integer", true, 1)));
    assertThat(BatchApplier.upsertSql(T, keyOnly, "s")).endsWith("DO NOTHING");
  }
}
