package io.pgcopy.connect.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The initial load end to end: three kinds of table, four snapshot tasks, compared row by row. */
class InitialLoadIT {
  @RegisterExtension static final PipelineExtension servers = PipelineExtension.shared();

  private static Pipeline pipeline;

  @BeforeAll
  static void startServers() {
    // the target runs with wal_level=replica: validation must catch a source like that
    pipeline = servers.pipeline();
  }

  @Test
  void copiesKeyedKeylessAndPartitionedTablesWithFourTasks() throws Exception {
    pipeline.source.execute(
        pipeline.sourceDb,
        "CREATE TABLE public.big (id bigint PRIMARY KEY, i integer, t text, n numeric(14,3), ts timestamptz,"
            + " b bytea, j jsonb, u uuid, f boolean, a integer[], v varchar(40) NOT NULL)",
        "INSERT INTO public.big SELECT g,"
            + " CASE WHEN g % 7 = 0 THEN NULL ELSE (g * 31) % 100000 - 50000 END,"
            + " CASE WHEN g % 11 = 0 THEN NULL ELSE 'row ' || g || ' ünïcödé ' || repeat('x', (g % 13)::int) END,"
            + " CASE WHEN g % 5 = 0 THEN NULL ELSE (g * 1.001)::numeric(14,3) END,"
            + " timestamptz '2020-01-01 00:00:00+00' + g * interval '1 second',"
            + " CASE WHEN g % 3 = 0 THEN NULL ELSE decode(md5(g::text), 'hex') END,"
            + " CASE WHEN g % 4 = 0 THEN NULL ELSE jsonb_build_object('g', g, 'even', g % 2 = 0) END,"
            + " md5(g::text)::uuid,"
            + " CASE WHEN g % 6 = 0 THEN NULL ELSE g % 2 = 0 END,"
            + " CASE WHEN g % 9 = 0 THEN NULL ELSE ARRAY[g::int % 1000, NULL, 3] END,"
            + " 'v' || g"
            + " FROM generate_series(1, 1000000) g",
        "CREATE TABLE public.keyless (x integer, y text)",
        // identical rows on purpose: a keyless copy must keep every one of them
        "INSERT INTO public.keyless SELECT g % 1000, CASE WHEN g % 10 = 0 THEN NULL ELSE 'k' || (g % 500) END"
            + " FROM generate_series(1, 60000) g",
        "CREATE TABLE public.parted (id integer NOT NULL, region text NOT NULL, amount numeric, PRIMARY KEY (id, region))"
            + " PARTITION BY LIST (region)",
        "CREATE TABLE public.parted_eu PARTITION OF public.parted FOR VALUES IN ('eu')",
        "CREATE TABLE public.parted_us PARTITION OF public.parted FOR VALUES IN ('us')",
        "CREATE TABLE public.parted_other PARTITION OF public.parted DEFAULT",
        "INSERT INTO public.parted SELECT g, (ARRAY['eu','us','apac','eu'])[g % 4 + 1], g / 7.0"
            + " FROM generate_series(1, 90000) g",
        "CREATE TABLE public.empty_t (id integer PRIMARY KEY)",
        "ANALYZE");

    var rest = pipeline.rest();
    var source =
        pipeline.sourceConfig("it1", "public.big,public.keyless,public.parted,public.empty_t");
    source.put("snapshot.range.pages", "1024");
    rest.putConnector("it1-source", source);
    rest.putConnector("it1-sink", pipeline.sinkConfig("it1"));

    pipeline.awaitSnapshotComplete("it1-source", Duration.ofMinutes(8));
    for (String table : List.of("public.big", "public.keyless", "public.parted")) {
      pipeline.awaitRowCount(table, Duration.ofMinutes(5));
      pipeline.assertSameRows(table);
    }
    try (Connection t = pipeline.targetConnection()) {
      // an empty table is created too: its snapshot's empty batch carries its columns
      Awaitility.await("public.empty_t in the target")
          .atMost(Duration.ofMinutes(1))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> Pipeline.count(t, "public.empty_t") == 0);
      assertThat(primaryKey(t, "public.empty_t")).containsExactly("id");
      assertThat(columnDefinitions(t, "public.big"))
          .isEqualTo(columnDefinitions(pipeline.sourceConnection(), "public.big"));
      assertThat(primaryKey(t, "public.big")).containsExactly("id");
      assertThat(primaryKey(t, "public.parted")).containsExactly("id", "region");
    }
    rest.deleteConnector("it1-source");
    rest.deleteConnector("it1-sink");
  }

  /**
   * A permanent error fails the task at once with the range, the server's message and the way out,
   * instead of a RUNNING task retrying in a tight loop (binary COPY reports it inside the COPY
   * stream). Here a row-level security policy of the connector's role raises an error on every
   * read.
   */
  @Test
  void aPermanentErrorFailsTheSnapshotTaskAfterOneAttempt() throws Exception {
    pipeline.source.execute(
        pipeline.sourceDb,
        "CREATE ROLE policed LOGIN PASSWORD 'policed-secret'",
        "CREATE FUNCTION public.refuse_reads() RETURNS boolean LANGUAGE plpgsql AS"
            + " $$BEGIN RAISE EXCEPTION 'reads of measures are refused by policy'; END$$",
        "CREATE TABLE public.measures (id integer PRIMARY KEY, v text)",
        "INSERT INTO public.measures SELECT g, 'v' || g FROM generate_series(1, 100) g",
        "ALTER TABLE public.measures ENABLE ROW LEVEL SECURITY",
        "CREATE POLICY refuse ON public.measures FOR SELECT TO policed USING (public.refuse_reads())",
        "GRANT SELECT ON public.measures TO policed");
    var rest = pipeline.rest();
    var source = pipeline.sourceConfig("policed", "public.measures");
    source.put("connection.user", "policed");
    source.put("connection.password", "policed-secret");
    source.put("tasks.max", "1");
    rest.putConnector("policed-source", source);
    JsonNode[] status = new JsonNode[1];
    Awaitility.await("the snapshot task to fail")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(500))
        .ignoreExceptions()
        .until(
            () ->
                "FAILED"
                    .equals(
                        (status[0] = rest.status("policed-source"))
                            .path("tasks")
                            .path(0)
                            .path("state")
                            .asText()));
    String trace = status[0].path("tasks").path(0).path("trace").asText();
    assertThat(trace)
        .contains(
            "\"public\".\"measures\" pages [0, end)",
            "refused by policy",
            "SQLState P0001",
            "restart the task");
    Thread.sleep(3000); // a retry loop would go on meanwhile
    long attempts =
        Files.readAllLines(pipeline.source.serverLog()).stream()
            .filter(l -> l.contains("ERROR:  reads of measures are refused by policy"))
            .count();
    assertThat(attempts).as("COPY attempts the source saw").isBetween(1L, 3L);
    rest.deleteConnector("policed-source");
  }

  /**
   * A permanent error in the connector's own planning (here: creating the publication needs the
   * CREATE privilege on the database, which validation does not check) fails the connector at once
   * with the server's message and the way out, instead of retrying.
   */
  @Test
  void aPermanentErrorWhilePlanningFailsTheConnectorAtOnce() throws Exception {
    pipeline.source.execute(
        pipeline.sourceDb,
        "CREATE ROLE streamer LOGIN REPLICATION PASSWORD 'streamer-secret'",
        "CREATE TABLE public.not_owned (id integer PRIMARY KEY)",
        "GRANT SELECT ON public.not_owned TO streamer");
    var rest = pipeline.rest();
    var source = pipeline.sourceConfig("streamer", "public.not_owned");
    source.put("connection.user", "streamer");
    source.put("connection.password", "streamer-secret");
    source.put("snapshot.mode", "initial");
    source.put("slot.name", "streamer_slot");
    source.put("publication.name", "streamer_pub");
    rest.putConnector("streamer-source", source);
    JsonNode[] status = new JsonNode[1];
    Awaitility.await("the connector to fail")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(500))
        .ignoreExceptions()
        .until(
            () ->
                "FAILED"
                    .equals(
                        (status[0] = rest.status("streamer-source"))
                            .path("connector")
                            .path("state")
                            .asText()));
    assertThat(status[0].path("connector").path("trace").asText())
        .contains(
            "planning the snapshot failed",
            "permission denied for database",
            "SQLState 42501",
            "then restart the connector")
        .doesNotContain("streamer-secret");
    assertThat(pipeline.workerLog())
        .doesNotContain(
            "streamer-source: planning the snapshot "
                + "failed: ERROR: permission denied for database src (SQLState 42501); retrying");
    rest.deleteConnector("streamer-source");
  }

  @Test
  void sourceValidationReportsEachProblemOnItsField() {
    pipeline.source.execute(
        pipeline.sourceDb,
        "CREATE ROLE app LOGIN PASSWORD 'right'",
        "CREATE TABLE public.secret (id int)",
        "CREATE TABLE public.visible (id int)",
        "GRANT SELECT ON public.visible TO app");
    pipeline.target.execute("postgres", "CREATE ROLE app LOGIN PASSWORD 'right'");
    var rest = pipeline.rest();
    var good = pipeline.sourceConfig("v", "public.visible");
    good.put("connection.user", "app");
    good.put("connection.password", "right");
    assertThat(Validation.errors(rest.validate(Pipeline.SOURCE_CLASS, good))).isEmpty();

    var unreachable = new java.util.HashMap<>(good);
    unreachable.put("connection.url", "jdbc:postgresql://127.0.0.1:1/src?connectTimeout=3");
    assertThat(
            Validation.errorsOf(
                rest.validate(Pipeline.SOURCE_CLASS, unreachable), "connection.url"))
        .anySatisfy(m -> assertThat(m).contains("cannot connect"));

    var badPassword = new java.util.HashMap<>(good);
    badPassword.put("connection.password", "wrong");
    assertThat(
            Validation.errorsOf(
                rest.validate(Pipeline.SOURCE_CLASS, badPassword), "connection.password"))
        .anySatisfy(m -> assertThat(m).contains("authentication failed"));

    var missingTable = new java.util.HashMap<>(good);
    missingTable.put("table.include.list", "public.visible,public.nope");
    assertThat(
            Validation.errorsOf(
                rest.validate(Pipeline.SOURCE_CLASS, missingTable), "table.include.list"))
        .anySatisfy(m -> assertThat(m).contains("\"public\".\"nope\" does not exist"));

    var hugeBatches = new java.util.HashMap<>(good);
    hugeBatches.put("batch.bytes", String.valueOf(2 << 20));
    assertThat(
            Validation.errorsOf(rest.validate(Pipeline.SOURCE_CLASS, hugeBatches), "batch.bytes"))
        .anySatisfy(
            m -> assertThat(m).contains("does not fit in a Kafka request of 1048576 bytes"));

    var unreadable = new java.util.HashMap<>(good);
    unreadable.put("table.include.list", "public.secret");
    assertThat(
            Validation.errorsOf(
                rest.validate(Pipeline.SOURCE_CLASS, unreadable), "table.include.list"))
        .anySatisfy(m -> assertThat(m).contains("no SELECT privilege on \"public\".\"secret\""));

    var streaming = new java.util.HashMap<>(good);
    streaming.put("snapshot.mode", "initial");
    assertThat(
            Validation.errorsOf(rest.validate(Pipeline.SOURCE_CLASS, streaming), "connection.user"))
        .anySatisfy(m -> assertThat(m).contains("lacks the REPLICATION attribute"));

    pipeline.source.execute(pipeline.sourceDb, "CREATE TABLE public.nokey (a integer)");
    var keyless = new java.util.HashMap<>(streaming);
    keyless.put("table.include.list", "public.nokey");
    assertThat(
            Validation.errorsOf(
                rest.validate(Pipeline.SOURCE_CLASS, keyless), "table.include.list"))
        .anySatisfy(
            m ->
                assertThat(m)
                    .contains("\"public\".\"nokey\" has no primary key")
                    .contains("REPLICA IDENTITY FULL"));

    var walReplica = new java.util.HashMap<>(streaming);
    walReplica.put("connection.url", pipeline.target.jdbcUrl("postgres"));
    walReplica.put("table.include.list", "pg_catalog.pg_class");
    assertThat(
            Validation.errorsOf(rest.validate(Pipeline.SOURCE_CLASS, walReplica), "connection.url"))
        .anySatisfy(m -> assertThat(m).contains("wal_level=replica"));

    var structAsBytes = new java.util.HashMap<>(good);
    structAsBytes.put("record.format", "struct");
    structAsBytes.put("value.converter", "org.apache.kafka.connect.converters.ByteArrayConverter");
    assertThat(
            Validation.errorsOf(
                rest.validate(Pipeline.SOURCE_CLASS, structAsBytes), "value.converter"))
        .anySatisfy(m -> assertThat(m).contains("record.format=struct").contains("JsonConverter"));
    // binary records on a worker's default converters (Kafka's: JSON, SimpleHeaderConverter) would
    // be
    // re-encoded: refused on the converter concerned, whatever the worker says
    var workerConverters = new java.util.HashMap<>(good);
    workerConverters.remove("value.converter");
    workerConverters.put(
        "header.converter", "org.apache.kafka.connect.storage.SimpleHeaderConverter");
    JsonNode refused = rest.validate(Pipeline.SOURCE_CLASS, workerConverters);
    assertThat(Validation.errorsOf(refused, "value.converter"))
        .anySatisfy(
            m -> assertThat(m).contains("record.format=binary").contains("ByteArrayConverter"));
    assertThat(Validation.errorsOf(refused, "header.converter"))
        .anySatisfy(m -> assertThat(m).contains("SimpleHeaderConverter"));
    var sinkWithoutHeaders = pipeline.sinkConfig("v");
    sinkWithoutHeaders.remove("header.converter");
    assertThat(
            Validation.errorsOf(
                rest.validate(Pipeline.SINK_CLASS, sinkWithoutHeaders), "header.converter"))
        .anySatisfy(m -> assertThat(m).contains("binary headers").contains("ByteArrayConverter"));
    var unknownFormat = new java.util.HashMap<>(good);
    unknownFormat.put("record.format", "avro");
    assertThat(
            Validation.errorsOf(
                rest.validate(Pipeline.SOURCE_CLASS, unknownFormat), "record.format"))
        .anySatisfy(m -> assertThat(m).contains("binary, struct"));
  }

  @Test
  void sinkValidationReportsATargetItCannotWrite() {
    pipeline.target.execute(
        pipeline.targetDb,
        "CREATE ROLE reader LOGIN PASSWORD 'pw'",
        "CREATE ROLE frozen LOGIN PASSWORD 'pw' CREATEDB",
        "GRANT CREATE ON SCHEMA public TO frozen",
        "ALTER ROLE frozen SET default_transaction_read_only = on");
    var rest = pipeline.rest();
    var good = pipeline.sinkConfig("v");
    assertThat(Validation.errors(rest.validate(Pipeline.SINK_CLASS, good))).isEmpty();

    // a field its own validator refuses is reported on that field, not as a failed request
    var notBoolean = new java.util.HashMap<>(good);
    notBoolean.put("auto.create", "maybe");
    assertThat(Validation.errorsOf(rest.validate(Pipeline.SINK_CLASS, notBoolean), "auto.create"))
        .anySatisfy(m -> assertThat(m).contains("maybe"));

    var reader = new java.util.HashMap<>(good);
    reader.put("connection.user", "reader");
    reader.put("connection.password", "pw");
    reader.put("offsets.table", "public.reader_offsets");
    assertThat(Validation.errorsOf(rest.validate(Pipeline.SINK_CLASS, reader), "connection.user"))
        .anySatisfy(
            m ->
                assertThat(m)
                    .contains("cannot create the offsets table \"public\".\"reader_offsets\""));
    pipeline.target.execute(pipeline.targetDb, "CREATE TABLE public.reader_offsets (id int)");
    assertThat(Validation.errorsOf(rest.validate(Pipeline.SINK_CLASS, reader), "connection.user"))
        .anySatisfy(
            m -> assertThat(m).contains("cannot SELECT, INSERT and UPDATE the offsets table"));

    var readOnly = new java.util.HashMap<>(reader);
    readOnly.put("connection.user", "frozen");
    assertThat(Validation.errorsOf(rest.validate(Pipeline.SINK_CLASS, readOnly), "connection.url"))
        .anySatisfy(m -> assertThat(m).contains("default_transaction_read_only is on"));

    var badPassword = new java.util.HashMap<>(reader);
    badPassword.put("connection.password", "nope");
    assertThat(
            Validation.errorsOf(
                rest.validate(Pipeline.SINK_CLASS, badPassword), "connection.password"))
        .anySatisfy(m -> assertThat(m).contains("authentication failed"));
  }

  private static List<String> columnDefinitions(Connection c, String table) throws Exception {
    List<String> defs = new ArrayList<>();
    try (Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT attname || ' ' || format_type(atttypid, atttypmod) || CASE WHEN attnotnull THEN ' NOT NULL' ELSE '' END"
                    + " FROM pg_attribute WHERE attrelid = '"
                    + table
                    + "'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum")) {
      while (rs.next()) {
        defs.add(rs.getString(1));
      }
    }
    return defs;
  }

  private static List<String> primaryKey(Connection c, String table) throws Exception {
    List<String> cols = new ArrayList<>();
    try (Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT a.attname FROM pg_index i, unnest(i.indkey) WITH ORDINALITY k(attnum, n)"
                    + " JOIN pg_attribute a ON a.attrelid = '"
                    + table
                    + "'::regclass AND a.attnum = k.attnum"
                    + " WHERE i.indrelid = '"
                    + table
                    + "'::regclass AND i.indisprimary ORDER BY k.n")) {
      while (rs.next()) {
        cols.add(rs.getString(1));
      }
    }
    return cols;
  }
}
