package io.pgcopy.connect.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Records on the sink's topics that did not come from the pgcopy source, produced by a plain
 * producer into a live pipeline: the sink fails naming topic, partition, offset and what is wrong;
 * with Connect's {@code errors.tolerance=all} and a dead-letter topic the bad records land there,
 * every good record around them reaches the target, and their offsets are stored.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SinkFaultsIT {
  private static final String KEYED = "public.dl_keyed";
  private static final String KEYLESS = "public.dl_nokey";
  private static final String DLQ = "dl-dead-letters";

  @RegisterExtension static final PipelineExtension servers = PipelineExtension.own("replica");

  private static Pipeline pipeline;

  @BeforeAll
  static void startServers() {
    pipeline = servers.pipeline();
  }

  @Test
  @Order(1)
  void badRecordsFailTheSinkNamingThemThenGoToTheDeadLetterTopic() throws Exception {
    pipeline.source.execute(
        pipeline.sourceDb,
        "CREATE TABLE " + KEYED + " (id integer PRIMARY KEY, v text)",
        "INSERT INTO " + KEYED + " SELECT g, 'row ' || g FROM generate_series(1, 2000) g",
        "CREATE TABLE " + KEYLESS + " (a integer, b text)",
        "ALTER TABLE " + KEYLESS + " REPLICA IDENTITY FULL",
        "INSERT INTO " + KEYLESS + " SELECT g % 50, 'dup' FROM generate_series(1, 500) g");
    Map<String, String> source = pipeline.sourceConfig("dl", KEYED + "," + KEYLESS);
    source.put("snapshot.mode", "initial");
    source.put("slot.name", "dl");
    source.put("publication.name", "dl");
    // the offsets table as versions before the stream positions made it: the sink adds them
    pipeline.target.execute(
        pipeline.targetDb,
        "CREATE TABLE public.pgcopy_sink_offsets (connector text NOT NULL, topic text NOT NULL,"
            + " kafka_partition int NOT NULL, next_offset bigint NOT NULL,"
            + " updated_at timestamptz NOT NULL DEFAULT now(),"
            + " PRIMARY KEY (connector, topic, kafka_partition))");
    Map<String, String> sink = pipeline.sinkConfig("dl");
    var rest = pipeline.rest();
    rest.putConnector("dl-sink", sink);
    rest.putConnector("dl-source", source);
    pipeline.awaitSame(KEYED, Duration.ofMinutes(3));
    pipeline.awaitSame(KEYLESS, Duration.ofMinutes(3));

    String keyedTopic = "dl." + KEYED;
    String keylessTopic = "dl." + KEYLESS;
    ConsumerRecord<byte[], byte[]> good = firstRecord(keyedTopic);
    List<RecordMetadata> bad = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> producer = producer()) {
      // garbage bytes under a real record's headers: the sink stops, naming the record
      bad.add(send(producer, keyedTopic, good.key(), "not a row batch", good.headers().toArray()));
      String trace = pipeline.awaitTaskFailed("dl-sink", Duration.ofMinutes(2));
      RecordMetadata first = bad.get(0);
      assertThat(trace)
          .contains("DataException")
          .contains(
              "record of topic "
                  + keyedTopic
                  + ", partition "
                  + first.partition()
                  + ", offset "
                  + first.offset())
          .contains("is not a pgcopy row batch");

      // the operator tolerates bad records, keeping them in a dead-letter topic
      sink.put("errors.tolerance", "all");
      sink.put("errors.deadletterqueue.topic.name", DLQ);
      sink.put("errors.deadletterqueue.topic.replication.factor", "1");
      sink.put("errors.deadletterqueue.context.headers.enable", "true");
      rest.putConnector("dl-sink", sink);
      Awaitility.await("the sink's tasks running again")
          .atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofSeconds(1))
          .until(
              () -> {
                var tasks = rest.status("dl-sink").path("tasks");
                for (int i = 0; i < tasks.size(); i++) {
                  if ("FAILED".equals(tasks.get(i).path("state").asText())) {
                    rest.restartTask("dl-sink", tasks.get(i).path("id").asInt());
                    return false;
                  }
                }
                return tasks.size() > 0
                    && tasks.findValuesAsText("state").stream().allMatch("RUNNING"::equals);
              });

      // more kinds of bad records, in both tables' topics
      bad.add(send(producer, keyedTopic, good.key(), "no headers at all", new Header[0]));
      byte[] truncated = Arrays.copyOf(good.value(), good.value().length - 3);
      bad.add(send(producer, keyedTopic, good.key(), truncated, good.headers().toArray()));
      ConsumerRecord<byte[], byte[]> keyless = firstRecord(keylessTopic);
      byte[] oneField = {0, 1, 0, 0, 0, 1, 7};
      bad.add(send(producer, keylessTopic, keyless.key(), oneField, withRows(keyless, 1)));
      bad.add(
          send(producer, keylessTopic, keyless.key(), keyless.value(), withRows(keyless, 99999)));
    }
    // good records around them: changes to both tables
    pipeline.source.execute(
        pipeline.sourceDb,
        "UPDATE " + KEYED + " SET v = 'changed' WHERE id % 7 = 0",
        "DELETE FROM " + KEYED + " WHERE id % 11 = 0",
        "INSERT INTO " + KEYED + " SELECT g, 'new ' || g FROM generate_series(5001, 5500) g",
        "DELETE FROM " + KEYLESS + " WHERE a = 3",
        "UPDATE " + KEYLESS + " SET b = 'changed' WHERE a = 4",
        "INSERT INTO " + KEYLESS + " SELECT g % 10, 'after' FROM generate_series(1, 100) g");
    pipeline.awaitSame(KEYED, Duration.ofMinutes(3));
    pipeline.awaitSame(KEYLESS, Duration.ofMinutes(3));

    // every bad record is in the dead-letter topic, with where it came from and why
    List<ConsumerRecord<byte[], byte[]>> dead = readAll(DLQ, bad.size());
    assertThat(dead).hasSize(bad.size());
    for (ConsumerRecord<byte[], byte[]> d : dead) {
      Header why = d.headers().lastHeader("__connect.errors.exception.message");
      assertThat(why).as("dead letter's error header").isNotNull();
      assertThat(new String(why.value(), StandardCharsets.UTF_8))
          .contains("record of topic dl.public.dl_");
    }
    // ... and the target stored offsets past each of them
    try (Connection t = pipeline.targetConnection();
        PreparedStatement ps =
            t.prepareStatement(
                "SELECT next_offset FROM public.pgcopy_sink_offsets"
                    + " WHERE topic = ? AND kafka_partition = ?")) {
      for (RecordMetadata m : bad) {
        ps.setString(1, m.topic());
        ps.setInt(2, m.partition());
        try (ResultSet rs = ps.executeQuery()) {
          assertThat(rs.next()).as(m.toString()).isTrue();
          assertThat(rs.getLong(1)).as(m + " stored offset").isGreaterThan(m.offset());
        }
      }
    }
    assertThat(pipeline.rest().status("dl-sink").path("tasks").findValuesAsText("state"))
        .containsOnly("RUNNING");
  }

  /**
   * A source that sends a keyless table's changes again must not double its rows. That happens when
   * a source task resumes from an older offset than the changes Kafka already holds: an operator
   * aborted a hanging transaction that its coordinator had in fact committed, undoing the task's
   * offset but not the records that did get their commit marker (docs/operations.md, "After a Kafka
   * broker crash"). The sink stores the stream position of the last keyless change applied from
   * each partition and skips any at or below it. Here every change record of the keyless table is
   * produced once more, as it was, into its partition by a plain producer.
   */
  @Test
  @Order(2)
  void aKeylessTablesChangesSentAgainAreAppliedOnce() throws Exception {
    pipeline.source.execute(
        pipeline.sourceDb,
        "INSERT INTO " + KEYLESS + " SELECT g % 10, 'again' FROM generate_series(1, 50) g",
        "UPDATE " + KEYLESS + " SET b = 'again, changed' WHERE a = 5",
        "DELETE FROM " + KEYLESS + " WHERE a = 6");
    pipeline.awaitSame(KEYLESS, Duration.ofMinutes(3));
    String topic = "dl." + KEYLESS;
    List<ConsumerRecord<byte[], byte[]>> changes =
        readAll(topic, 1).stream().filter(r -> isBatch(r, 'C')).toList();
    assertThat(changes).as("change records of " + topic).hasSizeGreaterThanOrEqualTo(2);
    try (KafkaProducer<byte[], byte[]> producer = producer()) {
      for (ConsumerRecord<byte[], byte[]> r : changes) {
        send(producer, topic, r.partition(), r.key(), r.value(), r.headers().toArray());
      }
    }
    // a change after them: once it is in the target, so are the records sent again
    pipeline.source.execute(
        pipeline.sourceDb, "INSERT INTO " + KEYLESS + " VALUES (77, 'after the resend')");
    pipeline.awaitSame(KEYLESS, Duration.ofMinutes(3));
    assertThat(pipeline.workerLog())
        .containsPattern("skipped \\d+ changes of \"public\".\"dl_nokey\" applied already");
    try (Connection t = pipeline.targetConnection();
        PreparedStatement ps =
            t.prepareStatement(
                "SELECT stream_lsn, stream_seq FROM public.pgcopy_sink_offsets"
                    + " WHERE topic = ? AND kafka_partition = 0")) {
      ps.setString(1, topic);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getLong(1)).as("stored commit LSN").isPositive();
        assertThat(rs.getInt(2)).as("stored change number").isPositive();
      }
    }
  }

  /**
   * Target drift: a target column made NOT NULL under the running sink. The batch holding a row
   * that breaks it fails whole, naming table and column and the way out (rows of one source
   * transaction in other partitions may be applied by the other task: the sink keeps order per key,
   * not across partitions), and once the operator fixed the column and restarted the task it
   * resumes where it stopped: the target equals the source row by row.
   */
  @Test
  @Order(3)
  void aTargetColumnMadeNotNullFailsTheBatchWholeUntilFixed() throws Exception {
    pipeline.target.execute(
        pipeline.targetDb, "ALTER TABLE " + KEYED + " ALTER COLUMN v SET NOT NULL");
    try (Connection s = pipeline.sourceConnection()) {
      s.setAutoCommit(false);
      try (var st = s.createStatement()) {
        st.execute("INSERT INTO " + KEYED + " VALUES (90001, 'same transaction, before')");
        st.execute("INSERT INTO " + KEYED + " VALUES (90002, NULL)");
        st.execute("INSERT INTO " + KEYED + " VALUES (90003, 'same transaction, after')");
      }
      s.commit();
    }
    String trace = pipeline.awaitTaskFailed("dl-sink", Duration.ofMinutes(2));
    assertThat(trace)
        .contains("\"public\".\"dl_keyed\"")
        .contains("column \"v\"")
        .contains("not-null")
        .contains("Fix the cause, then restart the task");
    // the failed batch's transaction (its rows and offsets) was rolled back: the row is not there,
    // and what the failed task had buffered is consumed again after the restart
    try (Connection t = pipeline.targetConnection();
        var st = t.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM " + KEYED + " WHERE id = 90002")) {
      rs.next();
      assertThat(rs.getLong(1)).as("the row that broke the constraint").isZero();
    }
    pipeline.target.execute(
        pipeline.targetDb, "ALTER TABLE " + KEYED + " ALTER COLUMN v DROP NOT NULL");
    restartFailedTasks("dl-sink");
    pipeline.awaitSame(KEYED, Duration.ofMinutes(3));
    pipeline.awaitSame(KEYLESS, Duration.ofMinutes(3));
  }

  /**
   * A unique violation while changes are applied (here a unique index only the target has; in
   * production, rows that swapped values through changes in different partitions) is retried with
   * backoff, naming the constraint, not a failed task: once the cause is gone (here the index
   * dropped) the sink goes on by itself and the target equals the source.
   */
  @Test
  @Order(4)
  void aUniqueViolationIsRetriedUntilItsCauseIsGone() throws Exception {
    pipeline.target.execute(
        pipeline.targetDb,
        "CREATE UNIQUE INDEX dl_keyed_v_only_here ON " + KEYED + " (v) WHERE v = 'twice'");
    pipeline.source.execute(
        pipeline.sourceDb, "INSERT INTO " + KEYED + " VALUES (95001, 'twice'), (95002, 'twice')");
    Awaitility.await("the sink retrying the unique violation")
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () ->
                pipeline.workerLog().contains("dl_keyed_v_only_here")
                    && pipeline
                        .workerLog()
                        .contains("A unique or exclusion constraint other than the key"));
    assertThat(allTasksRunning("dl-sink")).as("retried, not failed").isTrue();
    pipeline.target.execute(pipeline.targetDb, "DROP INDEX public.dl_keyed_v_only_here");
    pipeline.awaitSame(KEYED, Duration.ofMinutes(3));
    pipeline.awaitSame(KEYLESS, Duration.ofMinutes(3));
  }

  /**
   * KIP-875 offsets through the REST API change what the sink really resumes from, the target's
   * offsets table: a keyed topic rewound to its start is applied again (its bad records reach the
   * dead-letter topic a second time, the target still equals the source), and a reset removes the
   * connector's stored offsets.
   */
  /**
   * Target drift: a target column dropped, then one retyped, under the running sink. Each fails the
   * batch whole, naming table and column; after the operator's fix (the column back, its type back)
   * and a task restart the sink resumes, and reading the table again ({@code pgcopy.snapshot})
   * restores what the drift destroyed: the target equals the source row by row.
   */
  @Test
  @Order(5)
  void aTargetColumnDroppedOrRetypedFailsTheBatchWholeNamingIt() throws Exception {
    // every task writes to the table first, so each has checked its columns: a task that has not
    // since it started would find the column missing and add it back, as for a column the source
    // gained (and the row would arrive instead of failing)
    pipeline.source.execute(
        pipeline.sourceDb,
        "INSERT INTO "
            + KEYED
            + " SELECT g, 'before the drop' FROM generate_series(90201, 90264) g");
    pipeline.awaitSame(KEYED, Duration.ofMinutes(2));
    pipeline.target.execute(pipeline.targetDb, "ALTER TABLE " + KEYED + " DROP COLUMN v");
    pipeline.source.execute(
        pipeline.sourceDb, "INSERT INTO " + KEYED + " VALUES (90101, 'after the drop')");
    assertThat(pipeline.awaitTaskFailed("dl-sink", Duration.ofMinutes(2), "42703"))
        .contains("column \"v\" of relation \"dl_keyed\" does not exist")
        .contains("Fix the cause, then restart the task");
    assertThat(targetRows("id = 90101")).as("nothing of the failed batch").isZero();
    pipeline.target.execute(pipeline.targetDb, "ALTER TABLE " + KEYED + " ADD COLUMN v text");
    Awaitility.await("the row after the drop, every task running")
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofSeconds(1))
        .until(
            () -> {
              restartFailedTasks("dl-sink"); // each task fails once it meets the drift
              return targetRows("id = 90101 AND v = 'after the drop'") == 1
                  && allTasksRunning("dl-sink");
            });

    pipeline.target.execute(
        pipeline.targetDb, "ALTER TABLE " + KEYED + " ALTER COLUMN v TYPE integer USING NULL");
    pipeline.source.execute(
        pipeline.sourceDb, "INSERT INTO " + KEYED + " VALUES (90102, 'after the retype')");
    assertThat(pipeline.awaitTaskFailed("dl-sink", Duration.ofMinutes(2), "to the source's type"))
        .contains("dl_keyed")
        .containsPattern("column \"?v\"?")
        .contains("change the target column to the source's type");
    assertThat(targetRows("id = 90102")).as("nothing of the failed batch").isZero();
    pipeline.target.execute(
        pipeline.targetDb, "ALTER TABLE " + KEYED + " ALTER COLUMN v TYPE text USING NULL");
    Awaitility.await("every task running again")
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofSeconds(1))
        .until(
            () -> {
              restartFailedTasks("dl-sink");
              return targetRows("id = 90102") == 1 && allTasksRunning("dl-sink");
            });
    // the drift destroyed the column's values: read the table again
    pipeline.source.execute(
        pipeline.sourceDb,
        "SELECT pg_logical_emit_message(true, 'pgcopy.snapshot', '" + KEYED + "')");
    pipeline.awaitSame(KEYED, Duration.ofMinutes(3));
  }

  /**
   * Partitions assigned while the target is down (a task restarted, a rebalance): Connect ends a
   * sink task on any exception from {@code open()}, so the sink keeps them paused until it can read
   * their stored offsets, and then resumes them. The tasks never fail; rows written meanwhile
   * arrive once.
   */
  @Test
  @Order(6)
  void partitionsAssignedWhileTheTargetIsDownWaitForIt() throws Exception {
    pipeline.target.stopFast();
    try {
      pipeline.source.execute(
          pipeline.sourceDb,
          "INSERT INTO "
              + KEYED
              + " SELECT g, 'while the target was down' FROM"
              + " generate_series(91001, 92000) g",
          "INSERT INTO "
              + KEYLESS
              + " SELECT 7, 'while the target was down' FROM"
              + " generate_series(1, 100) g");
      pipeline.rest().restartTask("dl-sink", 0);
      pipeline.rest().restartTask("dl-sink", 1);
      Thread.sleep(5000); // the new tasks are assigned their partitions, and cannot open them
      for (var task : pipeline.rest().status("dl-sink").path("tasks")) {
        assertThat(task.path("state").asText()).as(task.toString()).isEqualTo("RUNNING");
      }
    } finally {
      pipeline.target.startAgain();
    }
    pipeline.awaitSame(KEYED, Duration.ofMinutes(3));
    pipeline.awaitSame(KEYLESS, Duration.ofMinutes(3));
    for (var task : pipeline.rest().status("dl-sink").path("tasks")) {
      assertThat(task.path("state").asText()).as(task.toString()).isEqualTo("RUNNING");
    }
    assertThat(pipeline.workerLog()).contains("dl-sink: reading the stored offsets failed");
  }

  @Test
  @Order(7)
  void offsetsAlteredThroughRestAreTheOnesTheSinkResumesFrom() throws Exception {
    String topic = "dl." + KEYED;
    var rest = pipeline.rest();
    pipeline.stopAndAwait("dl-sink");
    List<Map<String, Object>> rewind = new ArrayList<>();
    List<Integer> partitions = partitions(topic);
    for (int p : partitions) {
      rewind.add(
          Map.of(
              "partition", Map.of("kafka_topic", topic, "kafka_partition", p),
              "offset", Map.of("kafka_offset", 0)));
    }
    rest.alterOffsets("dl-sink", rewind);
    for (int p : partitions) {
      assertThat(storedOffset(topic, p)).as(topic + "-" + p + " in the target").isZero();
    }
    int deadBefore = readAll(DLQ, 1).size();
    rest.resume("dl-sink");
    pipeline.source.execute(
        pipeline.sourceDb, "UPDATE " + KEYED + " SET v = 'after the rewind' WHERE id % 3 = 0");
    pipeline.awaitSame(KEYED, Duration.ofMinutes(3));
    pipeline.awaitSame(KEYLESS, Duration.ofMinutes(3));
    // the keyed topic's three bad records were met again
    assertThat(readAll(DLQ, deadBefore + 3)).hasSize(deadBefore + 3);
    for (int p : partitions) {
      assertThat(storedOffset(topic, p)).as(topic + "-" + p + " in the target").isPositive();
    }

    // the source refuses offsets written by hand, saying how to read tables again
    pipeline.stopAndAwait("dl-source");
    JsonNode listed = rest.offsets("dl-source").path("offsets");
    Map<String, Object> aPartition = new HashMap<>();
    listed
        .get(0)
        .path("partition")
        .fields()
        .forEachRemaining(f -> aPartition.put(f.getKey(), f.getValue().asText()));
    assertThatThrownBy(
            () ->
                rest.alterOffsets(
                    "dl-source",
                    List.of(Map.of("partition", aPartition, "offset", Map.of("lsn", 1)))))
        .hasMessageContaining("written by hand")
        .hasMessageContaining("pgcopy.snapshot")
        .hasMessageContaining("DELETE /connectors/<name>/offsets");
    rest.resume("dl-source"); // a reset is taken: ReplicationFaultsIT

    pipeline.stopAndAwait("dl-sink");
    rest.resetOffsets("dl-sink");
    try (Connection t = pipeline.targetConnection();
        PreparedStatement ps =
            t.prepareStatement(
                "SELECT count(*) FROM public.pgcopy_sink_offsets WHERE connector = 'dl-sink'")) {
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        assertThat(rs.getLong(1)).as("the sink's stored offsets after a reset").isZero();
      }
    }
  }

  private static void restartFailedTasks(String connector) {
    for (var task : pipeline.rest().status(connector).path("tasks")) {
      if ("FAILED".equals(task.path("state").asText())) {
        pipeline.rest().restartTask(connector, task.path("id").asInt());
      }
    }
  }

  private static boolean allTasksRunning(String connector) {
    for (var task : pipeline.rest().status(connector).path("tasks")) {
      if (!"RUNNING".equals(task.path("state").asText())) {
        return false;
      }
    }
    return true;
  }

  /** Rows of the keyed table in the target that match {@code where}. */
  private static long targetRows(String where) throws Exception {
    try (Connection t = pipeline.targetConnection();
        var st = t.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM " + KEYED + " WHERE " + where)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static long storedOffset(String topic, int partition) throws Exception {
    try (Connection t = pipeline.targetConnection();
        PreparedStatement ps =
            t.prepareStatement(
                "SELECT next_offset FROM public.pgcopy_sink_offsets"
                    + " WHERE connector = 'dl-sink' AND topic = ? AND kafka_partition = ?")) {
      ps.setString(1, topic);
      ps.setInt(2, partition);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getLong(1) : -1;
      }
    }
  }

  private static List<Integer> partitions(String topic) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, pipeline.broker.bootstrapServers());
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      return consumer.partitionsFor(topic).stream().map(p -> p.partition()).sorted().toList();
    }
  }

  private static Header[] withRows(ConsumerRecord<byte[], byte[]> r, int rows) {
    RecordHeaders headers = new RecordHeaders(r.headers().toArray());
    headers.remove("pgcopy.rows");
    headers.add(
        "pgcopy.rows",
        new byte[] {(byte) (rows >>> 24), (byte) (rows >>> 16), (byte) (rows >>> 8), (byte) rows});
    headers.remove("pgcopy.op");
    headers.add("pgcopy.op", new byte[] {'R'});
    return headers.toArray();
  }

  private static RecordMetadata send(
      KafkaProducer<byte[], byte[]> producer,
      String topic,
      byte[] key,
      Object value,
      Header[] headers)
      throws Exception {
    return send(producer, topic, null, key, value, headers);
  }

  /** Sends a record into {@code partition} (null: the partitioner's choice) and waits for it. */
  private static RecordMetadata send(
      KafkaProducer<byte[], byte[]> producer,
      String topic,
      Integer partition,
      byte[] key,
      Object value,
      Header[] headers)
      throws Exception {
    byte[] bytes = value instanceof String s ? s.getBytes(StandardCharsets.UTF_8) : (byte[]) value;
    return producer
        .send(new ProducerRecord<>(topic, partition, key, bytes, Arrays.asList(headers)))
        .get();
  }

  /** Whether a record is a binary batch of the kind {@code op} ('R' rows, 'C' changes). */
  private static boolean isBatch(ConsumerRecord<byte[], byte[]> r, char op) {
    Header h = r.headers().lastHeader("pgcopy.op");
    return h != null && h.value().length == 1 && h.value()[0] == op;
  }

  /** The first snapshot record of a topic (a batch of rows, with its headers). */
  private static ConsumerRecord<byte[], byte[]> firstRecord(String topic) {
    for (ConsumerRecord<byte[], byte[]> r : readAll(topic, 1)) {
      if (isBatch(r, 'R')) {
        return r;
      }
    }
    throw new AssertionError("no snapshot batch in " + topic);
  }

  /** Every committed record of a topic, waiting until there are at least {@code atLeast}. */
  private static List<ConsumerRecord<byte[], byte[]>> readAll(String topic, int atLeast) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, pipeline.broker.bootstrapServers());
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<ConsumerRecord<byte[], byte[]>> all = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      Awaitility.await(topic + " to hold " + atLeast + " records")
          .atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> !consumer.partitionsFor(topic).isEmpty());
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      consumer.assign(partitions);
      Awaitility.await(topic + " to hold " + atLeast + " records")
          .atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofMillis(500))
          .until(
              () ->
                  consumer.endOffsets(partitions).values().stream().mapToLong(Long::longValue).sum()
                      >= atLeast);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        consumer.poll(Duration.ofMillis(500)).forEach(all::add);
      }
    }
    return all;
  }

  private static KafkaProducer<byte[], byte[]> producer() {
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, pipeline.broker.bootstrapServers());
    return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
  }
}
