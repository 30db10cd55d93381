package io.pgcopy.connect.bench;

import io.pgcopy.connect.servers.ConnectRest;
import io.pgcopy.connect.servers.ConnectWorker;
import io.pgcopy.connect.servers.KafkaBroker;
import io.pgcopy.connect.servers.PostgresServer;
import io.pgcopy.connect.servers.ServerPaths;
import io.pgcopy.connect.servers.ShippedConfig;
import io.pgcopy.connect.servers.TableComparison;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The change data capture benchmark (run by bench/cdc.sh, not a test). pgbench (tpcb-like, 4
 * clients, unthrottled) writes to the source for a fixed time while the changes flow to a target,
 * (1) through PostgreSQL's own logical replication (a subscription on the target: the baseline),
 * then (2) through pgcopy-connect (snapshot first, then the stream), one after the other in the
 * same run on the same servers. Lag is measured per pgbench_history row: the target table has an
 * extra column {@code arrived timestamptz DEFAULT clock_timestamp()}, filled when the row is
 * written there, against the row's {@code mtime} (the source transaction's start, a few ms before
 * its commit). Both servers share the machine's clock.
 *
 * <p>Then the catch-up: with the subscription disabled (baseline) or the source connector paused,
 * pgbench updates 100 accounts per transaction until 1M row changes wait in the slot's WAL; the
 * time from enabling (resuming) until the target's accounts add up to the source's is the drain.
 */
public final class CdcBenchmark {
  private static final String SOURCE = "cdcbench-source";
  private static final String SINK = "cdcbench-sink";

  /** What the catch-up cost in Kafka records and transactions, one line per pipeline. */
  private static final StringBuilder transport = new StringBuilder();

  private static final List<String> TABLES =
      List.of("pgbench_accounts", "pgbench_branches", "pgbench_tellers", "pgbench_history");

