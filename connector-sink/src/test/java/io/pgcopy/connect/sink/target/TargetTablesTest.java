package io.pgcopy.connect.sink.target;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgcopy.connect.format.Column;
import io.pgcopy.connect.format.ColumnLayout;
import io.pgcopy.connect.format.GeneratedColumn;
import io.pgcopy.connect.format.TableId;
import java.util.List;
import org.junit.jupiter.api.Test;

class TargetTablesTest {
  private static final ColumnLayout KEYED =
      new ColumnLayout(
          List.of(
              new Column("id", 23, -1, "integer", true, 1),
              new Column("Note \"x\"", 1043, 44, "character varying(40)", false, 0)));
  private static final TableId T = new TableId("My Schema", "t");

  @Test
  void createTableUsesExactTypesNotNullAndKey() {
    assertThat(TargetTables.createTableSql(T, KEYED))
        .isEqualTo(
            "CREATE TABLE IF NOT EXISTS \"My Schema\".\"t\" (\"id\" integer NOT NULL, \"Note \"\"x\"\"\" character varying(40),"
                + " PRIMARY KEY (\"id\"))");
  }

  /**
   * Generated columns take their place in the source's column order, with the source's expression.
   */
  @Test
  void createTableDeclaresGeneratedColumnsWhereTheSourceHasThem() {
    ColumnLayout layout =
        new ColumnLayout(
            KEYED.columns(),
            List.of(
                new GeneratedColumn("first", "integer", "(id + 1)", 0),
                new GeneratedColumn("Len", "integer", "length((\"Note \"\"x\"\"\")::text)", 2)));
    assertThat(TargetTables.createTableSql(T, layout))
        .isEqualTo(
            "CREATE TABLE IF NOT EXISTS \"My Schema\".\"t\" (\"first\" integer GENERATED ALWAYS AS ((id + 1)) STORED,"
                + " \"id\" integer NOT NULL, \"Note \"\"x\"\"\" character varying(40),"
                + " \"Len\" integer GENERATED ALWAYS AS (length((\"Note \"\"x\"\"\")::text)) STORED, PRIMARY KEY (\"id\"))");
  }
}
