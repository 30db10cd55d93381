package io.pgcopy.connect.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgcopy.connect.servers.TableComparison;
import io.pgcopy.connect.servers.TcpProxy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Exactly once under failure: rounds of snapshot, handoff and stream under a pgbench write load,
 * each hit by faults at random moments (the worker SIGKILLed and started again, the source's or the
 * target's connections terminated, one source backend or the walsender terminated, the source
 * paused past {@code wal_sender_timeout}, either server restarted, the network to either server cut
 * or stalled for 15-25 s through a {@link TcpProxy}, the Kafka broker SIGKILLed and started again),
 * each round ending with every table, keyed and keyless, equal to its source row by row: no row
 * lost, none doubled. Besides the draw, the broker is killed mid-snapshot in the first round and
 * mid-stream in the last.
 *
 * <p>Sized for CI by default; {@code -Dpgcopy.chaos.rounds}, {@code -Dpgcopy.chaos.faults} (per
 * round) and {@code -Dpgcopy.chaos.seed} make longer or repeated runs ({@code bench/chaos.sh}).
 * Every fault and the phase it hit is logged to {@code target/it-work/chaos-*.log} and stdout.
 */
class ChaosIT {
  private static final List<String> TABLES =
      List.of(
          "public.pgbench_accounts",
          "public.pgbench_branches",
          "public.pgbench_tellers",
          "public.pgbench_history",
          "public.ledger");

  /** Short, so a pause outlives it within seconds (production default: 60 s). */
  private static final int WAL_SENDER_TIMEOUT_S = 5;

  private enum Fault {
    KILL_WORKER,
    TERMINATE_SOURCE,
    TERMINATE_WALSENDER,
    TERMINATE_TARGET,
    PAUSE_SOURCE,
    RESTART_SOURCE,
    RESTART_TARGET,
    CUT_SOURCE,
    CUT_TARGET,
    STALL_SOURCE,
    STALL_TARGET,
    KILL_BROKER
  }

  /**
   * The faults drawn from: those named in {@code -Dpgcopy.chaos.only} (comma-separated), or every
   * fault. After a {@link Fault#KILL_BROKER} the loop does what docs/operations.md tells an
   * operator to do (and journals it): restart a task Connect failed in its zombie fencing, abort a
   * hanging transaction the broker left behind.
   */
  private static final List<Fault> FAULTS =
      System.getProperty("pgcopy.chaos.only", "").isBlank()
          ? List.of(Fault.values())
          : Arrays.stream(System.getProperty("pgcopy.chaos.only").split(","))
              .map(String::trim)
              .map(Fault::valueOf)
              .toList();

  @RegisterExtension static final PipelineExtension servers = PipelineExtension.own("replica");

  private static Pipeline pipeline;

  /** The connectors reach each server through one of these: the network faults. */
  private static TcpProxy sourceLink;

  private static TcpProxy targetLink;
  private static Path script;
  private static final List<String> journal = new ArrayList<>();

  /** Does, every 5 s, what docs/operations.md says to do after a broker crash. */
  private static KafkaOperator operator;

  /** Whether the running round killed the broker before its stream ran. */
  private static volatile boolean snapshotBrokerKill;

  /** The source connector of the running round, for the operator. */
  private static volatile String currentSource;

  /**
   * Faults still to draw: every fault once (in random order) before any is drawn again, so enough
   * rounds hit each of them.
   */
  private static final List<Fault> deck = new ArrayList<>();

  @BeforeAll
  static void startPipeline() throws IOException {
    pipeline = servers.pipeline();
    pipeline.source.execute(
        "postgres",
        "ALTER SYSTEM SET wal_sender_timeout = '" + WAL_SENDER_TIMEOUT_S + "s'",
        "SELECT pg_reload_conf()");
    sourceLink = TcpProxy.to(pipeline.source.port());
    targetLink = TcpProxy.to(pipeline.target.port());
    // keyless changes: an update and a delete of one row each, and an insert
    script = Files.createTempFile("chaos-ledger-", ".sql");
    Files.writeString(
        script,
        String.join(
            "\n",
            "\\set k random(1, 1000)",
            "\\set d random(1, 100)",
            "BEGIN;",
            "UPDATE ledger SET v = v + :d WHERE ctid = (SELECT ctid FROM ledger WHERE k = :k LIMIT 1);",
            "INSERT INTO ledger (k, v, note) VALUES (:k, :d, 'i' || :d);",
            "DELETE FROM ledger WHERE ctid = (SELECT ctid FROM ledger WHERE k = :k + 1 LIMIT 1);",
            "END;",
            ""));
    operator = KafkaOperator.start(pipeline, () -> currentSource, ChaosIT::note);
  }

