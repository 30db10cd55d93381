package io.pgcopy.connect.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgcopy.connect.servers.TableComparison;
import io.pgcopy.connect.servers.TcpProxy;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Faults of the replication slot and publication that no retry survives: the slot dropped by hand,
 * the publication dropped under a running stream, the slot invalidated by {@code
 * max_slot_wal_keep_size}. Each fails the stream task with a message naming the cause and the way
 * out, and leaves the target as it was: every row that reached it before the fault, nothing else.
 * And ones it does survive: the link to the source falling silent for good under the stream, under
 * a snapshot's range reads, and the link to the target under the sink.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReplicationFaultsIT {
  @RegisterExtension static final PipelineExtension servers = PipelineExtension.shared();

  private static Pipeline pipeline;

  @BeforeAll
  static void startServers() {
    pipeline = servers.pipeline();
  }

  @Test
  @Order(1)
  void aDroppedSlotFailsTheStreamTaskWithTheWayOut() throws Exception {
    String table = streaming("rf1");
    pipeline.stopAndAwait("rf1-source");
    pipeline.source.execute(pipeline.sourceDb, "SELECT pg_drop_replication_slot('rf1')");
    pipeline.source.execute(pipeline.sourceDb, "INSERT INTO " + table + " VALUES (100001, 'late')");
    pipeline.rest().resume("rf1-source");
    String trace = pipeline.awaitTaskFailed("rf1-source", Duration.ofMinutes(2));
    assertThat(trace)
        .contains("replication slot \"rf1\" does not exist")
        .contains("create it again under a new name");
    assertTargetAsBefore(table);
    pipeline.rest().deleteConnector("rf1-source");
  }

  @Test
  @Order(2)
  void aPublicationDroppedUnderTheStreamFailsItWithTheWayOut() throws Exception {
    String table = streaming("rf2");
    pipeline.source.execute(
        pipeline.sourceDb,
        "DROP PUBLICATION rf2",
        "INSERT INTO " + table + " VALUES (100001, 'after the drop')");
    String trace = pipeline.awaitTaskFailed("rf2-source", Duration.ofMinutes(2));
    assertThat(trace)
        .contains("publication \"rf2\"")
        .contains("dropped")
        .contains("create it again under a new name");
    assertTargetAsBefore(table);
    // a restart does not bring it back to life silently: it fails again, the same way
    pipeline.rest().restartTask("rf2-source", 0);
    Thread.sleep(2000);
    assertThat(pipeline.awaitTaskFailed("rf2-source", Duration.ofMinutes(2)))
        .contains("publication \"rf2\"");
    pipeline.rest().deleteConnector("rf2-source");
    pipeline.source.execute(pipeline.sourceDb, "SELECT pg_drop_replication_slot('rf2')");
  }

  /**
   * The network between the stream task and the source falls silent for good (a partition that
   * drops packets: no reset ever arrives) while changes are made: the task notices, connects again
   * over a new connection, and the target gets every change.
   */
  @Test
  @Order(3)
  void aStreamWhoseLinkFallsSilentConnectsAgainAndLosesNothing() throws Exception {
    pipeline.source.execute(
        "postgres", "ALTER SYSTEM SET wal_sender_timeout = '10s'", "SELECT pg_reload_conf()");
    try (TcpProxy link = TcpProxy.to(pipeline.source.port())) {
      String table =
          streaming("rf4", "jdbc:postgresql://127.0.0.1:" + link.port() + "/" + pipeline.sourceDb);
      assertThat(link.silence()).as("connections silenced").isGreaterThanOrEqualTo(2);
      pipeline.source.execute(
          pipeline.sourceDb,
          "UPDATE " + table + " SET v = 'after the silence' WHERE id % 10 = 0",
          "DELETE FROM " + table + " WHERE id % 10 = 1",
          "INSERT INTO " + table + " SELECT g, 'new' FROM generate_series(100001, 101000) g");
      pipeline.awaitSame(table, Duration.ofMinutes(3));
      assertThat(pipeline.workerLog())
          .containsPattern("rf4-source-stream: .* failed: .*retrying in");
      pipeline.rest().deleteConnector("rf4-source");
    } finally {
      pipeline.source.execute(
          "postgres", "ALTER SYSTEM RESET wal_sender_timeout", "SELECT pg_reload_conf()");
    }
  }

  @Test
  @Order(4)
  void aSlotInvalidatedByMaxSlotWalKeepSizeFailsTheStreamTaskWithTheWayOut() throws Exception {
    String table = streaming("rf3");
    pipeline.stopAndAwait("rf3-source");
    try {
      pipeline.source.execute(
          pipeline.sourceDb,
          "ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'",
          "SELECT pg_reload_conf()");
      for (int i = 0; i < 4; i++) {
        pipeline.source.execute(
            pipeline.sourceDb,
            "INSERT INTO "
                + table
                + " SELECT 200000 + "
                + i
                + " * 1000 + g, 'w' FROM"
                + " generate_series(1, 1000) g",
            "SELECT pg_switch_wal()");
      }
      pipeline.source.execute(pipeline.sourceDb, "CHECKPOINT");
      assertThat(walStatus("rf3")).isEqualTo("lost");
    } finally {
      pipeline.source.execute(
          pipeline.sourceDb,
          "ALTER SYSTEM RESET max_slot_wal_keep_size",
          "SELECT pg_reload_conf()");
    }
    pipeline.rest().resume("rf3-source");
    String trace = pipeline.awaitTaskFailed("rf3-source", Duration.ofMinutes(2));
    assertThat(trace)
        .contains("replication slot \"rf3\" was invalidated")
        .contains("max_slot_wal_keep_size")
        .contains("create it again under a new name");
    assertTargetAsBefore(table);
    pipeline.rest().deleteConnector("rf3-source");
  }

  /**
   * Reading every table again: the source connector deleted and created again under a new name with
   * the same slot and topic prefix. The new connector finds the slot but no offsets, reads every
   * table under a new snapshot, clears the keyless one in the target first and streams on: both
   * tables equal their source, no row doubled, with writes made before, between and after. (Connect
   * keeps offsets by connector name; the old name's stay, unused.)
   */
  @Test
  @Order(5)
  void aNewConnectorOnAnOldSlotReadsEveryTableAgainWithoutDoubles() throws Exception {
    String keyed = "public.rf5_keyed";
    String keyless = "public.rf5_nokey";
    Map<String, String> source = streamingKeyedAndKeyless("rf5");

    // the REST API lists every range's offset (done), not null
    pipeline.stopAndAwait("rf5-source");
    assertThat(pipeline.rest().offsets("rf5-source").toString())
        .contains("\"done\":true")
        .doesNotContain("\"offset\":null");
    pipeline.rest().deleteConnector("rf5-source");
    pipeline.source.execute(
        pipeline.sourceDb,
        "DELETE FROM " + keyed + " WHERE id % 10 = 0",
        "INSERT INTO " + keyless + " SELECT 2, 'between' FROM generate_series(1, 50) g");
    source.put("name", "rf5-again-source");
    pipeline.rest().putConnector("rf5-again-source", source);
    pipeline.source.execute(
        pipeline.sourceDb,
        "UPDATE " + keyless + " SET v = 'after' WHERE k = 3",
        "INSERT INTO " + keyed + " VALUES (100001, 'after')");
    pipeline.awaitSame(keyed, Duration.ofMinutes(3));
    pipeline.awaitSame(keyless, Duration.ofMinutes(3));
    Thread.sleep(3000); // anything still on its way
    pipeline.assertSameRows(keyed);
    pipeline.assertSameRows(keyless);
    assertThat(pipeline.workerLog())
        .contains("slot rf5 exists but this connector has no offsets")
        .contains("\"public\".\"rf5_nokey\" is read again whole");
  }

  /**
   * Reading every table again by resetting the source's offsets through Connect's REST API (stop,
   * {@code DELETE /connectors/<name>/offsets}, resume), with writes made before, while stopped and
   * after, and the target damaged by hand while the connector is stopped: the connector reads every
   * table under a new snapshot, clears the keyless one first, and streams on; both tables equal
   * their source, no row doubled, the damage repaired.
   */
  @Test
  @Order(6)
  void aResetOfTheSourceOffsetsThroughRestReadsEveryTableAgainWithoutDoubles() throws Exception {
    String keyed = "public.rf6_keyed";
    String keyless = "public.rf6_nokey";
    Map<String, String> source = streamingKeyedAndKeyless("rf6");

    pipeline.stopAndAwait("rf6-source");
    pipeline.rest().resetOffsets("rf6-source");
    assertThat(pipeline.rest().offsets("rf6-source").path("offsets")).isEmpty();
    pipeline.source.execute(
        pipeline.sourceDb,
        "DELETE FROM " + keyed + " WHERE id % 10 = 0",
        "INSERT INTO " + keyless + " SELECT 2, 'between' FROM generate_series(1, 50) g");
    // the target damaged by hand: only reading every table again repairs it
    pipeline.target.execute(
        pipeline.targetDb,
        "DELETE FROM " + keyed + " WHERE id <= 50",
        "INSERT INTO " + keyless + " VALUES (999, 'junk')");
    pipeline.rest().resume("rf6-source");
    pipeline.source.execute(
        pipeline.sourceDb,
        "UPDATE " + keyless + " SET v = 'after' WHERE k = 3",
        "INSERT INTO " + keyed + " VALUES (100001, 'after')");
    pipeline.awaitSame(keyed, Duration.ofMinutes(3));
    pipeline.awaitSame(keyless, Duration.ofMinutes(3));
    Thread.sleep(3000); // anything still on its way
    pipeline.assertSameRows(keyed);
    pipeline.assertSameRows(keyless);
    assertThat(pipeline.workerLog())
        .contains("slot rf6 exists but this connector has no offsets")
        .contains("\"public\".\"rf6_nokey\" is read again whole");
    // and the offsets are the connector's again: every range done, the stream's position
    pipeline.stopAndAwait("rf6-source");
    assertThat(pipeline.rest().offsets("rf6-source").toString())
        .contains("\"done\":true")
        .contains("\"lsn\"");
  }

  /**
   * The links fall silent for good (a partition that drops packets: no reset ever arrives): the
   * source's while the snapshot's ranges are being read, the target's while the sink waits between
   * writes. Every connection the connectors hold over them waits on a read that never ends; {@code
   * connection.socket.timeout.ms} ends the wait, the work is retried over new connections, and both
   * tables, keyed and keyless, equal their source row by row.
   */
  @Test
  @Order(7)
  void snapshotReadsAndSinkWritesWhoseLinksFallSilentAreRetriedOverNewConnections()
      throws Exception {
    String keyed = "public.rf7_keyed";
    String keyless = "public.rf7_nokey";
    pipeline.source.execute(
        pipeline.sourceDb,
        "CREATE TABLE " + keyed + " (id integer PRIMARY KEY, v text)",
        "INSERT INTO " + keyed + " SELECT g, repeat('x', 300) FROM generate_series(1, 100000) g",
        "CREATE TABLE " + keyless + " (k integer, v text)",
        "ALTER TABLE " + keyless + " REPLICA IDENTITY FULL",
        "INSERT INTO " + keyless + " SELECT g % 100, 'dup' FROM generate_series(1, 3000) g");
    try (TcpProxy sourceLink = TcpProxy.to(pipeline.source.port());
        TcpProxy targetLink = TcpProxy.to(pipeline.target.port())) {
      Map<String, String> source = pipeline.sourceConfig("rf7", keyed + "," + keyless);
      source.put("snapshot.mode", "initial");
      source.put("slot.name", "rf7");
      source.put("publication.name", "rf7");
      source.put("tasks.max", "2");
      // many small ranges: ranges are still to be read, over silenced connections, after the
      // silence
      source.put("snapshot.range.pages", "256");
      source.put("connection.url", viaProxy(sourceLink, pipeline.sourceDb));
      source.put("connection.socket.timeout.ms", "5000");
      Map<String, String> sink = pipeline.sinkConfig("rf7");
      sink.put("connection.url", viaProxy(targetLink, pipeline.targetDb));
      sink.put("connection.socket.timeout.ms", "5000");
      pipeline.rest().putConnector("rf7-sink", sink);
      pipeline.rest().putConnector("rf7-source", source);

      awaitActiveRangeRead();
      assertThat(sourceLink.silence()).as("source connections silenced").isPositive();
      pipeline.awaitSame(keyed, Duration.ofMinutes(3));
      pipeline.awaitSame(keyless, Duration.ofMinutes(3));

      // the sink's connection silenced between writes: the next one waits for a reply in vain
      assertThat(targetLink.silence()).as("target connections silenced").isPositive();
      pipeline.source.execute(
          pipeline.sourceDb,
          "UPDATE " + keyed + " SET v = 'after the silence' WHERE id % 1000 = 0",
          "DELETE FROM " + keyless + " WHERE k = 7",
          "INSERT INTO " + keyless + " VALUES (7, 'after the silence')");
      pipeline.awaitSame(keyed, Duration.ofMinutes(3));
      pipeline.awaitSame(keyless, Duration.ofMinutes(3));
      Thread.sleep(2000); // anything still on its way
      pipeline.assertSameRows(keyed);
      pipeline.assertSameRows(keyless);
      String log = pipeline.workerLog();
      assertThat(log)
          .containsPattern("rf7-source-task: .*connection.socket.timeout.ms=5000 ms.*retrying in")
          .containsPattern("rf7-sink: .*connection.socket.timeout.ms=5000 ms.*retrying in");
      pipeline.rest().deleteConnector("rf7-source");
      pipeline.rest().deleteConnector("rf7-sink");
    }
  }

  private static String viaProxy(TcpProxy link, String database) {
    return "jdbc:postgresql://127.0.0.1:" + link.port() + "/" + database;
  }

  /** Waits until a snapshot range read runs on the source (a COPY of the connector's session). */
  private static void awaitActiveRangeRead() throws Exception {
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    try (Connection s = pipeline.sourceConnection();
        Statement st = s.createStatement()) {
      while (System.nanoTime() < deadline) {
        try (ResultSet rs =
            st.executeQuery(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE"
                    + " 'pgcopy-snapshot%' AND state = 'active' AND query LIKE 'COPY%'")) {
          rs.next();
          if (rs.getInt(1) > 0) {
            return;
          }
        }
        Thread.sleep(20);
      }
    }
    throw new AssertionError("no snapshot range read started on the source within 2 minutes");
  }

  /**
   * A keyed table {@code public.<prefix>_keyed} and a keyless one {@code public.<prefix>_nokey}
   * copied by a streaming source (slot and publication named {@code prefix}, two tasks), with
   * changes to both streamed; returns the source connector's configuration.
   */
  private static Map<String, String> streamingKeyedAndKeyless(String prefix) throws Exception {
    String keyed = "public." + prefix + "_keyed";
    String keyless = "public." + prefix + "_nokey";
    pipeline.source.execute(
        pipeline.sourceDb,
        "CREATE TABLE " + keyed + " (id integer PRIMARY KEY, v text)",
        "INSERT INTO " + keyed + " SELECT g, 'row ' || g FROM generate_series(1, 5000) g",
        "CREATE TABLE " + keyless + " (k integer, v text)",
        "ALTER TABLE " + keyless + " REPLICA IDENTITY FULL",
        "INSERT INTO " + keyless + " SELECT g % 100, 'dup' FROM generate_series(1, 3000) g");
    Map<String, String> source = pipeline.sourceConfig(prefix, keyed + "," + keyless);
    source.put("snapshot.mode", "initial");
    source.put("slot.name", prefix);
    source.put("publication.name", prefix);
    source.put("tasks.max", "2");
    pipeline.rest().putConnector(prefix + "-sink", pipeline.sinkConfig(prefix));
    pipeline.rest().putConnector(prefix + "-source", source);
    pipeline.awaitSame(keyed, Duration.ofMinutes(3));
    pipeline.awaitSame(keyless, Duration.ofMinutes(3));
    pipeline.source.execute(
        pipeline.sourceDb,
        "UPDATE " + keyed + " SET v = 'before' WHERE id <= 100",
        "DELETE FROM " + keyless + " WHERE k = 1");
    pipeline.awaitSame(keyless, Duration.ofMinutes(2));
    return source;
  }

  /**
   * A keyed table copied by a streaming source (slot and publication named {@code prefix}) into the
   * target, with a copy of its rows at that moment in the source ({@code <table>_before}).
   */
  private static String streaming(String prefix) throws Exception {
    return streaming(prefix, pipeline.source.jdbcUrl(pipeline.sourceDb));
  }

  /** As {@link #streaming(String)}, the source connector reaching the source at {@code url}. */
  private static String streaming(String prefix, String url) throws Exception {
    String table = "public." + prefix + "_t";
    pipeline.source.execute(
        pipeline.sourceDb,
        "CREATE TABLE " + table + " (id integer PRIMARY KEY, v text)",
        "INSERT INTO " + table + " SELECT g, 'row ' || g FROM generate_series(1, 5000) g");
    Map<String, String> source = pipeline.sourceConfig(prefix, table);
    source.put("snapshot.mode", "initial");
    source.put("slot.name", prefix);
    source.put("publication.name", prefix);
    source.put("tasks.max", "2");
    source.put("connection.url", url);
    pipeline.rest().putConnector(prefix + "-sink", pipeline.sinkConfig(prefix));
    pipeline.rest().putConnector(prefix + "-source", source);
    pipeline.awaitSame(table, Duration.ofMinutes(3));
    // a change through the stream too
    pipeline.source.execute(
        pipeline.sourceDb, "UPDATE " + table + " SET v = 'streamed' WHERE id <= 10");
    pipeline.awaitSame(table, Duration.ofMinutes(2));
    pipeline.source.execute(
        pipeline.sourceDb, "CREATE TABLE " + table + "_before AS SELECT * FROM " + table);
    return table;
  }

  /** The target holds the rows it held before the fault, nothing more and nothing less. */
  private static void assertTargetAsBefore(String table) throws Exception {
    Thread.sleep(2000); // anything that would still arrive
    try (Connection s = pipeline.sourceConnection();
        Connection t = pipeline.targetConnection()) {
      TableComparison.Result r = TableComparison.compare(s, table + "_before", t, table);
      assertThat(r.same())
          .as(table + " in the target against its rows before the fault: " + r)
          .isTrue();
    }
  }

  private static String walStatus(String slot) throws Exception {
    try (Connection s = pipeline.sourceConnection();
        Statement st = s.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT wal_status FROM pg_replication_slots WHERE slot_name = '" + slot + "'")) {
      return rs.next() ? rs.getString(1) : null;
    }
  }
}
