package io.pgcopy.connect.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgcopy.connect.servers.ConnectRest;
import io.pgcopy.connect.servers.PostgresServer;
import io.pgcopy.connect.servers.ServerPaths;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Both connectors as a careful operator runs them: TLS to both servers with {@code
 * sslmode=verify-full} against a test CA, SCRAM-SHA-256 passwords read from a file through
 * Connect's config provider, roles holding only the privileges docs/operations.md lists, and table,
 * schema and column names shaped like SQL injection. The passwords then appear nowhere: not in the
 * worker log, not in any REST answer, not in Connect's config topic.
 */
class SecurityIT {
  private static final String SCHEMA = "\"we;ird--$$schema\"";
  private static final String KEYED = SCHEMA + ".\"tab'le; DROP TABLE x;--\"";
  private static final String KEYLESS = "public.\"$$nokey$$\"";
  private static final String SOURCE_ROLE = "pgc_src";
  private static final String TARGET_ROLE = "pgc_tgt";

  @RegisterExtension static final PipelineExtension servers = PipelineExtension.own("replica");

  private static Pipeline pipeline;

  @BeforeAll
  static void startServers() {
    pipeline = servers.pipeline();
  }

  @Test
  void tlsScramLeastPrivilegeAndNoSecretInSight() throws Exception {
    Path dir = Files.createTempDirectory(ServerPaths.workDir(), "security-");
    TestCertificates certs = TestCertificates.create(dir.resolve("ca"));
    TestCertificates otherCa = TestCertificates.create(dir.resolve("other-ca"));
    pipeline.source.enableTls(certs.serverCertificate, certs.serverKey);
    pipeline.target.enableTls(certs.serverCertificate, certs.serverKey);
    String sourcePassword = "src-" + UUID.randomUUID();
    String targetPassword = "tgt-" + UUID.randomUUID();
    String rotatedPassword = "tgt-rotated-" + UUID.randomUUID();
    Path secrets = dir.resolve("secrets.properties");
    writeSecrets(secrets, sourcePassword, targetPassword);

    // the source role: SELECT on the tables (USAGE on their schema) and REPLICATION; the
    // publication is made beforehand by the tables' owner
    pipeline.source.execute(
        pipeline.sourceDb,
        "CREATE SCHEMA " + SCHEMA,
        "CREATE TABLE "
            + KEYED
            + " (id integer PRIMARY KEY, \"co\"\"l; $$\" text, \"--c\" numeric)",
        "INSERT INTO "
            + KEYED
            + " SELECT g, 'v''' || g || ';$$', g / 3.0 FROM generate_series(1, 5000) g",
        "CREATE TABLE " + KEYLESS + " (a integer, \"b;c\" text)",
        "ALTER TABLE " + KEYLESS + " REPLICA IDENTITY FULL",
        "INSERT INTO " + KEYLESS + " SELECT g % 40, '$$dup$$' FROM generate_series(1, 400) g",
        "CREATE ROLE " + SOURCE_ROLE + " LOGIN REPLICATION PASSWORD '" + sourcePassword + "'",
        "GRANT USAGE ON SCHEMA " + SCHEMA + " TO " + SOURCE_ROLE,
        "GRANT SELECT ON " + KEYED + ", " + KEYLESS + " TO " + SOURCE_ROLE,
        "CREATE PUBLICATION sec FOR TABLE "
            + KEYED
            + ", "
            + KEYLESS
            + " WITH (publish_via_partition_root = true)");
    // the sink role: CREATE on the schemas it writes to (it creates and so owns its tables and
    // the offsets table); nothing else
    pipeline.target.execute(
        pipeline.targetDb,
        "CREATE SCHEMA " + SCHEMA,
        "CREATE ROLE " + TARGET_ROLE + " LOGIN PASSWORD '" + targetPassword + "'",
        "GRANT USAGE, CREATE ON SCHEMA " + SCHEMA + ", public TO " + TARGET_ROLE);

    String tls = "?sslmode=verify-full&sslrootcert=";
    String fileRef = "${file:" + secrets + ":";
    Map<String, String> source = pipeline.sourceConfig("sec", KEYED + "," + KEYLESS);
    source.put(
        "connection.url", pipeline.source.jdbcUrl(pipeline.sourceDb) + tls + certs.caCertificate);
    source.put("connection.user", SOURCE_ROLE);
    source.put("connection.password", fileRef + "source.password}");
    source.put("snapshot.mode", "initial");
    source.put("slot.name", "sec");
    source.put("publication.name", "sec");
    source.put("publication.autocreate", "false");
    Map<String, String> sink = pipeline.sinkConfig("sec");
    sink.put(
        "connection.url", pipeline.target.jdbcUrl(pipeline.targetDb) + tls + certs.caCertificate);
    sink.put("connection.user", TARGET_ROLE);
    sink.put("connection.password", fileRef + "target.password}");
    ConnectRest rest = pipeline.rest();

    // refused with the reason on the field concerned: a server certificate from another CA, and
    // a wrong password (SCRAM)
    Awaitility.await("TLS on both servers (configuration reloaded)")
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(300))
        .until(
            () ->
                Validation.errors(rest.validate(Pipeline.SOURCE_CLASS, source)).isEmpty()
                    && Validation.errors(rest.validate(Pipeline.SINK_CLASS, sink)).isEmpty());
    var wrongCa = new HashMap<>(source);
    wrongCa.put(
        "connection.url", pipeline.source.jdbcUrl(pipeline.sourceDb) + tls + otherCa.caCertificate);
    assertThat(Validation.errorsOf(rest.validate(Pipeline.SOURCE_CLASS, wrongCa), "connection.url"))
        .anySatisfy(
            m -> assertThat(m).contains("cannot connect").contains("SSL").contains("sslmode"));
    var wrongPassword = new HashMap<>(sink);
    wrongPassword.put("connection.password", "not-" + targetPassword);
    assertThat(
            Validation.errorsOf(
                rest.validate(Pipeline.SINK_CLASS, wrongPassword), "connection.password"))
        .anySatisfy(m -> assertThat(m).contains("authentication failed for user " + TARGET_ROLE));