  public static void main(String[] args) throws Exception {
    int scale = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 60;
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 1;
    Path dir = ServerPaths.workDir();
    StringBuilder catchUps = new StringBuilder();
    StringBuilder report =
        new StringBuilder(
            "pgbench -s "
                + scale
                + ", tpcb-like, 4 clients, "
                + seconds
                + " s; 4 changes per transaction (3 updates, 1 insert)\n\n"
                + "| pipeline | pgbench tps | changes | drained after pgbench ended (s) | changes/s end to end | lag p50 (ms) | lag p99 (ms) | lag max (ms) |\n"
                + "|---|---|---|---|---|---|---|---|\n");
    try (PostgresServer source = PostgresServer.start(dir, "cdc-bench-source");
        PostgresServer target = PostgresServer.start(dir, "cdc-bench-target");
        KafkaBroker broker = KafkaBroker.start(dir, Map.of());
        ConnectWorker worker = ConnectWorker.create(dir, broker, "512m", Map.of()).start()) {
      source.createDatabase("src");
      source.runTool("pgbench", List.of("-i", "-s", String.valueOf(scale), "-q", "src"));
      source.execute("src", "ALTER TABLE pgbench_history REPLICA IDENTITY FULL");

      // (1) baseline: native logical replication
      target.createDatabase("native");
      target.runTool("pgbench", List.of("-i", "-I", "dtp", "-s", "1", "native"));
      target.execute(
          "native",
          "ALTER TABLE pgbench_history ADD COLUMN arrived timestamptz DEFAULT clock_timestamp()");
      source.execute("src", "CREATE PUBLICATION native_pub FOR TABLE " + String.join(", ", TABLES));
      target.execute(
          "native",
          "CREATE SUBSCRIPTION native_sub CONNECTION 'host=127.0.0.1 port="
              + source.port()
              + " dbname=src user=postgres' PUBLICATION native_pub");
      try (Connection t = target.connect("native")) {
        waitFor(
            () ->
                scalar(t, "SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'") == 0,
            600,
            "the subscription's initial copy");
      }
      report
          .append(
              measure(
                  "PostgreSQL logical replication (baseline)", source, target, "native", seconds))
          .append('\n');
      for (int round = 1; round <= rounds; round++) {
        catchUps
            .append(
                catchUp(
                    "PostgreSQL logical replication (baseline)" + roundLabel(round, rounds),
                    false,
                    source,
                    target,
                    "native",
                    scale,
                    worker,
                    broker,
                    () -> target.execute("native", "ALTER SUBSCRIPTION native_sub DISABLE"),
                    () -> target.execute("native", "ALTER SUBSCRIPTION native_sub ENABLE")))
            .append('\n');
      }
      target.execute("native", "DROP SUBSCRIPTION native_sub");
      verify(source, target, "native");
      System.out.println(report);

      // (2) pgcopy-connect: snapshot, then the stream
      target.createDatabase("tgt");
      target.runTool("pgbench", List.of("-i", "-I", "dtp", "-s", "1", "tgt"));
      target.execute(
          "tgt",
          "ALTER TABLE pgbench_history ADD COLUMN arrived timestamptz DEFAULT clock_timestamp()",
          "SELECT 1");
      ConnectRest rest = worker.rest();
      Map<String, String> src =
          ShippedConfig.connector("source.json", source.jdbcUrl("src"), "postgres", null);
      src.remove("snapshot.range.pages");
      src.put("table.include.list", "public." + String.join(",public.", TABLES));
      src.put("topic.prefix", "cdcbench");
      src.put("snapshot.mode", "initial");
      src.put("tasks.max", "4");
      src.putAll(InitialLoadBenchmark.overrides("bench.source"));
      Map<String, String> sink =
          ShippedConfig.connector("sink.json", target.jdbcUrl("tgt"), "postgres", null);
      sink.put("topics.regex", "cdcbench\\.public\\..*");
      sink.put("tasks.max", "2");
      sink.putAll(InitialLoadBenchmark.overrides("bench.sink"));
      rest.putConnector(SINK, sink);
      rest.putConnector(SOURCE, src);
      try (Connection s = source.connect("src");
          Connection t = target.connect("tgt")) {
        long accounts = scalar(s, "SELECT count(*) FROM pgbench_accounts");
        long history = scalar(s, "SELECT count(*) FROM pgbench_history");
        waitFor(
            () ->
                scalar(t, "SELECT count(*) FROM pgbench_accounts") >= accounts
                    && scalar(t, "SELECT count(*) FROM pgbench_history") >= history
                    && Files.readString(worker.logFile())
                        .contains("cdcbench-source-stream: streaming slot"),
            1800,
            "the snapshot");
      }
      report.append(measure("pgcopy-connect", source, target, "tgt", seconds)).append('\n');
      for (int round = 1; round <= rounds; round++) {
        catchUps
            .append(
                catchUp(
                    "pgcopy-connect" + roundLabel(round, rounds),
                    true,
                    source,
                    target,
                    "tgt",
                    scale,
                    worker,
                    broker,
                    () -> rest.pause(SOURCE),
                    () -> rest.resume(SOURCE)))
            .append('\n');
      }
      verify(source, target, "tgt");
    }
    report
        .append(
            "\nCatch-up: 1M row changes (100-row updates of pgbench_accounts, 4 clients) waiting in the slot\n\n"
                + "| pipeline | changes | backlog built in (s) | drain (s) | changes/s | worker CPU (s) | broker CPU (s) | postgres CPU, both (s) |\n|---|---|---|---|---|---|---|---|\n")
        .append(catchUps)
        .append('\n')
        .append(transport);
    Path out = Path.of(System.getProperty("bench.out", "bench/results/cdc.md"));
    Files.createDirectories(out.getParent());
    Files.writeString(out, report.toString());
    System.out.println(report);
  }

