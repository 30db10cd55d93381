package io.pgcopy.connect.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import javax.management.ObjectName;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.json.JsonConverter;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * record.format=struct with the JSON converter, using config/source-struct.json and
 * config/sink-struct.json as shipped (only the servers and tables replaced): rows of many types go
 * through the snapshot and change data capture (an unchanged TOASTed value, a key change, deletes,
 * a keyless table) into the target, compared row by row; and the topic, read by a plain consumer
 * and the JSON converter as another sink would, holds typed values equal to the source's.
 */
class StructFormatIT {
  private static final String TYPED = "public.typed";
  private static final String LOG = "public.typed_log";
  private static final String FULL = "public.full_docs";
  @RegisterExtension static final PipelineExtension servers = PipelineExtension.shared();

  private static Pipeline pipeline;

  @BeforeAll
  static void start() {
    pipeline = servers.pipeline();
  }

  @Test
  void typedRowsThroughSnapshotAndChangesAndReadableByOtherConsumers() throws Exception {
    pipeline.source.execute(
        pipeline.sourceDb,
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
        "CREATE TABLE "
            + TYPED
            + " (id integer PRIMARY KEY, price numeric(12,3), amount numeric, name text, raw bytea,"
            + " day date, at timestamptz, local timestamp, tags text[], scores integer[], ratio float8, small real,"
            + " ok boolean, tiny smallint, big bigint, span interval, doc jsonb, feeling mood, uid uuid, body text)",
        "INSERT INTO "
            + TYPED
            + " SELECT g, g * 1.125, g / 7.0, 'row ' || g || E'\\t\\\\ \"ü\"', decode(md5(g::text), 'hex'),"
            + " date '2000-01-01' + g, timestamptz '2024-01-01 00:00:00+00' + g * interval '1.001 second',"
            + " timestamp '1999-12-31 23:59:59' - g * interval '1 day 0.007 second', ARRAY['a' || g, NULL, 'q\"uote,', ''],"
            + " ARRAY[g, -g], g / 3.0::float8, g / 4.0::real, g % 2 = 0, (g % 100)::smallint, g * 1000000000000,"
            + " g * interval '1 hour 1 minute', jsonb_build_object('g', g, 'list', jsonb_build_array(g, 'x')),"
            + " (ARRAY['sad', 'ok', 'happy']::mood[])[g % 3 + 1], md5(g::text)::uuid, repeat('b', g % 50)"
            + " FROM generate_series(1, 3000) g",
        "INSERT INTO " + TYPED + " (id) VALUES (0)",
        "INSERT INTO "
            + TYPED
            + " (id, day, at, local, name, tags, ratio) VALUES (-1, 'infinity', '-infinity', 'infinity',"
            + " E'line\\nbreak\\r\\n', '{}', 1e308), (-2, '0044-03-15 BC', '0044-03-15 12:00:00.5+00 BC',"
            + " '10000-01-01 00:00:00', E'\\\\N', '{NULL}', 1e-300)",
        "CREATE TABLE " + LOG + " (at timestamptz, note text, amounts numeric(8,2)[])",
        "ALTER TABLE " + LOG + " REPLICA IDENTITY FULL",
        "INSERT INTO "
            + LOG
            + " SELECT timestamptz '2024-06-01 00:00:00+00' + g * interval '1 minute', 'n' || g % 10, NULL"
            + " FROM generate_series(1, 200) g",
        "CREATE TABLE " + FULL + " (id integer PRIMARY KEY, body text, n integer)",
        "ALTER TABLE " + FULL + " REPLICA IDENTITY FULL",
        "INSERT INTO "
            + FULL
            + " SELECT g, (SELECT string_agg(md5((g * h)::text), '') FROM generate_series(1, 300) h), g"
            + " FROM generate_series(1, 5) g");

    Map<String, String> source = Pipeline.shipped("source-struct.json");
    source.put("connection.url", pipeline.source.jdbcUrl(pipeline.sourceDb));
    source.put("connection.user", "postgres");
    source.put("connection.password", "");
    source.put("table.include.list", TYPED + "," + LOG + "," + FULL);
    source.put("snapshot.progress.interval.ms", "1000");
    source.put("tasks.max", "2");
    Map<String, String> sink = Pipeline.shipped("sink-struct.json");
    sink.put("connection.url", pipeline.target.jdbcUrl(pipeline.targetDb));
    sink.put("connection.user", "postgres");
    sink.put("connection.password", "");
    pipeline.target.execute(pipeline.targetDb, "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')");
    pipeline.rest().putConnector(source.get("name"), source);
    pipeline.rest().putConnector(sink.get("name"), sink);
    awaitSame(TYPED);
    awaitSame(LOG);

    Awaitility.await("the stream task")
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> pipeline.workerLog().contains(source.get("name") + "-stream: streaming slot"));
    // the connector's own MBean: every planned range done, handed over to the stream
    String connectorMetrics =
        "io.pgcopy.connect:type=source-connector,connector=" + ObjectName.quote(source.get("name"));
    assertThat(pipeline.worker.jmxAttribute(connectorMetrics, "Phase")).isEqualTo("stream");
    assertThat((Long) pipeline.worker.jmxAttribute(connectorMetrics, "RangesTotal"))
        .isPositive()
        .isEqualTo(pipeline.worker.jmxAttribute(connectorMetrics, "RangesDone"));
    assertThat((Long) pipeline.worker.jmxAttribute(connectorMetrics, "PagesDone"))
        .isEqualTo(pipeline.worker.jmxAttribute(connectorMetrics, "PagesTotal"));
    pipeline.source.execute(
        pipeline.sourceDb,
        "UPDATE "
            + TYPED
            + " SET body = (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 400) g) WHERE id = 10",
        "UPDATE " + TYPED + " SET name = 'kept the TOASTed body', price = -0.001 WHERE id = 10",
        "INSERT INTO "
            + TYPED
            + " (id, price, tags, day) VALUES (5000, 99999.999, ARRAY['new'], '1970-01-01')",
        "UPDATE " + TYPED + " SET id = 100005, scores = '{}' WHERE id = 5",
        "UPDATE "
            + TYPED
            + " SET at = at + interval '0.25 second', feeling = NULL WHERE id % 7 = 0",
        "DELETE FROM " + TYPED + " WHERE id % 11 = 0",
        "UPDATE " + LOG + " SET note = 'changed', amounts = '{1.50,NULL,-2.25}' WHERE note = 'n3'",
        "DELETE FROM " + LOG + " WHERE note = 'n4'",
        "INSERT INTO "
            + LOG
            + " VALUES (date_trunc('milliseconds', now()), E'tab\\there', '{0.01}')",
        "UPDATE " + FULL + " SET n = -n WHERE id = 3");
    awaitSame(TYPED);
    awaitSame(LOG);
    awaitSame(FULL);
    try (Connection s = pipeline.sourceConnection();
        Connection t = pipeline.targetConnection()) {
      String q = "SELECT length(body) || ':' || name FROM " + TYPED + " WHERE id = 10";
      assertThat(scalar(t, q)).isEqualTo("12800:kept the TOASTed body").isEqualTo(scalar(s, q));
    }
    // a truncate (no key, no value) in the middle of struct records of the same table
    pipeline.source.execute(
        pipeline.sourceDb,
        "BEGIN",
        "INSERT INTO " + LOG + " VALUES ('2024-01-01 00:00:00+00', 'before', NULL)",
        "TRUNCATE " + LOG,
        "INSERT INTO " + LOG + " VALUES ('2024-01-02 00:00:00.001+00', 'after', '{2.00}')",
        "COMMIT");
    awaitSame(LOG);