  @AfterAll
  static void stopPipeline() {
    if (operator != null) {
      operator.close();
    }
    journal.forEach(System.out::println);
    for (TcpProxy link : new TcpProxy[] {sourceLink, targetLink}) {
      if (link != null) {
        link.close();
      }
    }
  }

  @Test
  void everyTableEqualsItsSourceAfterRandomFaultsInEveryPhase() throws Exception {
    int rounds = Integer.getInteger("pgcopy.chaos.rounds", 2);
    int faults = Integer.getInteger("pgcopy.chaos.faults", 6);
    long seed = Long.getLong("pgcopy.chaos.seed", System.nanoTime());
    note("seed " + seed + ", " + rounds + " rounds of " + faults + " faults");
    Random random = new Random(seed);
    for (int round = 1; round <= rounds; round++) {
      round(round, rounds, faults, random);
    }
    if (rounds * faults >= FAULTS.size()) {
      for (Fault f : FAULTS) {
        assertThat(journal)
            .as("a round hit by " + f)
            .anyMatch(l -> l.contains(": " + f + " in phase"));
      }
    }
    if (FAULTS.contains(Fault.KILL_BROKER)) {
      for (String phase : List.of("snapshot", "stream")) {
        assertThat(journal)
            .as("the broker killed in phase " + phase)
            .anyMatch(l -> l.contains(": " + Fault.KILL_BROKER + " in phase " + phase));
      }
    }
    assertThat(journal.stream().filter(l -> l.contains(" fault ")).count())
        .isEqualTo((long) rounds * faults + (FAULTS.contains(Fault.KILL_BROKER) ? 2 : 0));
  }