  /** Runs pgbench, waits until the target has every history row, and reports throughput and lag. */
  private static String measure(
      String name, PostgresServer source, PostgresServer target, String db, int seconds)
      throws Exception {
    try (Connection s = source.connect("src");
        Connection t = target.connect(db)) {
      long historyBefore = scalar(s, "SELECT count(*) FROM pgbench_history");
      long t0 = System.nanoTime();
      Process pgbench =
          source.startTool(
              "pgbench", List.of("-c", "4", "-j", "2", "-T", String.valueOf(seconds), "-n", "src"));
      if (!pgbench.waitFor(seconds + 120L, TimeUnit.SECONDS) || pgbench.exitValue() != 0) {
        throw new IllegalStateException("pgbench failed");
      }
      long ended = System.nanoTime();
      long history = scalar(s, "SELECT count(*) FROM pgbench_history");
      long transactions = history - historyBefore;
      waitFor(
          () -> scalar(t, "SELECT count(*) FROM pgbench_history") >= history,
          1800,
          name + " to drain");
      long drained = System.nanoTime();
      double[] lag = new double[3];
      try (Statement st = t.createStatement();
          ResultSet rs =
              st.executeQuery(
                  "SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY ms), max(ms) FROM ("
                      + "SELECT extract(epoch FROM arrived - mtime) * 1000 AS ms FROM pgbench_history"
                      + " ORDER BY mtime DESC LIMIT "
                      + transactions
                      + ") l")) {
        rs.next();
        Double[] p = (Double[]) rs.getArray(1).getArray();
        lag[0] = p[0];
        lag[1] = p[1];
        lag[2] = rs.getDouble(2);
      }
      double total = (drained - t0) / 1e9;
      long changes = transactions * 4;
      return String.format(
          "| %s | %.0f | %d | %.1f | %.0f | %.0f | %.0f | %.0f |",
          name,
          transactions / ((ended - t0) / 1e9),
          changes,
          (drained - ended) / 1e9,
          changes / total,
          lag[0],
          lag[1],
          lag[2]);
    }
  }

  private static String roundLabel(int round, int rounds) {
    return rounds == 1 ? "" : ", catch-up " + round;
  }

  private interface Action {
    void run() throws Exception;
  }

