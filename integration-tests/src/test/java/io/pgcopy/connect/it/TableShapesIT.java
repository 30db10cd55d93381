package io.pgcopy.connect.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Table shapes, through the snapshot and change data capture: names that need quoting (mixed case,
 * spaces, quotes, Unicode) in a non-public schema, a dropped column, a stored generated column, an
 * identity column, a pre-created target whose columns are in another order (with its own identity
 * and generated column), and a 500-column table.
 */
class TableShapesIT {
  private static final String ODD = "\"Sales Ünit\".\"Order \"\"Items\"\" 2024\"";
  @RegisterExtension static final PipelineExtension servers = PipelineExtension.shared();

  private static Pipeline pipeline;

  @BeforeAll
  static void start() {
    pipeline = servers.pipeline();
  }

  @Test
  void oddShapesArriveThroughSnapshotAndChanges() throws Exception {
    StringBuilder wide = new StringBuilder("CREATE TABLE public.wide (id integer PRIMARY KEY");
    StringBuilder wideRow = new StringBuilder("INSERT INTO public.wide SELECT g");
    for (int i = 1; i < 500; i++) {
      wide.append(", c").append(i).append(i % 2 == 0 ? " integer" : " text");
      wideRow.append(", ").append(i % 2 == 0 ? "g * " + i : "'v' || g || '-" + i + "'");
    }
    pipeline.source.execute(
        pipeline.sourceDb,
        "CREATE SCHEMA \"Sales Ünit\"",
        "CREATE TABLE "
            + ODD
            + " (\"Id\" integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tmp text,"
            + " \"Mixed Case\" text, \"quote\"\"d\" integer, qty integer, total integer GENERATED ALWAYS AS (qty * 2) STORED)",
        "ALTER TABLE " + ODD + " DROP COLUMN tmp",
        "INSERT INTO "
            + ODD
            + " (\"Mixed Case\", \"quote\"\"d\", qty) SELECT 'MiXed ' || g, g, g FROM generate_series(1, 500) g",
        wide.append(')').toString(),
        wideRow.append(" FROM generate_series(1, 200) g").toString());
    // the target table exists already, columns in another order, its own identity and generated
    // column
    pipeline.target.execute(
        pipeline.targetDb,
        "CREATE SCHEMA \"Sales Ünit\"",
        "CREATE TABLE "
            + ODD
            + " (total integer GENERATED ALWAYS AS (qty * 2) STORED, qty integer,"
            + " \"quote\"\"d\" integer, \"Mixed Case\" text, \"Id\" integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY)");

    var source = pipeline.sourceConfig("shapes", ODD + ",public.wide");
    source.put("snapshot.mode", "initial");
    source.put("slot.name", "shapes_slot");
    source.put("publication.name", "Shapes Pub");
    rest().putConnector("shapes-source", source);
    rest().putConnector("shapes-sink", pipeline.sinkConfig("shapes"));
    awaitSame(ODD);
    awaitSame("public.wide");

    Awaitility.await("the stream task")
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> pipeline.workerLog().contains("shapes-source-stream: streaming slot"));
    pipeline.source.execute(
        pipeline.sourceDb,
        "INSERT INTO " + ODD + " (\"Mixed Case\", \"quote\"\"d\", qty) VALUES ('after', -1, 1000)",
        "UPDATE "
            + ODD
            + " SET qty = qty + 1, \"Mixed Case\" = upper(\"Mixed Case\") WHERE \"Id\" % 3 = 0",
        "DELETE FROM " + ODD + " WHERE \"Id\" % 5 = 0",
        "ALTER TABLE " + ODD + " DROP COLUMN \"quote\"\"d\"",
        "INSERT INTO " + ODD + " (\"Mixed Case\", qty) VALUES ('after drop', 7)",
        "UPDATE public.wide SET c1 = 'changed', c498 = -1 WHERE id <= 10",
        "INSERT INTO public.wide (id, c2) VALUES (1000, 2)");
    awaitSame(ODD);
    awaitSame("public.wide");
    try (Connection s = pipeline.sourceConnection();
        Connection t = pipeline.targetConnection()) {
      // the target computed its own generated column from the copied values
      String q = "SELECT string_agg(\"Id\" || ':' || total, ',' ORDER BY \"Id\") FROM " + ODD;
      assertThat(scalar(t, q)).isEqualTo(scalar(s, q));
    }
  }

  private static io.pgcopy.connect.servers.ConnectRest rest() {
    return pipeline.rest();
  }

  private static void awaitSame(String table) throws SQLException {
    pipeline.awaitSame(table, Duration.ofMinutes(2));
  }

  private static String scalar(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }
}