  /**
   * One round: a database of its own, its connectors, {@code faults} faults drawn from the deck
   * (half before the handoff, one at it, the rest in the stream), then every table compared. When
   * the broker is among the faults, the first round also kills it mid-snapshot and the last round
   * mid-stream, whatever the draw: the hanging transactions a broker crash leaves behind hold
   * different readers in each phase.
   */
  private void round(int round, int rounds, int faults, Random random) throws Exception {
    String db = "chaos" + round;
    String prefix = "c" + round;
    pipeline.source.createDatabase(db);
    pipeline.target.createDatabase(db);
    pipeline.source.runTool("pgbench", List.of("-i", "-s", "3", "-q", db));
    pipeline.source.execute(
        db,
        "ALTER TABLE public.pgbench_history REPLICA IDENTITY FULL",
        "CREATE TABLE public.ledger (k integer, v integer, note text)",
        "ALTER TABLE public.ledger REPLICA IDENTITY FULL",
        "INSERT INTO public.ledger SELECT g % 1000 + 1, g, 'n' || g FROM generate_series(1, 20000) g");
    Process pgbench = startLoad(db);
    var rest = pipeline.rest();
    String sourceName = prefix + "-source";
    currentSource = sourceName;
    Map<String, String> source = pipeline.sourceConfig(prefix, String.join(",", TABLES));
    source.put("name", sourceName);
    source.put("connection.url", "jdbc:postgresql://127.0.0.1:" + sourceLink.port() + "/" + db);
    source.put("snapshot.mode", "initial");
    source.put("slot.name", "chaos_" + round);
    source.put("publication.name", "chaos_pub");
    source.put("tasks.max", "2");
    source.put("snapshot.range.pages", "300");
    // many small batches and Kafka transactions: a snapshot of tens of seconds, many batch
    // boundaries
    source.put("batch.max.rows", "200");
    source.put("batch.bytes", "4096");
    source.put("heartbeat.interval.ms", "1000");
    Map<String, String> sink = pipeline.sinkConfig(prefix);
    sink.put("connection.url", "jdbc:postgresql://127.0.0.1:" + targetLink.port() + "/" + db);
    sink.put("batch.max.rows", "2000");
    rest.putConnector(sourceName, source);
    rest.putConnector(prefix + "-sink", sink);
    boolean brokerKills = FAULTS.contains(Fault.KILL_BROKER);
    int abortsBefore = operator.aborts();
    snapshotBrokerKill = false;
    try {
      if (round == 1 && brokerKills) {
        awaitPhase(sourceName, "snapshot", Duration.ofMinutes(1));
        Thread.sleep(2000 + random.nextInt(3000));
        inject(round, 0, Fault.KILL_BROKER, sourceName, false, random);
      }
      for (int i = 1; i <= faults; i++) {
        boolean handoff = i == faults / 2 + 1;
        if (handoff) {
          awaitPhase(
              sourceName,
              "stream",
              Duration.ofMinutes(4)); // the snapshot just ended: hit the handoff
        } else {
          Thread.sleep(1000 + random.nextInt(7000));
        }
        if (deck.isEmpty()) {
          deck.addAll(FAULTS);
          Collections.shuffle(deck, random);
        }
        Fault fault = deck.remove(deck.size() - 1);
        inject(round, i, fault, sourceName, handoff, random);
        if (fault == Fault.RESTART_SOURCE) {
          // pgbench's clients end with the server: start the load again
          pgbench.destroy();
          pgbench.waitFor();
          pgbench = startLoad(db);
        }
      }
      awaitPhase(sourceName, "stream", Duration.ofMinutes(4));
      if (round == rounds && brokerKills) {
        Thread.sleep(1000 + random.nextInt(3000));
        inject(round, faults + 1, Fault.KILL_BROKER, sourceName, false, random);
        awaitPhase(sourceName, "stream", Duration.ofMinutes(4));
      }
      Thread.sleep(3000); // some load on the stream after the last fault
    } finally {
      pgbench.destroy();
      pgbench.waitFor();
    }
    List<String> unequal = new ArrayList<>();
    try (Connection s = pipeline.source.connect(db);
        Connection t = pipeline.target.connect(db)) {
      boolean[] readAgain = {false};
      Runnable afterAnAbort =
          () -> {
            if (!readAgain[0] && snapshotBrokerKill && operator.aborts() > abortsBefore) {
              readAgain[0] = true;
              readKeylessAgain(db, round);
            }
          };
      long deadline = System.currentTimeMillis() + Duration.ofMinutes(4).toMillis();
      for (String table : TABLES) {
        TableComparison.Result[] last = new TableComparison.Result[1];
        try {
          Awaitility.await(table + " of round " + round + " to equal its source")
              .atMost(Duration.ofMillis(Math.max(30_000, deadline - System.currentTimeMillis())))
              .pollInterval(Duration.ofSeconds(2))
              .ignoreExceptions()
              .until(
                  () -> {
                    afterAnAbort.run();
                    return (last[0] = TableComparison.compare(s, table, t, table)).same();
                  });
        } catch (ConditionTimeoutException e) {
          unequal.add(table);
        } finally {
          note("round " + round + ": " + table + ": " + last[0]);
          if (last[0] != null && !last[0].same()) {
            describeDifferences(s, t, table);
          }
        }
      }
    }
    if (!unequal.isEmpty()) {
      try (Connection t = pipeline.target.connect("postgres");
          Statement st = t.createStatement();
          ResultSet rs =
              st.executeQuery(
                  "SELECT pid, state, wait_event_type, wait_event, pg_blocking_pids(pid),"
                      + " now() - xact_start, left(query, 120) FROM pg_stat_activity WHERE application_name LIKE 'pgcopy%'")) {
        while (rs.next()) {
          note(
              "  target session "
                  + rs.getInt(1)
                  + " "
                  + rs.getString(2)
                  + " waiting "
                  + rs.getString(3)
                  + "/"
                  + rs.getString(4)
                  + " blocked by "
                  + rs.getString(5)
                  + " in a transaction for "
                  + rs.getString(6)
                  + ": "
                  + rs.getString(7));
        }
      }
      replay(round, db, prefix, unequal);
    }
    assertThat(unequal)
        .as("tables of round " + round + " unequal to their source (see the [chaos] lines)")
        .isEmpty();
    rest.deleteConnector(sourceName);
    rest.deleteConnector(prefix + "-sink");
    dropSlot(db, "chaos_" + round);
  }

  /**
   * What docs/operations.md tells an operator to do after aborting a hanging transaction when the
   * broker crashed during the snapshot: the coordinator may have committed it (Kafka dropped its
   * markers on some partitions), the snapshot task reads again rows Kafka holds, and snapshot rows
   * carry no position the sink could skip them by. The keyless tables are read again ({@code
   * pgcopy.snapshot}; their target rows are removed first). Journaled. (Changes sent again need
   * nothing: the sink skips them.)
   */
  private static void readKeylessAgain(String db, int round) {
    note(
        "round "
            + round
            + ": a hanging transaction was aborted after a broker kill in the snapshot: reading"
            + " the keyless tables again (pgcopy.snapshot, as docs/operations.md says)");
    pipeline.source.execute(
        db,
        "SELECT pg_logical_emit_message(true, 'pgcopy.snapshot',"
            + " 'public.pgbench_history,public.ledger')");
  }

