package io.pgcopy.connect.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgcopy.connect.format.Operation;
import io.pgcopy.connect.format.RecordHeaders;
import io.pgcopy.connect.format.RowBatch;
import io.pgcopy.connect.format.RowBatchReader;
import io.pgcopy.connect.format.Tuples;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Snapshot, then change data capture, on the real servers: pgbench writes during the snapshot and
 * after it, the stream task is restarted and the whole worker killed while it writes, and the
 * target must end equal to the source, row by row. Then TOAST, truncate, added columns, streamed
 * large transactions (committed and aborted) and the heartbeat, on the same running pipeline.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ChangeDataCaptureIT {
  private static final List<String> PGBENCH_TABLES =
      List.of(
          "public.pgbench_accounts",
          "public.pgbench_branches",
          "public.pgbench_tellers",
          "public.pgbench_history");
  @RegisterExtension static final PipelineExtension servers = PipelineExtension.own("replica");

  private static Pipeline pipeline;

  @BeforeAll
  static void startPipeline() {
    pipeline = servers.pipeline();
    pipeline.source.runTool("pgbench", List.of("-i", "-s", "5", "-q", pipeline.sourceDb));
    pipeline.source.execute(
        pipeline.sourceDb,
        // keyless: every change of it carries the whole old row
        "ALTER TABLE public.pgbench_history REPLICA IDENTITY FULL",
        "CREATE TABLE public.docs (id integer PRIMARY KEY, note text, body bytea)",
        "ALTER TABLE public.docs ALTER COLUMN body SET STORAGE EXTERNAL",
        "CREATE TABLE public.misc (id bigint PRIMARY KEY, v text)",
        "INSERT INTO public.misc SELECT g, 'v' || g FROM generate_series(1, 1000) g",
        "CREATE TABLE public.noise (n integer)");
  }

  private static void awaitSame(String table, Duration timeout) throws SQLException {
    pipeline.awaitSame(table, timeout);
  }

  @Test
  @Order(1)
  void pgbenchDuringAndAfterTheSnapshotThroughRestartsAndAKill() throws Exception {
    var rest = pipeline.rest();
    var source =
        pipeline.sourceConfig("cdc", String.join(",", PGBENCH_TABLES) + ",public.docs,public.misc");
    source.put("snapshot.mode", "initial");
    source.put("snapshot.range.pages", "1000");
    source.put("heartbeat.interval.ms", "1000");
    source.put("slot.name", "cdc_slot");
    source.put("publication.name", "cdc_pub");
    // the 1 MB document of the TOAST test, with its headers, exceeds Kafka's default 1 MB request
    source.put("producer.override.max.request.size", "16777216");
    var validation = rest.validate(Pipeline.SOURCE_CLASS, source);
    assertThat(validation.path("error_count").asInt()).as(validation.toString()).isZero();
    Process pgbench =
        pipeline.source.startTool(
            "pgbench", List.of("-c", "4", "-j", "2", "-T", "75", "-n", pipeline.sourceDb));
    rest.putConnector("cdc-source", source);
    rest.putConnector("cdc-sink", pipeline.sinkConfig("cdc"));

    // the snapshot completes under load and the connector hands over to the stream task
    Awaitility.await("the stream task")
        .atMost(Duration.ofMinutes(3))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> pipeline.workerLog().contains("cdc-source-stream: streaming slot"));
    Thread.sleep(5000);
    rest.restartTask("cdc-source", 0);
    Thread.sleep(10000);
    pipeline.worker.kill();
    Thread.sleep(2000);
    pipeline.worker.start();
    assertThat(pgbench.waitFor(3, TimeUnit.MINUTES)).as("pgbench finished").isTrue();
    assertThat(pgbench.exitValue()).as("pgbench exit code").isZero();

    for (String table : PGBENCH_TABLES) {
      awaitSame(table, Duration.ofMinutes(4));
    }
    String log = pipeline.workerLog();
    assertThat(log).contains("cdc-source-stream: resuming the stream after change");

    // the metrics an operator watches, over JMX
    String stream = "io.pgcopy.connect:type=source-task,connector=\"cdc-source\",task=0";
    assertThat(pipeline.worker.jmxAttribute(stream, "Phase")).isEqualTo("stream");
    assertThat((Long) pipeline.worker.jmxAttribute(stream, "Records")).isPositive();
    assertThat((String) pipeline.worker.jmxAttribute(stream, "ConfirmedLsn")).contains("/");
    assertThat((Long) pipeline.worker.jmxAttribute(stream, "StreamLagMillis"))
        .isGreaterThanOrEqualTo(0);
    long sinkRows = 0;
    for (int task = 0; task < 2; task++) {
      sinkRows +=
          (Long)
              pipeline.worker.jmxAttribute(
                  "io.pgcopy.connect:type=sink-task,connector=\"cdc-sink\",task=" + task,
                  "RowsWritten");
    }
    assertThat(sinkRows).isPositive();
  }

  @Test
  @Order(2)
  void updateThatLeavesAToastedValueAloneKeepsIt() throws Exception {
    pipeline.source.execute(
        pipeline.sourceDb,
        // 1 MB that does not compress: stored out of line, and not sent by an update that leaves it
        // alone
        "INSERT INTO public.docs SELECT 1, 'first', string_agg(decode(md5(g::text), 'hex'), '') FROM generate_series(1, 65536) g");
    awaitSame("public.docs", Duration.ofMinutes(2));
    pipeline.source.execute(
        pipeline.sourceDb, "UPDATE public.docs SET note = 'second' WHERE id = 1");
    try (Connection t = pipeline.targetConnection()) {
      Awaitility.await("the update in the target")
          .atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofMillis(500))
          .until(
              () -> "second".equals(queryString(t, "SELECT note FROM public.docs WHERE id = 1")));
      assertThat(queryString(t, "SELECT length(body) FROM public.docs WHERE id = 1"))
          .isEqualTo("1048576");
    }
    awaitSame("public.docs", Duration.ofMinutes(1));
  }

  @Test
  @Order(3)
  void addedColumnAndTruncatePropagate() throws Exception {
    pipeline.source.execute(
        pipeline.sourceDb,
        "ALTER TABLE public.misc ADD COLUMN added numeric(10,2) DEFAULT 1.25",
        "UPDATE public.misc SET v = v || '!' WHERE id % 10 = 0",
        "INSERT INTO public.misc VALUES (5000, 'new', 2.50)",
        "DELETE FROM public.misc WHERE id % 7 = 0");
    awaitSame("public.misc", Duration.ofMinutes(2));
    try (Connection t = pipeline.targetConnection()) {
      assertThat(
              queryString(
                  t,
                  "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
                      + " WHERE attrelid = 'public.misc'::regclass AND attname = 'added'"))
          .isEqualTo("numeric(10,2)");
    }
    pipeline.source.execute(pipeline.sourceDb, "TRUNCATE public.misc");
    try (Connection t = pipeline.targetConnection()) {
      Awaitility.await("the truncate in the target")
          .atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> Pipeline.count(t, "public.misc") == 0);
    }
    pipeline.source.execute(
        pipeline.sourceDb, "INSERT INTO public.misc VALUES (1, 'after truncate', 3.00)");
    awaitSame("public.misc", Duration.ofMinutes(2));
  }

  /**
   * A keyed table's rows are spread over several partitions (key buckets); truncates come while
   * other keys keep changing. Rows written before a truncate must be gone from the target whatever
   * partition they are in, rows written after it must stay. Then the topic, read by a plain
   * consumer through the public {@link RowBatchReader}, holds the last truncate in every partition,
   * and replaying what follows it gives the source's rows.
   */
  @Test
  @Order(3)
  void truncateOfAKeyedTableOnEveryPartitionWhileOtherKeysChange() throws Exception {
    Random random = new Random(11);
    int truncates = 0;
    try (Connection s = pipeline.sourceConnection();
        Statement st = s.createStatement()) {
      for (int i = 1; i <= 1500; i++) {
        int id = 1 + random.nextInt(3000);
        if (i % 400 == 0 || i == 1300) {
          st.execute("TRUNCATE public.misc");
          truncates++;
        } else if (random.nextInt(5) == 0) {
          st.execute("DELETE FROM public.misc WHERE id = " + id);
        } else {
          st.execute(
              "INSERT INTO public.misc (id, v) VALUES ("
                  + id
                  + ", 'w"
                  + i
                  + "') ON CONFLICT (id) DO UPDATE SET v"
                  + " = EXCLUDED.v");
        }
      }
    }
    assertThat(truncates).isEqualTo(4);
    awaitSame("public.misc", Duration.ofMinutes(2));

    Map<Integer, List<Object[]>> entries = new HashMap<>();
    try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
      String topic = "cdc.public.misc";
      var partitions =
          consumer.partitionsFor(topic).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      assertThat(partitions).hasSizeGreaterThan(1);
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofSeconds(1))) {
          byte op = r.headers().lastHeader(RecordHeaders.OPERATION).value()[0];
          if (!RowBatch.isBatch(op)) {
            continue; // the table's post-data: no rows
          }
          RowBatchReader rows = RowBatchReader.of(op, r.value());
          while (rows.next()) {
            List<Object[]> list = entries.computeIfAbsent(r.partition(), p -> new ArrayList<>());
            if (rows.operation() == Operation.TRUNCATE) {
              list.add(
                  new Object[] {
                    Operation.TRUNCATE, rows.commitLsn() * 100_000 + rows.truncateSeq(), null
                  });
            } else {
              byte[][] values =
                  Tuples.values(
                      rows.operation() == Operation.DELETE ? rows.oldTuple() : rows.newTuple());
              long id = ByteBuffer.wrap(values[0]).getLong();
              String v =
                  values.length > 1 && values[1] != null
                      ? new String(values[1], StandardCharsets.UTF_8)
                      : null;
              list.add(new Object[] {rows.operation(), id, v});
            }
          }
        }
      }
    }
    long lastTruncate =
        entries.values().stream()
            .flatMap(List::stream)
            .filter(e -> e[0] == Operation.TRUNCATE)
            .mapToLong(e -> (Long) e[1])
            .max()
            .orElseThrow();
    Map<Long, String> replayed = new TreeMap<>();
    for (var e : entries.entrySet()) {
      List<Object[]> list = e.getValue();
      int at = -1;
      for (int i = 0; i < list.size(); i++) {
        if (list.get(i)[0] == Operation.TRUNCATE && (Long) list.get(i)[1] == lastTruncate) {
          at = i;
        }
      }
      assertThat(at).as("the last truncate in partition " + e.getKey()).isNotNegative();
      for (Object[] entry : list.subList(at + 1, list.size())) {
        if (entry[0] == Operation.DELETE) {
          replayed.remove((Long) entry[1]);
        } else if (entry[0] != Operation.TRUNCATE) {
          replayed.put((Long) entry[1], (String) entry[2]);
        }
      }
    }
    assertThat(entries.keySet()).as("partitions with rows of the table").hasSizeGreaterThan(1);
    Map<Long, String> source = new TreeMap<>();
    try (Connection s = pipeline.sourceConnection();
        Statement st = s.createStatement();
        ResultSet rs = st.executeQuery("SELECT id, v FROM public.misc")) {
      while (rs.next()) {
        source.put(rs.getLong(1), rs.getString(2));
      }
    }
    assertThat(source).isNotEmpty();
    assertThat(replayed).isEqualTo(source);
  }

  private static KafkaConsumer<byte[], byte[]> consumer() {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, pipeline.broker.bootstrapServers());
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  @Test
  @Order(4)
  void largeTransactionsStreamAndOnlyWhatCommitsArrives() throws Exception {
    pipeline.source.execute(
        pipeline.sourceDb,
        "ALTER SYSTEM SET logical_decoding_work_mem = '64kB'",
        "SELECT pg_reload_conf()");
    try {
      try (Connection c = pipeline.sourceConnection();
          Statement st = c.createStatement()) {
        c.setAutoCommit(false);
        st.execute(
            "INSERT INTO public.misc SELECT g, 'big ' || g, g FROM generate_series(100000, 130000) g");
        st.execute("SAVEPOINT s");
        st.execute(
            "INSERT INTO public.misc SELECT g, 'rolled back', 0 FROM generate_series(200000, 230000) g");
        st.execute("ROLLBACK TO SAVEPOINT s");
        st.execute(
            "UPDATE public.misc SET v = 'updated in big' WHERE id BETWEEN 100000 AND 100100");
        c.commit();
        st.execute(
            "INSERT INTO public.misc SELECT g, 'aborted', 0 FROM generate_series(300000, 330000) g");
        c.rollback();
      }
      awaitSame("public.misc", Duration.ofMinutes(3));
    } finally {
      pipeline.source.execute(
          pipeline.sourceDb,
          "ALTER SYSTEM RESET logical_decoding_work_mem",
          "SELECT pg_reload_conf()");
    }
    try (Connection s = pipeline.sourceConnection()) {
      // the server did stream: the slot's statistics count streamed transactions
      assertThat(
              Long.parseLong(
                  queryString(
                      s,
                      "SELECT stream_txns FROM pg_stat_replication_slots"
                          + " WHERE slot_name = 'cdc_slot'")))
          .isPositive();
    }
  }

  @Test
  @Order(5)
  void heartbeatMovesTheSlotWhilePublishedTablesAreIdle() throws Exception {
    try (Connection s = pipeline.sourceConnection()) {
      String before =
          queryString(
              s,
              "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'cdc_slot'");
      // writes only to a table outside the publication
      for (int i = 0; i < 20; i++) {
        pipeline.source.execute(
            pipeline.sourceDb, "INSERT INTO public.noise SELECT g FROM generate_series(1, 5000) g");
      }
      String written = queryString(s, "SELECT pg_current_wal_lsn()");
      Awaitility.await("confirmed_flush_lsn past " + written + " (was " + before + ")")
          .atMost(Duration.ofMinutes(1))
          .pollInterval(Duration.ofMillis(500))
          .until(
              () ->
                  "t"
                      .equals(
                          queryString(
                              s,
                              "SELECT confirmed_flush_lsn >= '"
                                  + written
                                  + "'::pg_lsn FROM pg_replication_slots WHERE slot_name = 'cdc_slot'")));
    }
    assertThat(pipeline.workerLog()).containsPattern("slot cdc_slot retains \\d+ MB of WAL");
  }

  /** snapshot.mode=never: no snapshot, only what changes once the slot exists. */
  @Test
  @Order(6)
  void neverModeStreamsOnlyChangesMadeAfterTheSlotExists() throws Exception {
    pipeline.source.execute(
        pipeline.sourceDb,
        "CREATE TABLE public.later (id integer PRIMARY KEY, v text)",
        "INSERT INTO public.later VALUES (1, 'before the slot')");
    var source = pipeline.sourceConfig("nev", "public.later");
    source.put("snapshot.mode", "never");
    source.put("slot.name", "never_slot");
    source.put("publication.name", "never_pub");
    pipeline.rest().putConnector("nev-source", source);
    pipeline.rest().putConnector("nev-sink", pipeline.sinkConfig("nev"));
    Awaitility.await("the stream task")
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> pipeline.workerLog().contains("nev-source-stream: streaming slot"));
    pipeline.source.execute(
        pipeline.sourceDb,
        "INSERT INTO public.later VALUES (2, 'after'), (3, 'after')",
        "UPDATE public.later SET v = 'updated' WHERE id IN (1, 3)");
    try (Connection t = pipeline.targetConnection()) {
      Awaitility.await("the changes in the target")
          .atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofMillis(500))
          .ignoreExceptions()
          .until(
              () ->
                  "1:updated,2:after,3:updated"
                      .equals(
                          queryString(
                              t,
                              "SELECT string_agg(id || ':' || v, ',' ORDER BY id) FROM public.later")));
    }
  }

  /**
   * A column of a type without binary I/O added while the stream runs in binary mode: the stream
   * task fails at once, naming the table and saying to restart the connector (never a RUNNING task
   * that loops); restarted, the connector plans the table as text, streams in text mode, and the
   * target converges, the new column included.
   */
  @Test
  @Order(7)
  void aColumnWithoutBinaryIoAddedWhileStreamingFailsTheTaskUntilTheConnectorRestarts()
      throws Exception {
    String[] seg = {"CREATE EXTENSION IF NOT EXISTS seg"};
    pipeline.source.execute(pipeline.sourceDb, seg);
    pipeline.target.execute(pipeline.targetDb, seg);
    pipeline.source.execute(
        pipeline.sourceDb,
        "CREATE TABLE public.grows (id integer PRIMARY KEY, v text)",
        "INSERT INTO public.grows SELECT g, 'v' || g FROM generate_series(1, 100) g");
    var rest = pipeline.rest();
    var source = pipeline.sourceConfig("grow", "public.grows");
    source.put("snapshot.mode", "initial");
    source.put("slot.name", "grow_slot");
    source.put("publication.name", "grow_pub");
    rest.putConnector("grow-source", source);
    rest.putConnector("grow-sink", pipeline.sinkConfig("grow"));
    awaitSame("public.grows", Duration.ofMinutes(2));
    Awaitility.await("the stream task")
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> pipeline.workerLog().contains("grow-source-stream: streaming slot"));
    pipeline.source.execute(
        pipeline.sourceDb,
        "ALTER TABLE public.grows ADD COLUMN s seg",
        "INSERT INTO public.grows VALUES (101, 'with seg', '1 .. 2')",
        "UPDATE public.grows SET s = '3 .. 4' WHERE id <= 10");
    Awaitility.await("the stream task to fail")
        .atMost(Duration.ofMinutes(1))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () ->
                "FAILED"
                    .equals(
                        rest.status("grow-source").path("tasks").path(0).path("state").asText()));
    assertThat(rest.status("grow-source").path("tasks").path(0).path("trace").asText())
        .contains("\"public\".\"grows\"", "came in text format", "restart the connector");
    rest.restartConnector("grow-source");
    awaitSame("public.grows", Duration.ofMinutes(2));
    assertThat(pipeline.workerLog()).contains("\"public\".\"grows\" travels as text");
  }

  /**
   * Tables added to a streaming connector's list get their existing rows: a keyed table large
   * enough for many ranges and a keyless one with duplicate rows, under writes to every table
   * throughout (before, during and after the change). The stream waits while they are read under a
   * new snapshot, then resumes: every table equals its source row by row. Then a table taken out of
   * the list leaves the publication and its topic receives nothing more.
   */
  @Test
  @Order(8)
  void tablesAddedToAStreamingConnectorGetTheirRowsAndARemovedOneStops() throws Exception {
    pipeline.source.execute(
        pipeline.sourceDb,
        "CREATE TABLE public.first (id integer PRIMARY KEY, v text)",
        "INSERT INTO public.first SELECT g, 'v' || g FROM generate_series(1, 500) g",
        "CREATE TABLE public.added_big (id integer PRIMARY KEY, v text, n integer)",
        "INSERT INTO public.added_big SELECT g, repeat('x', 50) || g, g % 100 FROM generate_series(1, 20000) g",
        "CREATE TABLE public.added_keyless (v text, n integer)",
        "ALTER TABLE public.added_keyless REPLICA IDENTITY FULL",
        "INSERT INTO public.added_keyless SELECT 'dup ' || (g % 50), g % 10 FROM generate_series(1, 3000) g");
    var rest = pipeline.rest();
    var source = pipeline.sourceConfig("chg", "public.first");
    source.put("snapshot.mode", "initial");
    source.put("slot.name", "chg_slot");
    source.put("publication.name", "chg_pub");
    source.put("snapshot.range.pages", "16"); // added_big: 16 ranges
    source.put("batch.bytes", "4096");
    rest.putConnector("chg-source", source);
    rest.putConnector("chg-sink", pipeline.sinkConfig("chg"));
    awaitSame("public.first", Duration.ofMinutes(2));
    Awaitility.await("the stream task")
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> pipeline.workerLog().contains("chg-source-stream: streaming slot chg_slot"));

    long seed = System.nanoTime();
    System.out.println("ChangeDataCaptureIT writer seed " + seed);
    Writer writer = new Writer(seed, "public.first", "public.added_big", "public.added_keyless");
    writer.start();
    try {
      Thread.sleep(3000);
      source.put("table.include.list", "public.first,public.added_big,public.added_keyless");
      rest.putConnector("chg-source", source);
      Awaitility.await("the added tables' snapshot and the stream after it")
          .atMost(Duration.ofMinutes(3))
          .pollInterval(Duration.ofMillis(500))
          .until(
              () ->
                  pipeline
                      .workerLog()
                      .contains(
                          "chg-source-stream: streaming \"public\".\"added_big\",\"public\".\"added_keyless\","
                              + "\"public\".\"first\""));
      Thread.sleep(5000);
    } finally {
      writer.stopAndJoin();
    }
    assertThat(writer.statements).as("writes during the change").isGreaterThan(20);
    assertThat(pipeline.workerLog())
        .contains(
            "chg-source: [\"public\".\"added_big\", "
                + "\"public\".\"added_keyless\"] added since the stream started");
    for (String table : List.of("public.first", "public.added_big", "public.added_keyless")) {
      awaitSame(table, Duration.ofMinutes(3));
    }

    // re-snapshot on demand of target tables damaged by hand, in commit order, under writes
    pipeline.target.execute(
        pipeline.targetDb,
        "TRUNCATE public.added_big",
        "DELETE FROM public.added_keyless WHERE ctid IN (SELECT ctid FROM public.added_keyless LIMIT 1000)");
    Writer again = new Writer(seed + 1, "public.first", "public.added_big", "public.added_keyless");
    again.start();
    try {
      Thread.sleep(1000);
      pipeline.source.execute(
          pipeline.sourceDb,
          "SELECT pg_logical_emit_message(true, 'pgcopy.snapshot', 'public.added_big,public.added_keyless')");
      Awaitility.await("the tables read again and the stream after it")
          .atMost(Duration.ofMinutes(3))
          .pollInterval(Duration.ofMillis(500))
          .until(
              () ->
                  pipeline
                      .workerLog()
                      .contains(
                          "chg-source: the stream asks to read [\"public\".\"added_big\", \"public\".\"added_keyless\"]"
                              + " again"));
      Thread.sleep(8000);
    } finally {
      again.stopAndJoin();
    }
    for (String table : List.of("public.first", "public.added_big", "public.added_keyless")) {
      awaitSame(table, Duration.ofMinutes(3));
    }

    // removed: out of the publication, nothing more on its topic
    source.put("table.include.list", "public.first,public.added_big");
    rest.putConnector("chg-source", source);
    Awaitility.await("the stream task without the removed table")
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () ->
                pipeline
                    .workerLog()
                    .contains(
                        "chg-source-stream: streaming \"public\".\"added_big\",\"public\".\"first\""));
    try (Connection s = pipeline.sourceConnection()) {
      assertThat(
              queryString(
                  s,
                  "SELECT count(*) FROM pg_publication_tables WHERE pubname = 'chg_pub'"
                      + " AND tablename = 'added_keyless'"))
          .isEqualTo("0");
    }
    long before = endOffsets("chg.public.added_keyless");
    pipeline.source.execute(
        pipeline.sourceDb,
        "INSERT INTO public.added_keyless VALUES ('after removal', -1)",
        // the writer may have deleted any row of first: an upsert always changes one
        "INSERT INTO public.first VALUES (1, 'after removal') ON CONFLICT (id) DO UPDATE SET v = 'after removal'");
    try (Connection t = pipeline.targetConnection()) {
      Awaitility.await("a change after the removal")
          .atMost(Duration.ofMinutes(1))
          .pollInterval(Duration.ofMillis(500))
          .until(
              () ->
                  "after removal"
                      .equals(queryString(t, "SELECT v FROM public.first WHERE id = 1")));
    }
    assertThat(endOffsets("chg.public.added_keyless")).isEqualTo(before);
  }

  /**
   * Columns dropped and renamed on the source under writes: the target keeps a dropped column with
   * its values (made nullable, so new rows can be written) and gets a renamed one as a new column,
   * nothing is written into a wrong column, and the target equals the source on the source's
   * columns once the table is read again (pgcopy.snapshot). A retyped column stops the sink with a
   * message naming the way out, and nothing is written into it.
   */
  @Test
  @Order(9)
  void droppedRenamedAndRetypedColumnsBehaveAsDocumented() throws Exception {
    pipeline.source.execute(
        pipeline.sourceDb,
        "CREATE TABLE public.evo (id integer PRIMARY KEY, a integer NOT NULL, b text NOT NULL DEFAULT 'd', c integer)",
        "INSERT INTO public.evo SELECT g, g, 'b' || g, g * 10 FROM generate_series(1, 2000) g");
    var rest = pipeline.rest();
    var source = pipeline.sourceConfig("evo", "public.evo");
    source.put("snapshot.mode", "initial");
    source.put("slot.name", "evo_slot");
    source.put("publication.name", "evo_pub");
    rest.putConnector("evo-source", source);
    rest.putConnector("evo-sink", pipeline.sinkConfig("evo"));
    awaitSame("public.evo", Duration.ofMinutes(2));
    Awaitility.await("the stream task")
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> pipeline.workerLog().contains("evo-source-stream: streaming slot evo_slot"));
    // b gets the source's default from the post-data step, before the source drops it
    Awaitility.await("the post-data of public.evo")
        .atMost(Duration.ofMinutes(1))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> pipeline.workerLog().contains("built the post-data of \"public\".\"evo\""));
    long seed = System.nanoTime();
    System.out.println("ChangeDataCaptureIT schema writer seed " + seed);
    Writer writer = new Writer(seed, "public.evo");
    writer.start();
    try {
      Thread.sleep(1000);
      pipeline.source.execute(pipeline.sourceDb, "ALTER TABLE public.evo DROP COLUMN b");
      Thread.sleep(1500);
      pipeline.source.execute(pipeline.sourceDb, "ALTER TABLE public.evo RENAME COLUMN c TO c2");
      Thread.sleep(1500);
    } finally {
      writer.stopAndJoin();
    }
    pipeline.source.execute(pipeline.sourceDb, "UPDATE public.evo SET c2 = -1 WHERE id = 7");
    // compared on the source's columns (id, a, c2): rows the stream wrote carry c2, older rows do
    // not yet
    try (Connection t = pipeline.targetConnection()) {
      Awaitility.await("the changes after the renamed column")
          .atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofMillis(500))
          .ignoreExceptions()
          .until(() -> "-1".equals(queryString(t, "SELECT c2 FROM public.evo WHERE id = 7")));
      assertThat(
              queryString(
                  t,
                  "SELECT string_agg(attname || ' ' || attnotnull, ', ' ORDER BY attnum) FROM pg_attribute"
                      + " WHERE attrelid = 'public.evo'::regclass AND attnum > 0 AND NOT attisdropped"))
          // b keeps NOT NULL: it has the source's default, which fills it in rows written now
          .isEqualTo("id true, a true, b true, c false, c2 false");
      assertThat(queryString(t, "SELECT b || ' ' || c FROM public.evo WHERE id = 3"))
          .isEqualTo("b3 30");
    }
    pipeline.source.execute(
        pipeline.sourceDb, "SELECT pg_logical_emit_message(true, 'pgcopy.snapshot', 'public.evo')");
    awaitSame("public.evo", Duration.ofMinutes(2));

    pipeline.source.execute(
        pipeline.sourceDb,
        "ALTER TABLE public.evo ALTER COLUMN a TYPE bigint",
        "INSERT INTO public.evo (id, a) VALUES (1, 5000000000) ON CONFLICT (id) DO UPDATE SET a = 5000000000");
    Awaitility.await("a sink task to fail")
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () ->
                rest.status("evo-sink").path("tasks").findValuesAsText("state").contains("FAILED"));
    String trace =
        rest.status("evo-sink").path("tasks").findValuesAsText("trace").stream()
            .filter(x -> !x.isEmpty())
            .findFirst()
            .orElse("");
    assertThat(trace).contains("\"public\".\"evo\"", "column a", "ALTER COLUMN .. TYPE");
    try (Connection t = pipeline.targetConnection()) {
      assertThat(queryString(t, "SELECT a FROM public.evo WHERE id = 1"))
          .isNotEqualTo("5000000000");
    }
    rest.deleteConnector("evo-sink");
    rest.deleteConnector("evo-source");
  }

  /** The sum of a topic's end offsets. */
  private static long endOffsets(String topic) {
    try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
      var partitions =
          consumer.partitionsFor(topic).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      return consumer.endOffsets(partitions).values().stream().mapToLong(Long::longValue).sum();
    }
  }

  /**
   * Random small transactions on the given tables (id integer key, v text, n integer; or keyless v,
   * n) until stopped.
   */
  private static final class Writer extends Thread {
    private final Random random;
    private final List<String> tables;
    private volatile boolean stop;
    private volatile Exception failure;
    volatile int statements;

    Writer(long seed, String... tables) {
      this.random = new Random(seed);
      this.tables = List.of(tables);
      setDaemon(true);
    }

    @Override
    public void run() {
      try (Connection c = pipeline.sourceConnection();
          Statement st = c.createStatement()) {
        while (!stop) {
          String table = tables.get(random.nextInt(tables.size()));
          int k = random.nextInt(25_000);
          String sql =
              switch (table) {
                case "public.added_keyless" ->
                    switch (random.nextInt(3)) {
                      case 0 ->
                          "INSERT INTO public.added_keyless VALUES ('dup "
                              + (k % 50)
                              + "', "
                              + (k % 10)
                              + ")";
                      case 1 ->
                          "UPDATE public.added_keyless SET n = n + 1 WHERE v = 'dup "
                              + (k % 50)
                              + "'";
                      default ->
                          "DELETE FROM public.added_keyless WHERE ctid = (SELECT ctid FROM public.added_keyless"
                              + " WHERE v = 'dup "
                              + (k % 50)
                              + "' LIMIT 1)";
                    };
                case "public.evo" ->
                    random.nextBoolean() // only the columns no DDL of the test touches
                        ? "UPDATE public.evo SET a = a + 1 WHERE id = " + (k % 2500)
                        : "INSERT INTO public.evo (id, a) VALUES ("
                            + (k % 2500)
                            + ", 0) ON CONFLICT (id) DO UPDATE SET a = 0";
                case "public.first" ->
                    random.nextBoolean()
                        ? "INSERT INTO public.first VALUES ("
                            + (1000 + k)
                            + ", 'w') ON CONFLICT (id) DO UPDATE SET v = 'u'"
                        : "DELETE FROM public.first WHERE id = " + (k % 600);
                default ->
                    switch (random.nextInt(3)) {
                      case 0 ->
                          "INSERT INTO public.added_big VALUES ("
                              + (20000 + k)
                              + ", 'new', 1) ON CONFLICT (id) DO NOTHING";
                      case 1 ->
                          "UPDATE public.added_big SET n = n + 1, v = 'upd' WHERE id % 1000 = "
                              + (k % 1000);
                      default -> "DELETE FROM public.added_big WHERE id = " + k;
                    };
              };
          st.execute(sql);
          statements++;
          Thread.sleep(5);
        }
      } catch (Exception e) {
        failure = e;
      }
    }

    void stopAndJoin() throws Exception {
      stop = true;
      join(10_000);
      if (failure != null) {
        throw failure;
      }
    }
  }

  private static String queryString(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }
}
