package io.pgcopy.connect.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgcopy.connect.servers.ConnectRest;
import io.pgcopy.connect.servers.ConnectWorker;
import io.pgcopy.connect.servers.KafkaBroker;
import io.pgcopy.connect.servers.PostgresServer;
import io.pgcopy.connect.servers.ShippedConfig;
import io.pgcopy.connect.servers.TableComparison;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * What a scenario runs on: the servers its {@link PipelineExtension} gave it (shared or its own)
 * and its own source and target databases on them, with the shipped connector configs pointed at
 * those databases.
 */
final class Pipeline {
  static final String SOURCE_CLASS = "io.pgcopy.connect.source.PgCopySourceConnector";
  static final String SINK_CLASS = "io.pgcopy.connect.sink.PgCopySinkConnector";

  /** What an initial_only connector's last task logs once everything is sent. */
  static final String FINISHED = "every table's snapshot and post-data are in Kafka";

  final PostgresServer source;
  final PostgresServer target;
  final KafkaBroker broker;
  final ConnectWorker worker;

  /** This scenario's database on the source server. */
  final String sourceDb;

  /** This scenario's database on the target server. */
  final String targetDb;

  private final Path workerLogAtStart;
  private final long workerLogOffset;

  Pipeline(Servers servers, String sourceDb, String targetDb) {
    this.source = servers.source;
    this.target = servers.target;
    this.broker = servers.broker;
    this.worker = servers.worker;
    this.sourceDb = sourceDb;
    this.targetDb = targetDb;
    this.workerLogAtStart = worker.logFile();
    try {
      this.workerLogOffset = Files.size(workerLogAtStart);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  ConnectRest rest() {
    return worker.rest();
  }

  /**
   * The shipped config/source.json with this pipeline's server, the given tables and topic prefix,
   * and snapshot.mode=initial_only (scenarios that stream set their own mode, slot and
   * publication).
   */
  Map<String, String> sourceConfig(String prefix, String tables) {
    Map<String, String> c = shipped("source.json");
    c.put("name", prefix + "-source");
    c.put("connection.url", source.jdbcUrl(sourceDb));
    c.put("connection.user", "postgres");
    c.put("connection.password", "");
    c.put("table.include.list", tables);
    c.put("topic.prefix", prefix);
    c.put("snapshot.mode", "initial_only");
    c.put("snapshot.progress.interval.ms", "1000");
    c.put("tasks.max", "4");
    return c;
  }

  /** The shipped config/sink.json with this pipeline's target and the topics of one prefix. */
  Map<String, String> sinkConfig(String prefix) {
    Map<String, String> c = shipped("sink.json");
    c.put("name", prefix + "-sink");
    c.put("connection.url", target.jdbcUrl(targetDb));
    c.put("connection.user", "postgres");
    c.put("connection.password", "");
    c.put("topics.regex", Pattern.quote(prefix) + "\\..*");
    c.put("tasks.max", "2");
    return c;
  }

  /** A connector configuration file of config/ as shipped: its config object, and its name. */
  static Map<String, String> shipped(String file) {
    return ShippedConfig.connector(file);
  }

  /**
   * pg_dump's schema of {@code db} (the objects {@code selection} picks, e.g. {@code
   * --schema=shop}) without owners, privileges, publications and foreign keys (the sink leaves
   * those to the cut-over), as one string to compare.
   */
  static String schemaDump(PostgresServer server, String db, String... selection) {
    List<String> kept = new ArrayList<>();
    for (String statement : server.schemaDump(db, selection).split("\n\n")) {
      if (!statement.contains("FOREIGN KEY") && !statement.contains("FK CONSTRAINT")) {
        kept.add(statement.strip());
      }
    }
    return String.join("\n\n", kept);
  }

  Connection sourceConnection() throws SQLException {
    return source.connect(sourceDb);
  }

  Connection targetConnection() throws SQLException {
    return target.connect(targetDb);
  }

  /** Rows in a table, -1 while it does not exist. */
  static long count(Connection c, String table) {
    try (Statement st = c.createStatement()) {
      try (ResultSet rs =
          st.executeQuery("SELECT to_regclass('" + table.replace("'", "''") + "') IS NOT NULL")) {
        rs.next();
        if (!rs.getBoolean(1)) {
          return -1;
        }
      }
      try (ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table)) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Waits until the target table holds as many rows as the source table. */
  void awaitRowCount(String table, Duration timeout) throws SQLException {
    try (Connection s = sourceConnection();
        Connection t = targetConnection()) {
      long expected = count(s, table);
      Awaitility.await(table + " to reach " + expected + " rows in the target")
          .atMost(timeout)
          .pollInterval(Duration.ofMillis(500))
          .until(() -> count(t, table) >= expected);
    }
  }

  /**
   * Restarts the connector's tasks that failed with Kafka Connect 4.3's "OffsetStorageWriter is
   * already flushing": its exactly-once source task can fail a transaction committed right after
   * another (the previous offset flush completes on the producer's thread), seen once in ~10 CI
   * runs after a 10 MB row; or with the broker's INVALID_TXN_STATE on a produce ("partition was not
   * added to the transaction", the transaction verification of KIP-890), seen once in RestartIT
   * while a task read ranges after its snapshot was replaced. Nothing is lost or doubled: the task
   * resumes from its committed offsets, as it does when an operator restarts it.
   */
  void restartTasksFailedByFlushRace(String connector) {
    JsonNode tasks = rest().status(connector).path("tasks");
    for (JsonNode t : tasks) {
      String trace = t.path("trace").asText();
      if ("FAILED".equals(t.path("state").asText())
          && (trace.contains("already flushing") || trace.contains("InvalidTxnStateException"))) {
        System.out.println(
            "[pipeline] restarting "
                + connector
                + " task "
                + t.path("id")
                + ", failed by Kafka: "
                + trace.lines().filter(l -> l.startsWith("Caused by")).findFirst().orElse(""));
        rest().restartTask(connector, t.path("id").asInt());
      }
    }
  }

  /** Stops a connector (PUT /stop, KIP-875) and waits until it says STOPPED. */
  void stopAndAwait(String connector) {
    rest().stop(connector);
    Awaitility.await(connector + " stopped")
        .atMost(Duration.ofMinutes(1))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () ->
                "STOPPED"
                    .equals(rest().status(connector).path("connector").path("state").asText()));
  }

  /** Waits until one of the connector's tasks failed; returns its trace. */
  String awaitTaskFailed(String connector, Duration timeout) {
    return awaitTaskFailed(connector, timeout, "");
  }

  /**
   * Waits until one of the connector's tasks failed with {@code cause} in its trace; returns it.
   */
  String awaitTaskFailed(String connector, Duration timeout, String cause) {
    String[] trace = new String[1];
    Awaitility.await(connector + " to have a failed task")
        .atMost(timeout)
        .pollInterval(Duration.ofMillis(500))
        .until(
            () -> {
              for (JsonNode t : rest().status(connector).path("tasks")) {
                if ("FAILED".equals(t.path("state").asText())
                    && t.path("trace").asText().contains(cause)) {
                  trace[0] = t.path("trace").asText();
                  return true;
                }
              }
              return false;
            });
    return trace[0];
  }

  /**
   * Waits until the source connector released its snapshot: every range done, no snapshot task left
   * (initial_only: its finishing task has sent the post-data). A task that FAILED ends the wait at
   * once with its trace; on a timeout the connector's status and the worker's threads go to the
   * test's output.
   */
  void awaitSnapshotComplete(String connector, Duration timeout) {
    JsonNode[] last = new JsonNode[1];
    try {
      // a restarted worker answers 404 until it has read the status topic again
      Awaitility.await(connector + " to finish its snapshot")
          .atMost(timeout)
          .pollInterval(Duration.ofMillis(500))
          .ignoreExceptionsMatching(
              e -> e.getMessage() != null && e.getMessage().contains("answered 404"))
          .until(
              () -> {
                JsonNode status = rest().status(connector);
                last[0] = status;
                assertThat(status.path("connector").path("state").asText())
                    .as(status.toString())
                    .isEqualTo("RUNNING");
                restartTasksFailedByFlushRace(connector);
                for (JsonNode t : rest().status(connector).path("tasks")) {
                  assertThat(t.path("state").asText())
                      .as(connector + " task " + t.path("id") + ": " + t.path("trace").asText())
                      .isNotEqualTo("FAILED");
                }
                // initial_only ends with one task, which announces the tables' post-data and
                // then logs that it is done
                return status.path("tasks").isEmpty()
                    || (status.path("tasks").size() == 1
                        && workerLog().contains(connector + "-finish: " + FINISHED));
              });
    } catch (ConditionTimeoutException e) {
      System.out.println(
          "[pipeline] " + connector + " still snapshotting after " + timeout + ": " + last[0]);
      System.out.println("[pipeline] worker threads:\n" + worker.threadDump());
      throw e;
    }
  }

  /** Waits until the target table equals the source table row by row, and the source has rows. */
  void awaitSame(String table, Duration timeout) throws SQLException {
    try (Connection s = sourceConnection();
        Connection t = targetConnection()) {
      TableComparison.Result[] last = new TableComparison.Result[1];
      Awaitility.await(table + " in the target to equal the source")
          .atMost(timeout)
          .pollInterval(Duration.ofSeconds(1))
          .ignoreExceptions()
          .until(
              () -> {
                last[0] = TableComparison.compare(s, table, t, table);
                return last[0].same();
              });
      assertThat(last[0].sourceRows()).as(table).isPositive();
    }
  }

  void assertSameRows(String table) throws SQLException {
    try (Connection s = sourceConnection();
        Connection t = targetConnection()) {
      TableComparison.Result r = TableComparison.compare(s, table, t, table);
      assertThat(r.same()).as(table + ": " + r).isTrue();
      assertThat(r.sourceRows()).as(table + " rows").isPositive();
    }
  }

  /**
   * What the worker logged since this pipeline began: on shared servers the earlier classes' lines
   * are left out, so a scenario's assertions on the log see its own connectors only. After a
   * restart of the worker, its whole new log.
   */
  String workerLog() {
    try {
      Path now = worker.logFile();
      byte[] bytes = Files.readAllBytes(now);
      int from = now.equals(workerLogAtStart) ? (int) Math.min(workerLogOffset, bytes.length) : 0;
      return new String(bytes, from, bytes.length - from, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Deletes every connector of the worker and waits until it lists none; returns their names. */
  List<String> deleteAllConnectors(Duration timeout) {
    List<String> names = new ArrayList<>();
    rest().getJson("/connectors").forEach(n -> names.add(n.asText()));
    for (String name : names) {
      rest().deleteConnector(name);
    }
    Awaitility.await("every connector deleted")
        .atMost(timeout)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> rest().getJson("/connectors").isEmpty());
    return names;
  }

  /**
   * Drops the replication slots of this pipeline's source database (ending the sessions still
   * holding one), then both databases, so the shared servers keep no WAL and no data for it.
   */
  void dropSlotsAndDatabases(Duration timeout) {
    String db = "'" + sourceDb.replace("'", "''") + "'";
    Awaitility.await("the replication slots of " + sourceDb + " dropped")
        .atMost(timeout)
        .pollInterval(Duration.ofMillis(200))
        .ignoreExceptions()
        .until(
            () -> {
              source.execute(
                  "postgres",
                  "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots"
                      + " WHERE database = "
                      + db
                      + " AND active_pid IS NOT NULL",
                  "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                      + " WHERE database = "
                      + db
                      + " AND NOT active");
              try (Connection c = source.connect("postgres");
                  Statement st = c.createStatement();
                  ResultSet rs =
                      st.executeQuery(
                          "SELECT count(*) FROM pg_replication_slots WHERE database = " + db)) {
                rs.next();
                return rs.getLong(1) == 0;
              }
            });
    source.execute("postgres", "DROP DATABASE IF EXISTS \"" + sourceDb + "\" WITH (FORCE)");
    target.execute("postgres", "DROP DATABASE IF EXISTS \"" + targetDb + "\" WITH (FORCE)");
  }
}