  /** pgbench against a round's database: tpcb-like transactions and the keyless ledger's script. */
  private static Process startLoad(String db) {
    return pipeline.source.startTool(
        "pgbench",
        List.of(
            "-n",
            "-c",
            "2",
            "-j",
            "2",
            "-T",
            "3600",
            "-R",
            "150",
            "-b",
            "tpcb-like@3",
            "-f",
            script + "@1",
            db));
  }

  private void inject(
      int round, int i, Fault fault, String sourceName, boolean handoff, Random random)
      throws Exception {
    String phase = handoff ? "handoff" : phase(sourceName);
    note("round " + round + " fault " + i + ": " + fault + " in phase " + phase);
    if (fault == Fault.KILL_BROKER && !"stream".equals(phase)) {
      snapshotBrokerKill = true;
    }
    switch (fault) {
      case KILL_WORKER -> {
        pipeline.worker.kill();
        Thread.sleep(random.nextInt(3000));
        pipeline.worker.start();
        // the restarted worker knows the connector once it has read its config topic again
        Awaitility.await("the connector known again")
            .atMost(Duration.ofMinutes(2))
            .pollInterval(Duration.ofMillis(500))
            .ignoreExceptions()
            .until(() -> pipeline.rest().status(sourceName) != null);
      }
      case TERMINATE_SOURCE -> terminateOne(random);
      case TERMINATE_WALSENDER ->
          terminate(
              pipeline.source.connect("postgres"),
              "application_name LIKE 'pgcopy%' AND backend_type = 'walsender'");
      case TERMINATE_TARGET ->
          terminate(pipeline.target.connect("postgres"), "application_name LIKE 'pgcopy%'");
      case RESTART_SOURCE -> pipeline.source.restart();
      case RESTART_TARGET -> pipeline.target.restart();
      case CUT_SOURCE -> note("  cut " + sourceLink.cut() + " connections to the source");
      case CUT_TARGET -> note("  cut " + targetLink.cut() + " connections to the target");
      case STALL_SOURCE -> stall(sourceLink, random);
      case STALL_TARGET -> stall(targetLink, random);
      case KILL_BROKER -> pipeline.broker.killAndRestart(Duration.ofMillis(random.nextInt(3000)));
      case PAUSE_SOURCE -> {
        // a rebalance under way answers 409 for a moment: ask again
        Awaitility.await("the pause")
            .atMost(Duration.ofMinutes(1))
            .pollInterval(Duration.ofMillis(500))
            .ignoreExceptions()
            .until(
                () -> {
                  pipeline.rest().pause(sourceName);
                  return true;
                });
        Thread.sleep((WAL_SENDER_TIMEOUT_S + 3) * 1000L);
        Awaitility.await("the resume")
            .atMost(Duration.ofMinutes(1))
            .pollInterval(Duration.ofMillis(500))
            .ignoreExceptions()
            .until(
                () -> {
                  pipeline.rest().resume(sourceName);
                  return true;
                });
      }
    }
  }