    rest.putConnector("sec-sink", sink);
    rest.putConnector("sec-source", source);
    pipeline.awaitSame(KEYED, Duration.ofMinutes(3));
    pipeline.awaitSame(KEYLESS, Duration.ofMinutes(3));
    changeBothTables(1);
    pipeline.awaitSame(KEYED, Duration.ofMinutes(3));
    pipeline.awaitSame(KEYLESS, Duration.ofMinutes(3));

    // every connection of both roles, the walsender included, is encrypted
    assertAllEncrypted(pipeline.source, pipeline.sourceDb, SOURCE_ROLE, true);
    assertAllEncrypted(pipeline.target, pipeline.targetDb, TARGET_ROLE, false);

    // rotating the sink's password: the file, the role, then a restart of the connector's tasks
    writeSecrets(secrets, sourcePassword, rotatedPassword);
    pipeline.target.execute(
        pipeline.targetDb, "ALTER ROLE " + TARGET_ROLE + " PASSWORD '" + rotatedPassword + "'");
    String rotated;
    try (Connection t = pipeline.targetConnection();
        Statement st = t.createStatement();
        ResultSet rs = st.executeQuery("SELECT now()::text")) {
      rs.next();
      rotated = rs.getString(1);
    }
    rest.restartConnector("sec-sink");
    changeBothTables(2);
    pipeline.awaitSame(KEYED, Duration.ofMinutes(3));
    pipeline.awaitSame(KEYLESS, Duration.ofMinutes(3));
    try (Connection t = pipeline.targetConnection();
        Statement st = t.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT count(*) FILTER (WHERE backend_start < '"
                    + rotated
                    + "'::timestamptz), count(*) FROM pg_stat_activity WHERE usename = '"
                    + TARGET_ROLE
                    + "'")) {
      rs.next();
      assertThat(rs.getLong(1)).as("sink sessions from before the rotation").isZero();
      assertThat(rs.getLong(2)).as("sink sessions").isPositive();
    }

    // no password in sight
    List<String> secretsList = List.of(sourcePassword, targetPassword, rotatedPassword);
    assertThat(pipeline.workerLog()).as("worker log").doesNotContain(secretsList);
    List<String> answers = new ArrayList<>();
    for (String c : List.of("sec-source", "sec-sink")) {
      for (String path : List.of("", "/config", "/tasks", "/status", "/offsets")) {
        answers.add(rest.get("/connectors/" + c + path));
      }
    }
    answers.add(rest.get("/connectors?expand=info&expand=status"));
    for (String answer : answers) {
      assertThat(answer).as("REST answer").doesNotContain(secretsList);
    }
    for (JsonNode task : rest.getJson("/connectors/sec-source/tasks")) {
      assertThat(task.path("config").path("connection.password").asText())
          .as("a task's password stays a reference")
          .startsWith("${file:");
    }
    assertThat(configTopic()).as("Connect's config topic").doesNotContain(secretsList);
  }

  private static void writeSecrets(Path file, String source, String target) throws Exception {
    Files.writeString(file, "source.password=" + source + "\ntarget.password=" + target + "\n");
  }

  private static void changeBothTables(int round) {
    pipeline.source.execute(
        pipeline.sourceDb,
        "UPDATE "
            + KEYED
            + " SET \"co\"\"l; $$\" = 'changed "
            + round
            + "' WHERE id % 5 = "
            + round,
        "DELETE FROM " + KEYED + " WHERE id % 13 = " + round,
        "INSERT INTO "
            + KEYED
            + " SELECT g, 'new', NULL FROM generate_series("
            + (10000 * round)
            + ", "
            + (10000 * round + 300)
            + ") g",
        "DELETE FROM " + KEYLESS + " WHERE a = " + round,
        "UPDATE " + KEYLESS + " SET \"b;c\" = 'changed' WHERE a = " + (round + 10),
        "INSERT INTO "
            + KEYLESS
            + " SELECT g % 7, 'round "
            + round
            + "' FROM generate_series(1, 50) g");
  }

  private static void assertAllEncrypted(
      PostgresServer server, String db, String role, boolean walsender) throws Exception {
    try (Connection c = server.connect(db);
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT count(*) FILTER (WHERE NOT s.ssl), count(*) FILTER (WHERE s.ssl),"
                    + " count(*) FILTER (WHERE s.ssl AND a.backend_type = 'walsender')"
                    + " FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.usename = '"
                    + role
                    + "'")) {
      rs.next();
      assertThat(rs.getLong(1)).as(role + " connections without TLS").isZero();
      assertThat(rs.getLong(2)).as(role + " connections with TLS").isPositive();
      if (walsender) {
        assertThat(rs.getLong(3)).as(role + " walsender with TLS").isPositive();
      }
    }
  }

  /** Every record of the worker's config topic, as text. */
  private static String configTopic() {
    String topic = pipeline.worker.properties().getProperty("config.storage.topic");
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, pipeline.broker.bootstrapServers());
    StringBuilder all = new StringBuilder();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          if (r.value() != null) {
            all.append(new String(r.value(), StandardCharsets.UTF_8)).append('\n');
          }
        }
      }
    }
    assertThat(all).as("config topic").contains("sec-source");
    return all.toString();
  }
}