  /**
   * Stops the pipeline ({@code stop}), builds a backlog of 1M row changes (10,000 transactions
   * updating 100 accounts each), starts it again ({@code start}) and times how long the target
   * takes to hold the source's accounts again (their balances add up to the source's), and the CPU
   * seconds each process used meanwhile.
   */
  private static String catchUp(
      String name,
      boolean pipeline,
      PostgresServer source,
      PostgresServer target,
      String db,
      int scale,
      ConnectWorker worker,
      KafkaBroker broker,
      Action stop,
      Action start)
      throws Exception {
    stop.run();
    Thread.sleep(2000);
    Path script = Files.createTempFile("pgcopy-catchup", ".sql");
    Files.writeString(
        script,
        "\\set a random(1, "
            + (100000 * scale - 100)
            + ")\n"
            + "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid BETWEEN :a AND :a + 99;\n");
    long b0 = System.nanoTime();
    source.runTool(
        "pgbench",
        List.of("-n", "-c", "4", "-j", "2", "-t", "2500", "-f", script.toString(), "src"));
    double built = (System.nanoTime() - b0) / 1e9;
    String marker = "catch-up " + System.nanoTime();
    try (Connection s = source.connect("src");
        Connection t = target.connect(db)) {
      long sum = scalar(s, "SELECT sum(abalance) FROM pgbench_accounts");
      // committed after the backlog: until it arrives, the target's accounts cannot be complete,
      // and looking for it is an index lookup, where adding up the accounts is a scan of 1M rows
      // (on the cores the pipelines need)
      execute(s, "UPDATE pgbench_branches SET filler = '" + marker + "' WHERE bid = 1");
      execute(t, "SET max_parallel_workers_per_gather = 0");
      Map<Long, String> labels =
          Map.of(scalar(t, "SELECT pg_backend_pid()"), "the benchmark's polling");
      PipelineCounters before = PipelineCounters.read(worker, SOURCE, SINK);
      PostgresCpu pgBefore = PostgresCpu.read(labels);
      double[] cpuBefore = ProcessCpu.cpu(worker.pid(), broker.pid());
      Map<String, Double> workerThreads = ProcessCpu.threads(worker.pid());
      Map<String, Double> brokerThreads = ProcessCpu.threads(broker.pid());
      String profile = pipeline ? System.getProperty("bench.profile.dir") : null;
      String file = name.replaceAll("[^A-Za-z0-9]+", "-");
      JvmProfile workerJfr =
          profile == null
              ? null
              : JvmProfile.start(worker.pid(), Path.of(profile, file + "-worker.jfr"));
      JvmProfile brokerJfr =
          profile == null
              ? null
              : JvmProfile.start(broker.pid(), Path.of(profile, file + "-broker.jfr"));
      long t0 = System.nanoTime();
      WaitSampler waits;
      try (Connection sourceSampler = source.connect("src");
          Connection targetSampler = target.connect(db)) {
        waits = new WaitSampler(db, sourceSampler, targetSampler);
        start.run();
        waitFor(
            () ->
                marker.equals(text(t, "SELECT trim(filler) FROM pgbench_branches WHERE bid = 1"))
                    && scalar(t, "SELECT sum(abalance) FROM pgbench_accounts") == sum,
            1800,
            name + " to catch up");
        waits.close();
      }
      double drain = (System.nanoTime() - t0) / 1e9;
      double[] cpu = ProcessCpu.since(cpuBefore, worker, broker);
      String pgCpu = PostgresCpu.read(labels).since(pgBefore);
      if (profile != null) {
        workerJfr.close();
        brokerJfr.close();
      }
      transport.append(String.format("%s's drain, PostgreSQL CPU-s by process: %s%n", name, pgCpu));
      transport.append(
          String.format("%s's drain, PostgreSQL's processes sampled: %s%n", name, waits.summary()));
      if (pipeline) {
        transport.append(
            String.format(
                "%s's drain, worker CPU-s by thread: %s%n%s's drain, broker CPU-s by thread: %s%n",
                name,
                ProcessCpu.topThreads(workerThreads, ProcessCpu.threads(worker.pid()), 10),
                name,
                ProcessCpu.topThreads(brokerThreads, ProcessCpu.threads(broker.pid()), 10)));
      }
      PipelineCounters kafka = PipelineCounters.read(worker, SOURCE, SINK).since(before);
      if (kafka.sourceRecords() > 0) {
        transport.append(
            String.format(
                "%s's drain: %.0f Kafka records written (%.0f changes, %.0f value bytes per record), "
                    + "%.0f read by the sink; Connect's averages over the last minute: %.1f records per "
                    + "poll, %.1f per transaction, %.1f per sink put%n",
                name,
                kafka.sourceRecords(),
                1_000_000 / kafka.sourceRecords(),
                kafka.sourceBytes() / kafka.sourceRecords(),
                kafka.sinkRecords(),
                kafka.recordsPerPoll(),
                kafka.recordsPerTransaction(),
                kafka.sinkRecordsPerPut()));
      }
      return String.format(
          "| %s | %d | %.1f | %.1f | %.0f | %.1f | %.1f | %.1f |",
          name, 1_000_000, built, drain, 1_000_000 / drain, cpu[0], cpu[1], cpu[2]);
    }
  }

  /**
   * Every pgbench table of the target database equals the source, row by row (the extra arrived
   * column left out).
   */
  private static void verify(PostgresServer source, PostgresServer target, String db)
      throws Exception {
    try (Connection s = source.connect("src");
        Connection t = target.connect(db)) {
      for (String table : TABLES) {
        TableComparison.Result r = TableComparison.compare(s, table, t, table);
        if (!r.same()) {
          throw new IllegalStateException(db + "." + table + " differs from the source: " + r);
        }
      }
    }
  }

  private interface Check {
    boolean ok() throws Exception;
  }

  private static void waitFor(Check check, int seconds, String what) throws Exception {
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    while (!check.ok()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out waiting for " + what);
      }
      Thread.sleep(200);
    }
  }

  private static String text(Connection c, String sql) throws Exception {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  private static void execute(Connection c, String sql) throws Exception {
    try (Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  private static long scalar(Connection c, String sql) throws Exception {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