    assertTopicHoldsTypedValues(source);
    assertUnchangedToastTravels(source);
    assertChangesSentAgainAreSkipped(source);
  }

  /**
   * The keyless table's change records produced once more, as they were, into their partition (as a
   * source resuming from an older offset than Kafka holds sends them): the sink knows them by their
   * stream position ({@code pgcopy.lsn} and {@code pgcopy.seq}) and skips them, the truncate among
   * them included; the target stays equal to the source.
   */
  private static void assertChangesSentAgainAreSkipped(Map<String, String> source)
      throws Exception {
    String topic = source.get("topic.prefix") + ".public.typed_log";
    TopicPartition p0 = new TopicPartition(topic, 0);
    List<ConsumerRecord<byte[], byte[]>> changes = new ArrayList<>();
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, pipeline.broker.bootstrapServers());
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.assign(List.of(p0));
      consumer.seekToBeginning(List.of(p0));
      long end = consumer.endOffsets(List.of(p0)).get(p0);
      while (consumer.position(p0) < end) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          if (r.headers().lastHeader("pgcopy.seq") != null) {
            changes.add(r);
          }
        }
      }
    }
    assertThat(changes).as("change records of " + topic + " with their position").isNotEmpty();
    Properties producerProps = new Properties();
    producerProps.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, pipeline.broker.bootstrapServers());
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(producerProps, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (ConsumerRecord<byte[], byte[]> r : changes) {
        producer
            .send(
                new ProducerRecord<>(
                    topic, 0, r.key(), r.value(), Arrays.asList(r.headers().toArray())))
            .get();
      }
    }
    // a change after them: once it is in the target, so are the records sent again
    pipeline.source.execute(
        pipeline.sourceDb,
        "INSERT INTO " + LOG + " VALUES ('2024-01-03 00:00:00+00', 'after the resend', NULL)");
    awaitSame(LOG);
    assertThat(pipeline.workerLog())
        .contains("changes of \"public\".\"typed_log\" applied already");
  }

  /**
   * An update that leaves a TOASTed value alone: with the default replica identity the value is not
   * in the stream (null, named in pgcopy.absent; the pgcopy sink keeps the target's); with REPLICA
   * IDENTITY FULL the source takes it from the old row and the record is whole.
   */
  private static void assertUnchangedToastTravels(Map<String, String> source) {
    String prefix = source.get("topic.prefix");
    ConsumerRecord<byte[], byte[]> typed = lastFor(prefix + ".public.typed", 10);
    Struct v = (Struct) VALUES.toConnectData("t", typed.value()).value();
    assertThat(v.getString("name")).isEqualTo("kept the TOASTed body");
    assertThat(v.get("body")).isNull();
    assertThat(typed.headers().lastHeader("pgcopy.absent")).isNotNull();
    ConsumerRecord<byte[], byte[]> full = lastFor(prefix + ".public.full_docs", 3);
    Struct w = (Struct) VALUES.toConnectData("t", full.value()).value();
    assertThat(w.getInt32("n")).isEqualTo(-3);
    assertThat(w.getString("body")).hasSize(9600);
    assertThat(full.headers().lastHeader("pgcopy.absent")).isNull();
  }

  private static final JsonConverter KEYS = new JsonConverter();
  private static final JsonConverter VALUES = new JsonConverter();

  static {
    KEYS.configure(Map.of("schemas.enable", "true"), true);
    VALUES.configure(Map.of("schemas.enable", "true"), false);
  }

  /** The last record of a topic keyed by an id, once the topic has been read to its end. */
  private static ConsumerRecord<byte[], byte[]> lastFor(String topic, int id) {
    ConsumerRecord<byte[], byte[]> last = null;
    try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
      var partitions =
          consumer.partitionsFor(topic).stream()
              .map(p -> new org.apache.kafka.common.TopicPartition(topic, p.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<org.apache.kafka.common.TopicPartition, Long> end = consumer.endOffsets(partitions);
      while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofSeconds(1))) {
          Struct key = (Struct) KEYS.toConnectData(topic, r.key()).value();
          if (key != null && Integer.valueOf(id).equals(key.getInt32("id"))) {
            last = r;
          }
        }
      }
    }
    assertThat(last).as("a record of id " + id + " in " + topic).isNotNull();
    return last;
  }

  private static KafkaConsumer<byte[], byte[]> consumer() {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, pipeline.broker.bootstrapServers());
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  /** Reads the table's topic as any other consumer would, with the JSON converter. */
  private static void assertTopicHoldsTypedValues(Map<String, String> source) throws SQLException {
    String topic = source.get("topic.prefix") + ".public.typed";
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, pipeline.broker.bootstrapServers());
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.GROUP_ID_CONFIG, "struct-format-check");
    JsonConverter keys = new JsonConverter();
    keys.configure(Map.of("schemas.enable", "true"), true);
    JsonConverter values = new JsonConverter();
    values.configure(Map.of("schemas.enable", "true"), false);
    Map<Integer, Struct> firstById = new HashMap<>();
    boolean tombstone = false;
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(topic));
      long deadline = System.currentTimeMillis() + 60_000;
      while ((firstById.size() < 3000 || !tombstone) && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofSeconds(1))) {
          Struct key = (Struct) keys.toConnectData(topic, r.key()).value();
          Object value = values.toConnectData(topic, r.value()).value();
          if (value == null) {
            tombstone = true;
            assertThat(new String(r.headers().lastHeader("pgcopy.op").value())).isEqualTo("d");
          } else {
            firstById.putIfAbsent(key.getInt32("id"), (Struct) value);
          }
        }
      }
    }
    assertThat(tombstone).as("a delete is a tombstone keyed by the old key").isTrue();
    assertThat(firstById).hasSizeGreaterThanOrEqualTo(3000);
    Struct one = firstById.get(1234);
    Schema schema = one.schema();
    assertThat(schema.field("price").schema().name()).isEqualTo(Decimal.LOGICAL_NAME);
    assertThat(schema.field("price").schema().parameters()).containsEntry("scale", "3");
    assertThat(schema.field("at").schema().name()).isEqualTo(Timestamp.LOGICAL_NAME);
    assertThat(schema.field("feeling").schema().type()).isEqualTo(Schema.Type.STRING);
    try (Connection s = pipeline.sourceConnection();
        Statement st = s.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT price, (extract(epoch FROM at) * 1000)::bigint, tags, scores, feeling::text,"
                    + " ratio, big, raw FROM "
                    + TYPED
                    + " WHERE id = 1234")) {
      rs.next();
      assertThat(one.get("price")).isEqualTo(rs.getBigDecimal(1));
      assertThat(((java.util.Date) one.get("at")).getTime()).isEqualTo(rs.getLong(2));
      assertThat(one.getArray("tags"))
          .isEqualTo(Arrays.asList((Object[]) rs.getArray(3).getArray()));
      assertThat(one.getArray("scores"))
          .isEqualTo(Arrays.asList((Object[]) rs.getArray(4).getArray()));
      assertThat(one.getString("feeling")).isEqualTo(rs.getString(5));
      assertThat(one.getFloat64("ratio")).isEqualTo(rs.getDouble(6));
      assertThat(one.getInt64("big")).isEqualTo(rs.getLong(7));
      assertThat(one.getBytes("raw")).isEqualTo(rs.getBytes(8));
    }
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
