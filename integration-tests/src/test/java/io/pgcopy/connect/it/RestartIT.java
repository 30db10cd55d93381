package io.pgcopy.connect.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgcopy.connect.servers.PostgresServer;
import java.io.IOException;
import java.sql.Connection;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Restarts in the middle of the work. The first two tables are keyless, so a row sent twice shows
 * up as a duplicate in the row-by-row comparison instead of being absorbed by a primary key; the
 * third is keyed, read without a stream under two snapshots.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RestartIT {
  @RegisterExtension static final PipelineExtension servers = PipelineExtension.own("logical");

  private static Pipeline pipeline;

  @BeforeAll
  static void startServers() {
    pipeline = servers.pipeline();
  }

  @Test
  @Order(1)
  void snapshotTaskRestartedMidRangeResumesWithoutDuplicates() throws Exception {
    pipeline.source.execute(
        pipeline.sourceDb,
        "CREATE TABLE public.events (n integer, payload text)",
        "INSERT INTO public.events SELECT g, 'event ' || g FROM generate_series(1, 120000) g");
    var rest = pipeline.rest();
    var source = pipeline.sourceConfig("rs1", "public.events");
    source.put("tasks.max", "1");
    source.put("snapshot.range.pages", "100000"); // one range: the restart lands inside it
    // many small batches and transactions: slow enough to interrupt
    source.put("batch.max.rows", "50");
    source.put("batch.bytes", "1024");
    rest.putConnector("rs1-source", source);
    rest.putConnector("rs1-sink", pipeline.sinkConfig("rs1"));

    // wait until part of the range went through Kafka into the target (the REST offsets view is
    // not used: it can lag behind what the worker itself committed)
    try (Connection t = pipeline.targetConnection()) {
      Awaitility.await("part of the range in the target")
          .atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> Pipeline.count(t, "public.events") >= 30000);
    }
    rest.restartTask("rs1-source", 0);

    pipeline.awaitSnapshotComplete("rs1-source", Duration.ofMinutes(5));
    pipeline.awaitRowCount("public.events", Duration.ofMinutes(3));
    pipeline.assertSameRows("public.events");
    assertThat(pipeline.workerLog())
        .contains("resuming \"public\".\"events\" pages [0, end) after row (");
    rest.deleteConnector("rs1-source");
    rest.deleteConnector("rs1-sink");
  }

  /**
   * The whole worker is SIGKILLed while the snapshot is being read and the sink applies it. The
   * restarted worker finds the source offsets committed before (ranges done, and the last row of
   * each range in progress) and the sink's offsets stored in the target: the keyless target ends up
   * equal to the source, without a row lost or repeated.
   */
  @Test
  @Order(2)
  void workerKilledMidSnapshotResumesSourceAndSinkWithoutDuplicates() throws Exception {
    pipeline.source.execute(
        pipeline.sourceDb,
        "CREATE TABLE public.ledger (account integer, amount numeric, note text)",
        "INSERT INTO public.ledger SELECT g % 5000, g / 3.0, CASE WHEN g % 4 = 0 THEN NULL ELSE 'n' || g END"
            + " FROM generate_series(1, 200000) g");
    var rest = pipeline.rest();
    var source = pipeline.sourceConfig("rs2", "public.ledger");
    source.put("tasks.max", "2");
    source.put("snapshot.range.pages", "150");
    // small polls (one Kafka transaction each) keep the snapshot going for tens of seconds
    source.put("batch.max.rows", "100");
    source.put("batch.bytes", "1024");
    rest.putConnector("rs2-source", source);

    var sink = pipeline.sinkConfig("rs2");
    sink.put("batch.max.rows", "5000");
    sink.put("consumer.override.max.poll.records", "1000");
    rest.putConnector("rs2-sink", sink);
    try (Connection t = pipeline.targetConnection()) {
      // the kill lands once some ranges are done and the sink has applied part of the table
      Awaitility.await("some ranges done and part of the table in the target")
          .atMost(Duration.ofMinutes(3))
          .pollInterval(Duration.ofMillis(50))
          .until(
              () ->
                  finishedRanges("rs2-source-task") >= 2
                      && Pipeline.count(t, "public.ledger") >= 20000);
      // SIGKILL: no offset flush, an open Kafka transaction, rows committed in the target ahead
      // of Kafka's consumer offsets
      pipeline.worker.kill();
      assertThat(finishedRanges("rs2-source-task"))
          .as("the kill must land mid-snapshot")
          .isLessThan(9);
      assertThat(Pipeline.count(t, "public.ledger"))
          .as("the kill must land mid-apply")
          .isLessThan(200000);
    }
    pipeline.worker.start();

    pipeline.awaitSnapshotComplete("rs2-source", Duration.ofMinutes(5));
    pipeline.awaitRowCount("public.ledger", Duration.ofMinutes(3));
    Thread.sleep(3000); // let anything applied twice arrive before comparing
    pipeline.assertSameRows("public.ledger");
    String log = pipeline.workerLog();
    // the restarted source did not start over: it skipped finished ranges or resumed one mid-way
    assertThat(log)
        .containsPattern("resuming under a new snapshot|resuming \"public\".\"ledger\" pages");
    assertThat(log).containsPattern("rewound [1-9]\\d* to offsets stored in");
  }

  /**
   * Without a stream ({@code initial_only}) nothing replays what changed between two snapshots:
   * when the session holding the exported snapshot is terminated mid-snapshot, a keyed table whose
   * ranges were begun under the old one is read again whole under the new one, after a truncate
   * entry in every key bucket. Rows deleted and updated, between the snapshots, in a range finished
   * under the old one would stay in the target as they were if it were not.
   */
  @Test
  @Order(3)
  void aKeyedTableWithoutAStreamIsReadAgainWholeWhenItsSnapshotIsLost() throws Exception {
    pipeline.source.execute(
        pipeline.sourceDb,
        "CREATE TABLE public.accounts (id integer PRIMARY KEY, balance integer, note text)",
        "INSERT INTO public.accounts SELECT g, g % 1000, 'note ' || g FROM generate_series(1, 100000) g");
    var rest = pipeline.rest();
    var source = pipeline.sourceConfig("rs3", "public.accounts");
    source.put("tasks.max", "2");
    source.put("snapshot.range.pages", "50");
    source.put("batch.max.rows", "100");
    source.put("batch.bytes", "1024");
    rest.putConnector("rs3-source", source);
    rest.putConnector("rs3-sink", pipeline.sinkConfig("rs3"));

    Pattern finished =
        Pattern.compile(
            "rs3-source-task: finished \"public\"\\.\"accounts\" pages \\[(\\d+), (\\d+)\\)");
    Matcher[] first = new Matcher[1];
    Awaitility.await("a range of public.accounts finished")
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              Matcher m = finished.matcher(pipeline.workerLog());
              first[0] = m.find() ? m : null;
              return first[0] != null;
            });
    String inRange =
        "ctid >= '(" + first[0].group(1) + ",0)' AND ctid < '(" + first[0].group(2) + ",0)'";
    // between the snapshots: changes to rows the old snapshot already sent
    pipeline.source.execute(
        pipeline.sourceDb,
        "DELETE FROM public.accounts WHERE " + inRange + " AND id % 3 = 0",
        "UPDATE public.accounts SET balance = -1 WHERE " + inRange + " AND id % 3 = 1",
        "INSERT INTO public.accounts SELECT g, 7, 'new' FROM generate_series(100001, 100500) g");
    long done = finished.matcher(pipeline.workerLog()).results().count();
    pipeline.source.execute(
        "postgres",
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            + " WHERE application_name = 'pgcopy-source snapshot'");
    Matcher planned =
        Pattern.compile("rs3-source: planned (\\d+) ranges").matcher(pipeline.workerLog());
    assertThat(planned.find()).isTrue();
    assertThat(done)
        .as("the snapshot must be lost mid-snapshot")
        .isLessThan(Long.parseLong(planned.group(1)));

    pipeline.awaitSnapshotComplete("rs3-source", Duration.ofMinutes(5));
    pipeline.awaitSame("public.accounts", Duration.ofMinutes(3));
    assertThat(pipeline.workerLog())
        .contains(
            "[\"public\".\"accounts\"] are read again whole (their target rows removed first)")
        .contains("truncate of \"public\".\"accounts\" done");
    rest.deleteConnector("rs3-source");
    rest.deleteConnector("rs3-sink");
  }

  /**
   * The worker is SIGKILLed while the sink builds a table's post-data after the load (an index
   * whose expression takes a while per row): the restarted worker builds what is missing, and the
   * target's table (made by the sink: columns, then the serial's sequence, defaults, check, primary
   * key and indexes) dumps exactly as the source's.
   */
  @Test
  @Order(4)
  void workerKilledDuringThePostDataBuildsEndsWithEveryIndex() throws Exception {
    String slow =
        "CREATE FUNCTION public.slow_key(i integer) RETURNS integer LANGUAGE sql IMMUTABLE"
            + " AS 'SELECT i FROM pg_sleep(0.0005)'";
    pipeline.target.execute(pipeline.targetDb, slow);
    pipeline.source.execute(
        pipeline.sourceDb,
        slow,
        "CREATE TABLE public.catalog (id serial PRIMARY KEY, code text NOT NULL DEFAULT 'none',"
            + " price integer CHECK (price >= 0), added date DEFAULT current_date)",
        "INSERT INTO public.catalog (code, price) SELECT 'c' || g, g % 500"
            + " FROM generate_series(1, 8000) g",
        "CREATE UNIQUE INDEX catalog_code_key ON public.catalog (code)",
        "CREATE INDEX catalog_slow_idx ON public.catalog (public.slow_key(price))",
        "CREATE INDEX catalog_cheap_idx ON public.catalog (price) WHERE price > 400");
    var rest = pipeline.rest();
    rest.putConnector("rs4-source", pipeline.sourceConfig("rs4", "public.catalog"));
    rest.putConnector("rs4-sink", pipeline.sinkConfig("rs4"));
    // any sink writing to this target database may build it (they share the offsets table)
    Awaitility.await("a sink building the post-data of public.catalog")
        .atMost(Duration.ofMinutes(3))
        .pollInterval(Duration.ofMillis(50))
        .until(
            () ->
                pipeline.workerLog().contains("building the post-data of \"public\".\"catalog\""));
    Thread.sleep(300); // into the slow index's build
    pipeline.worker.kill();
    assertThat(pipeline.workerLog())
        .as("the kill must land before the builds are done")
        .doesNotContain("built the post-data of \"public\".\"catalog\"");
    pipeline.worker.start();

    pipeline.awaitSame("public.catalog", Duration.ofMinutes(3));
    Awaitility.await("the target's public.catalog to dump as the source's")
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofSeconds(1))
        .until(
            () ->
                catalogSchema(pipeline.target, pipeline.targetDb)
                    .equals(catalogSchema(pipeline.source, pipeline.sourceDb)));
    assertThat(pipeline.workerLog()).contains("built the post-data of \"public\".\"catalog\"");
    // an insert through the serial takes a value the copied rows do not have
    pipeline.target.execute(pipeline.targetDb, "INSERT INTO public.catalog (code) VALUES ('new')");
  }

  private static String catalogSchema(PostgresServer server, String db) {
    return Pipeline.schemaDump(server, db, "--table=public.catalog");
  }

  /** Snapshot ranges the tasks of the current worker log as finished. */
  private static long finishedRanges(String taskName) throws IOException {
    return pipeline.workerLog().lines().filter(l -> l.contains(taskName + ": finished ")).count();
  }
}