  /**
   * Terminates one of the source connector's backends, drawn at random (the snapshot holder, a
   * range reader, the stream's query connection or its walsender, the planner), and names it.
   */
  private static void terminateOne(Random random) throws SQLException {
    try (Connection c = pipeline.source.connect("postgres");
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT pid, application_name, backend_type FROM pg_stat_activity"
                    + " WHERE application_name LIKE 'pgcopy%' ORDER BY pid")) {
      List<String[]> backends = new ArrayList<>();
      while (rs.next()) {
        backends.add(new String[] {rs.getString(1), rs.getString(2), rs.getString(3)});
      }
      if (backends.isEmpty()) {
        note("  no source backend to terminate");
        return;
      }
      String[] victim = backends.get(random.nextInt(backends.size()));
      st.execute("SELECT pg_terminate_backend(" + victim[0] + ")");
      note("  terminated " + victim[1] + " (" + victim[2] + ") of " + backends.size());
    }
  }

  /** Holds every byte between the connectors and a server for 15 to 25 s. */
  private static void stall(TcpProxy link, Random random) throws InterruptedException {
    Duration d = Duration.ofSeconds(15 + random.nextInt(11));
    note("  stalled for " + d.toSeconds() + " s");
    link.stall(d);
    Thread.sleep(d.toMillis());
  }

  private static void terminate(Connection c, String where) throws SQLException {
    try (c;
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE " + where)) {
      rs.next();
      note("  terminated " + rs.getInt(1) + " backends");
    }
  }

  /**
   * The source connector's phase from its MBean ("snapshot", "stream"), or "unknown" while it
   * restarts.
   */
  private static String phase(String connector) {
    try {
      return String.valueOf(
          pipeline.worker.jmxAttribute(
              "io.pgcopy.connect:type=source-connector,connector=\"" + connector + "\"", "Phase"));
    } catch (Exception e) {
      return "unknown";
    }
  }

  private static void awaitPhase(String connector, String phase, Duration timeout) {
    try {
      Awaitility.await(connector + " in phase " + phase)
          .atMost(timeout)
          .pollInterval(Duration.ofMillis(200))
          .until(() -> phase.equals(phase(connector)));
    } catch (ConditionTimeoutException e) {
      dumpWorkerThreads();
      throw e;
    }
  }

  /** Writes the worker's threads that show where a connector is stuck to the test's output. */
  private static void dumpWorkerThreads() {
    note("worker threads:\n" + pipeline.worker.threadDump());
  }

  private static void dropSlot(String db, String slot) {
    Awaitility.await("slot " + slot + " dropped")
        .atMost(Duration.ofMinutes(1))
        .pollInterval(Duration.ofSeconds(1))
        .ignoreExceptions()
        .until(
            () -> {
              pipeline.source.execute(
                  db,
                  "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                      + " WHERE slot_name = '"
                      + slot
                      + "'");
              return true;
            });
  }

  /**
   * Tells whether the topics hold what the target lacks: a fresh sink (own consumer group, own
   * target database) reads the unequal tables' topics from the beginning, without any fault.
   */
  private static void replay(int round, String db, String prefix, List<String> tables)
      throws Exception {
    String replayDb = db + "_replay";
    pipeline.target.createDatabase(replayDb);
    Map<String, String> sink = pipeline.sinkConfig(prefix + "r");
    sink.put("topics.regex", Pattern.quote(prefix) + "\\..*");
    sink.put("connection.url", pipeline.target.jdbcUrl(replayDb));
    pipeline.rest().putConnector(prefix + "r-sink", sink);
    try (Connection s = pipeline.source.connect(db);
        Connection t = pipeline.target.connect(replayDb)) {
      for (String table : tables) {
        TableComparison.Result[] last = new TableComparison.Result[1];
        try {
          Awaitility.await()
              .atMost(Duration.ofMinutes(2))
              .pollInterval(Duration.ofSeconds(2))
              .ignoreExceptions()
              .until(() -> (last[0] = TableComparison.compare(s, table, t, table)).same());
        } catch (ConditionTimeoutException e) {
          // reported below
        }
        note("round " + round + " replay of the topics by a fresh sink: " + table + ": " + last[0]);
      }
    }
  }

  /** Which rows differ, by the first column (the key of the pgbench tables), for the journal. */
  private static void describeDifferences(Connection s, Connection t, String table)
      throws SQLException {
    Map<String, List<String>> source = rows(s, table);
    Map<String, List<String>> target = rows(t, table);
    int shown = 0;
    int differing = 0;
    Map<Long, Integer> buckets = new TreeMap<>();
    for (String k : new TreeSet<>(Set.copyOf(union(source.keySet(), target.keySet())))) {
      List<String> a = source.getOrDefault(k, List.of());
      List<String> b = target.getOrDefault(k, List.of());
      if (!new TreeSet<>(a).equals(new TreeSet<>(b)) || a.size() != b.size()) {
        differing++;
        try {
          buckets.merge(Long.parseLong(k) / 1000, 1, Integer::sum);
        } catch (NumberFormatException e) {
          // not a number: no bucket
        }
        if (shown++ < 10) {
          note("  " + table + " key " + k + ": source " + a + " target " + b);
        }
      }
    }
    note("  " + table + ": " + differing + " first-column values differ; by thousands: " + buckets);
  }

  private static List<String> union(Set<String> a, Set<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  private static Map<String, List<String>> rows(Connection c, String table) throws SQLException {
    Map<String, List<String>> rows = new HashMap<>();
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT t::text FROM " + table + " t")) {
      while (rs.next()) {
        String row = rs.getString(1);
        String key = row.substring(1, Math.max(1, row.indexOf(',')));
        rows.computeIfAbsent(key, k -> new ArrayList<>())
            .add(row.length() > 120 ? row.substring(0, 120) : row);
      }
    } finally {
      if (!c.getAutoCommit()) {
        c.rollback(); // hold no lock on the table while the sink goes on
      }
    }
    return rows;
  }

  private static synchronized void note(String line) {
    journal.add(line);
    System.out.println("[chaos] " + line);
  }
}
