package io.pgcopy.connect.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgcopy.connect.servers.ConnectRest;
import io.pgcopy.connect.servers.ConnectWorker;
import io.pgcopy.connect.servers.KafkaBroker;
import io.pgcopy.connect.servers.PostgresServer;
import io.pgcopy.connect.servers.ServerPaths;
import io.pgcopy.connect.servers.ShippedConfig;
import io.pgcopy.connect.servers.TableComparison;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * The real servers a scenario runs on: a source and a target PostgreSQL, a KRaft broker, and a
 * Connect worker (512 MB heap) loading the plugin from its built package.
 */
final class Pipeline implements AutoCloseable {
  static final String SOURCE_CLASS = "io.pgcopy.connect.source.PgCopySourceConnector";
  static final String SINK_CLASS = "io.pgcopy.connect.sink.PgCopySinkConnector";
  static final String SOURCE_DB = "src";
  static final String TARGET_DB = "tgt";

  final PostgresServer source;
  final PostgresServer target;
  final KafkaBroker broker;
  final ConnectWorker worker;

  Pipeline(String targetWalLevel) {
    this(targetWalLevel, Map.of());
  }

  /** With worker settings on top of the shipped worker file (for example rebalance delays). */
  Pipeline(String targetWalLevel, Map<String, String> workerOverrides) {
    var dir = ServerPaths.workDir();
    source = PostgresServer.start(dir, "source");
    target = PostgresServer.start(dir, "target", targetWalLevel);
    source.createDatabase(SOURCE_DB);
    target.createDatabase(TARGET_DB);
    // rows up to 16 MB (a connector opts in with producer.override.max.request.size)
    broker = KafkaBroker.start(dir, Map.of("message.max.bytes", "16777216"));
    // the worker runs config/connect-distributed.properties as shipped: Kafka's defaults but for
    // the
    // worker-level settings; converters, client overrides and topic creation come with the
    // connectors
    worker = ConnectWorker.create(dir, broker, "512m", workerOverrides).start();
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
    c.put("connection.url", source.jdbcUrl(SOURCE_DB));
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
    c.put("connection.url", target.jdbcUrl(TARGET_DB));
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

  Connection sourceConnection() throws SQLException {
    return source.connect(SOURCE_DB);
  }

  Connection targetConnection() throws SQLException {
    return target.connect(TARGET_DB);
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
   * runs after a 10 MB row. Nothing is lost or doubled: the task resumes from its committed
   * offsets, as it does when an operator restarts it.
   */
  void restartTasksFailedByFlushRace(String connector) {
    JsonNode tasks = rest().status(connector).path("tasks");
    for (JsonNode t : tasks) {
      if ("FAILED".equals(t.path("state").asText())
          && t.path("trace").asText().contains("already flushing")) {
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
   * Waits until the source connector released its snapshot: every range done, no tasks left. A task
   * that FAILED ends the wait at once with its trace; on a timeout the connector's status and the
   * worker's threads go to the test's output.
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
                for (JsonNode t : status.path("tasks")) {
                  assertThat(t.path("state").asText())
                      .as(connector + " task " + t.path("id") + ": " + t.path("trace").asText())
                      .isNotEqualTo("FAILED");
                }
                return status.path("tasks").isEmpty();
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

  @Override
  public void close() {
    worker.close();
    broker.close();
    target.close();
    source.close();
  }
}
