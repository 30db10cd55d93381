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
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The initial-load benchmark (run by bench/run.sh, not a test): pgbench_accounts at the given
 * scales from one PostgreSQL to another, (1) through a psql binary COPY pipe, the single-stream
 * baseline, and (2) through the pgcopy source and sink on a Connect worker with a 512 MB heap,
 * timed from the connector POST to the last row committed in the target.
 *
 * <p>{@code -Dbench.extra.column=TYPE} adds a column {@code s} of that type to the table, filled
 * with {@code ((aid % 1000) || ' .. ' || (aid % 1000) + 1.5)::TYPE} (small values: seg's text form
 * keeps only 6 significant digits): {@code seg} (no binary I/O: the table travels as text, and the
 * baseline pipe uses COPY's text format) against {@code text}, its binary twin.
 *
 * <p>{@code -Dbench.warmup.rows=N} first copies N rows of the table (a copy of its own, through
 * connectors of their own) and times the load after it: a worker and a broker that have run a
 * while, whose JIT compilers have done their work, as in a running cluster. Without it the load
 * runs on a fresh worker and broker, and about half of their CPU goes into compiling.
 */
public final class InitialLoadBenchmark {
  /** Rows of the peers' table: tool, rows, seconds, rows/s, ratio, CPU per process. */
  private static final StringBuilder PEERS = new StringBuilder();

  /** tool, rows, seconds per line, tab-separated: the data of bench/plot.sh. */
  private static final StringBuilder PLOT = new StringBuilder();

  public static void main(String[] args) throws Exception {
    int sourceTasks = Integer.parseInt(System.getProperty("bench.source.tasks", "4"));
    int sinkTasks = Integer.parseInt(System.getProperty("bench.sink.tasks", "2"));
    StringBuilder report = new StringBuilder();
    report.append(
        "| scale | rows | table MB | baseline COPY pipe (s) | pgcopy-connect (s) | rows/s | MB/s | ratio to baseline | worker peak RSS (MB) | table bytes/row | Kafka bytes/row |\n");
    report.append("|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (String a : args) {
      report.append(run(Integer.parseInt(a), sourceTasks, sinkTasks)).append('\n');
      System.out.println(report);
    }
    String extra = System.getProperty("bench.extra.column", "");
    String out =
        "source tasks "
            + sourceTasks
            + ", sink tasks "
            + sinkTasks
            + ", worker -Xmx512m"
            + (extra.isEmpty()
                ? ""
                : ", extra column s "
                    + extra
                    + " (baseline pipe in COPY's "
                    + ("seg".equals(extra) ? "text" : "binary")
                    + " format)")
            + "\n\n"
            + report
            + (PEERS.length() == 0
                ? ""
                : "\nIn the same runs, on the same servers (CPU seconds over each tool's run):\n\n"
                    + "| rows | tool | seconds | rows/s | ratio to baseline | worker CPU (s) | broker CPU (s) | of which JIT compiler threads, both (s) | PostgreSQL CPU, both (s) |\n"
                    + "|---|---|---|---|---|---|---|---|---|\n"
                    + PEERS);
    Path file = Path.of(System.getProperty("bench.out", "bench/results/initial-load.md"));
    Files.createDirectories(file.getParent());
    Files.writeString(file, out);
    Files.writeString(Path.of(file.toString().replaceAll("\\.md$", "") + ".tsv"), PLOT);
    System.out.println(out);
  }

  private static String run(int scale, int sourceTasks, int sinkTasks) throws Exception {
    Path dir = ServerPaths.workDir();
    try (PostgresServer source = PostgresServer.start(dir, "bench-source");
        PostgresServer target = PostgresServer.start(dir, "bench-target");
        KafkaBroker broker = KafkaBroker.start(dir, Map.of());
        ConnectWorker worker =
            ConnectWorker.create(dir, broker, "512m", workerSettings()).start()) {
      source.createDatabase("src");
      target.createDatabase("baseline");
      target.createDatabase("tgt");
      source.runTool("pgbench", List.of("-i", "-s", String.valueOf(scale), "-q", "src"));
      String extra = System.getProperty("bench.extra.column", "");
      if (!extra.isEmpty()) {
        String ext = "CREATE EXTENSION IF NOT EXISTS seg";
        source.execute(
            "src",
            ext,
            "ALTER TABLE pgbench_accounts ADD COLUMN s " + extra,
            "UPDATE pgbench_accounts SET s = ((aid % 1000) || ' .. ' || (aid % 1000) + 1.5)::"
                + extra,
            "VACUUM FULL pgbench_accounts");
        target.execute("baseline", ext);
        target.execute("tgt", ext);
      }
      long warmupRows = Long.getLong("bench.warmup.rows", 0);
      if (warmupRows > 0) {
        warmUp(worker.rest(), source, target, warmupRows, scale * 100_000L, sourceTasks, sinkTasks);
      }
      String pipeFormat = "seg".equals(extra) ? "text" : "binary";
      long rows = scale * 100_000L;
      double mb;
      try (Connection c = source.connect("src");
          Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT pg_relation_size('pgbench_accounts')")) {
        rs.next();
        mb = rs.getLong(1) / 1048576.0;
      }

      target.execute(
          "baseline",
          "CREATE TABLE pgbench_accounts (aid integer NOT NULL PRIMARY KEY, bid integer,"
              + " abalance integer, filler character(84)"
              + (extra.isEmpty() ? "" : ", s " + extra)
              + ")");
      String psql = source.binDirectory().resolve("psql").toString();
      String pipe =
          psql
              + " -h 127.0.0.1 -p "
              + source.port()
              + " -U postgres -d src -c \"COPY pgbench_accounts TO STDOUT (FORMAT "
              + pipeFormat
              + ")\" | "
              + psql
              + " -h 127.0.0.1 -p "
              + target.port()
              + " -U postgres -d baseline -c \"COPY pgbench_accounts FROM STDIN (FORMAT "
              + pipeFormat
              + ")\"";
      double[] pipeCpuBefore = ProcessCpu.cpu(worker.pid(), broker.pid());
      double psqlBefore = ProcessCpu.childTicks(ProcessCpu.readStat(Path.of("/proc/self")));
      long t0 = System.nanoTime();
      Process p = new ProcessBuilder("bash", "-o", "pipefail", "-c", pipe).inheritIO().start();
      if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
        throw new IllegalStateException("baseline pipe failed");
      }
      double baseline = (System.nanoTime() - t0) / 1e9;
      // psql's CPU reaches this JVM's children's time once bash, which waited for it, is waited for
      System.out.printf(
          "CPU seconds during the COPY pipe (%.1f s): postgres (both) %.1f, psql (both) %.1f%n",
          baseline,
          ProcessCpu.since(pipeCpuBefore, worker, broker)[2],
          ProcessCpu.childTicks(ProcessCpu.readStat(Path.of("/proc/self"))) - psqlBefore);
      String label = rows >= 1_000_000 ? rows / 1_000_000 + "M" : rows / 1000 + "k";
      PLOT.append("COPY pipe, ").append(label).append('\t').append(rows).append('\t');
      PLOT.append(String.format("%.1f%n", baseline));

      ConnectRest rest = worker.rest();
      Map<String, String> src = sourceConfig(source, "pgbench_accounts", "bench", sourceTasks);
      Map<String, String> sink = sinkConfig(target, "bench.public.pgbench_accounts", sinkTasks);
      long peakRss = 0;
      double[] cpuBefore = ProcessCpu.cpu(worker.pid(), broker.pid());
      t0 = System.nanoTime();
      rest.putConnector("bench-sink", sink);
      rest.putConnector("bench-source", src);
      try (Connection t = target.connect("tgt")) {
        long lastReport = 0;
        long lastCount = 0;
        while (true) {
          peakRss = Math.max(peakRss, rssMb(worker.pid()));
          long inserted = insertedRows(t);
          long elapsedMs = (System.nanoTime() - t0) / 1_000_000;
          if (elapsedMs - lastReport >= 2000) {
            lastReport = elapsedMs;
            System.out.printf(
                "  %5.1f s: %d rows in the target (statistics counter)%n",
                elapsedMs / 1000.0, inserted);
          }
          // the statistics counter lags: a busy backend reports its inserts up to 10 s late
          // (PostgreSQL's idle stats interval), so past half the rows the table itself is counted
          if (inserted >= rows / 2 && elapsedMs - lastCount >= 500) {
            lastCount = elapsedMs;
            if (count(t) >= rows) {
              break;
            }
          }
          if ((System.nanoTime() - t0) / 1e9 > 3600) {
            throw new IllegalStateException("no complete copy within an hour");
          }
          Thread.sleep(200);
        }
      }
      double pipeline = (System.nanoTime() - t0) / 1e9;
      double[] used = ProcessCpu.since(cpuBefore, worker, broker);
      System.out.printf(
          "CPU seconds during the pipeline (scale %d, %.1f s): worker %.1f (JIT compiler threads"
              + " %.1f), broker %.1f (JIT %.1f), postgres (both) %.1f%n",
          scale, pipeline, used[0], used[3], used[1], used[4], used[2]);
      try (Connection s = source.connect("src");
          Connection t = target.connect("tgt")) {
        TableComparison.Result r =
            TableComparison.compare(s, "pgbench_accounts", t, "pgbench_accounts");
        if (!r.same()) {
          if (Boolean.getBoolean("bench.hold")) {
            System.out.println(
                "HOLD source port " + source.port() + " target port " + target.port());
            Thread.sleep(900_000);
          }
          throw new IllegalStateException("target differs from source: " + r);
        }
      }
      PLOT.append(String.format("pgcopy-connect, %s\t%d\t%.1f%n", label, rows, pipeline));
      peer("pgcopy-connect", rows, baseline, pipeline, used);
      String peers = System.getProperty("bench.peers", "");
      if (peers.contains("native") && extra.isEmpty()) {
        double[] before = ProcessCpu.cpu(worker.pid(), broker.pid());
        double seconds = PeerLoads.nativeInitialSync(source, target, "native", rows);
        peer(
            "PostgreSQL native initial sync",
            rows,
            baseline,
            seconds,
            ProcessCpu.since(before, worker, broker));
        PLOT.append(String.format("native initial sync, %s\t%d\t%.1f%n", label, rows, seconds));
      }
      if (PeerLoads.debeziumPlugins() != null && extra.isEmpty()) {
        double[] before = ProcessCpu.cpu(worker.pid(), broker.pid());
        double seconds = PeerLoads.debezium(rest, source, target, "dbz", rows, sinkTasks);
        peer(
            "Debezium PostgreSQL source + JDBC sink",
            rows,
            baseline,
            seconds,
            ProcessCpu.since(before, worker, broker));
        PLOT.append(String.format("Debezium + JDBC sink, %s\t%d\t%.1f%n", label, rows, seconds));
      }
      long kafkaBytes = topicBytes(broker, "bench.public.pgbench_accounts");
      return String.format(
          "| %d | %d | %.0f | %.1f | %.1f | %.0f | %.1f | %.2fx | %d | %.0f | %.0f |",
          scale,
          rows,
          mb,
          baseline,
          pipeline,
          rows / pipeline,
          mb / pipeline,
          pipeline / baseline,
          peakRss,
          mb * 1048576 / rows,
          (double) kafkaBytes / rows);
    }
  }

  private static void peer(String tool, long rows, double baseline, double seconds, double[] cpu) {
    PEERS.append(
        String.format(
            "| %d | %s | %.1f | %.0f | %.2fx | %.1f | %.1f | %.1f | %.1f |%n",
            rows,
            tool,
            seconds,
            rows / seconds,
            seconds / baseline,
            cpu[0],
            cpu[1],
            cpu[3] + cpu[4],
            cpu[2]));
  }

  /** CPU seconds used since {@code before}, per figure of {@link #cpu}. */
  /**
   * The shipped source config, as a user posts it (converters, compression, topic creation),
   * reading one table of the benchmark's source database.
   */
  private static Map<String, String> sourceConfig(
      PostgresServer source, String table, String prefix, int tasks) {
    Map<String, String> src =
        ShippedConfig.connector(
            "source-initial-load.json", source.jdbcUrl("src"), "postgres", null);
    src.remove("snapshot.range.pages");
    src.put("table.include.list", "public." + table);
    src.put("topic.prefix", prefix);
    src.put("snapshot.mode", "initial_only");
    src.put("tasks.max", String.valueOf(tasks));
    src.putAll(overrides("bench.source"));
    return src;
  }

  /** The shipped sink config, writing one topic into the benchmark's target database. */
  private static Map<String, String> sinkConfig(PostgresServer target, String topic, int tasks) {
    Map<String, String> sink =
        ShippedConfig.connector("sink.json", target.jdbcUrl("tgt"), "postgres", null);
    sink.remove("topics.regex");
    sink.put("topics", topic);
    sink.put("tasks.max", String.valueOf(tasks));
    sink.putAll(overrides("bench.sink"));
    return sink;
  }

  /**
   * Copies {@code rows} rows of pgbench_accounts ({@code tableRows} rows) through connectors of
   * their own, as tables of their own (a round per table's worth), and deletes those connectors:
   * the worker's and the broker's code is compiled by then, as in a cluster that has run a while.
   */
  private static void warmUp(
      ConnectRest rest,
      PostgresServer source,
      PostgresServer target,
      long rows,
      long tableRows,
      int sourceTasks,
      int sinkTasks)
      throws Exception {
    long t0 = System.nanoTime();
    for (int round = 1; (round - 1) * tableRows < rows; round++) {
      long n = Math.min(tableRows, rows - (round - 1) * tableRows);
      String table = "warmup" + round + "_accounts";
      source.execute(
          "src",
          "CREATE TABLE " + table + " AS SELECT * FROM pgbench_accounts WHERE aid <= " + n,
          "ALTER TABLE " + table + " ADD PRIMARY KEY (aid)");
      String prefix = "warmup" + round;
      rest.putConnector(
          prefix + "-sink", sinkConfig(target, prefix + ".public." + table, sinkTasks));
      rest.putConnector(prefix + "-source", sourceConfig(source, table, prefix, sourceTasks));
      try (Connection t = target.connect("tgt")) {
        while (count(t, table) < n) {
          if ((System.nanoTime() - t0) / 1e9 > 1200) {
            throw new IllegalStateException("warm-up not done within 20 minutes");
          }
          Thread.sleep(500);
        }
      }
      rest.deleteConnector(prefix + "-source");
      rest.deleteConnector(prefix + "-sink");
    }
    System.out.printf("warm-up: %d rows in %.1f s%n", rows, (System.nanoTime() - t0) / 1e9);
  }

  /**
   * The worker's settings: those of {@code -Dbench.worker}, and with Debezium the plugin path of
   * its unpacked plugins (its jars do not all declare their plugins to the service loader).
   */
  private static Map<String, String> workerSettings() {
    Map<String, String> m = overrides("bench.worker");
    Path debezium = PeerLoads.debeziumPlugins();
    if (debezium != null) {
      m.put("plugin.path", ServerPaths.pluginPath() + "," + debezium);
      m.put("plugin.discovery", "hybrid_warn");
    }
    return m;
  }

  /** key=value,key=value from a system property: settings to try without editing code. */
  /** The "key=value,key=value" settings of system property {@code property}. */
  static Map<String, String> overrides(String property) {
    Map<String, String> m = new HashMap<>();
    for (String kv : System.getProperty(property, "").split(",")) {
      int eq = kv.indexOf('=');
      if (eq > 0) {
        m.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
      }
    }
    return m;
  }

  /** Bytes the topic occupies in the broker's log directory (compressed record batches). */
  private static long topicBytes(KafkaBroker broker, String topic) throws Exception {
    java.util.Properties p = new java.util.Properties();
    p.setProperty("bootstrap.servers", broker.bootstrapServers());
    try (org.apache.kafka.clients.admin.Admin admin =
        org.apache.kafka.clients.admin.Admin.create(p)) {
      long total = 0;
      for (var dirs : admin.describeLogDirs(List.of(1)).allDescriptions().get().values()) {
        for (var d : dirs.values()) {
          for (var e : d.replicaInfos().entrySet()) {
            if (e.getKey().topic().equals(topic)) {
              total += e.getValue().size();
            }
          }
        }
      }
      return total;
    }
  }

  /**
   * Cheap progress signal: rows the statistics collector saw inserted (flushed about once a
   * second).
   */
  private static long insertedRows(Connection t) throws Exception {
    try (Statement st = t.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT coalesce(sum(n_tup_ins - n_tup_del), 0) FROM pg_stat_user_tables WHERE relname = 'pgbench_accounts'")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static long count(Connection t) throws Exception {
    return count(t, "pgbench_accounts");
  }

  /** Rows of {@code table} in the target; 0 while the sink has not created it yet. */
  private static long count(Connection t, String table) throws Exception {
    try (Statement st = t.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      if ("42P01".equals(e.getSQLState())) {
        return 0; // undefined table: not created yet
      }
      throw e;
    }
  }

  private static long rssMb(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
        }
      }
    } catch (Exception e) {
      // the process is gone or /proc is not there
    }
    return 0;
  }
}
