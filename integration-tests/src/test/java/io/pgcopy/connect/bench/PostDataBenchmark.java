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
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Until the target is complete (rows, primary key, secondary index): {@code pgbench_accounts} with
 * its primary key and an index on {@code bid}, in one run on the same servers, (1) through a binary
 * COPY pipe into a table that has its indexes (what pgcopy-connect did before it built post-data),
 * (2) through the pipe into a bare table, then the index builds (what pg_restore does), and (3)
 * through pgcopy-connect with the shipped configs (the sink creates the table bare and builds the
 * key and index once the snapshot is in). For each: seconds, and the target PostgreSQL server's CPU
 * seconds (every process of it, {@link ServerCpu}) for the load and until complete. Results:
 * bench/results/post-data.md (and .tsv for the plot).
 */
public final class PostDataBenchmark {
  private static final String TABLE =
      "CREATE TABLE pgbench_accounts (aid integer NOT NULL, bid integer, abalance integer,"
          + " filler character(84))";
  private static final String KEY = "ALTER TABLE pgbench_accounts ADD PRIMARY KEY (aid)";
  private static final String INDEX =
      "CREATE INDEX pgbench_accounts_bid_idx ON pgbench_accounts (bid)";

  private PostDataBenchmark() {}

  public static void main(String[] args) throws Exception {
    int sourceTasks = Integer.parseInt(System.getProperty("bench.source.tasks", "4"));
    int sinkTasks = Integer.parseInt(System.getProperty("bench.sink.tasks", "2"));
    StringBuilder report = new StringBuilder();
    StringBuilder plot = new StringBuilder();
    report.append(
        "| rows | way | seconds until complete | of which the load | target PostgreSQL CPU, load (s) | target PostgreSQL CPU, until complete (s) | seconds / pipe-then-index | load CPU / bare pipe's |\n");
    report.append("|---|---|---|---|---|---|---|---|\n");
    for (String a : args) {
      run(Integer.parseInt(a), sourceTasks, sinkTasks, report, plot);
      System.out.println(report);
    }
    String out =
        "source tasks "
            + sourceTasks
            + ", sink tasks "
            + sinkTasks
            + ", worker -Xmx512m, maintenance_work_mem 256MB for every index build\n\n"
            + report;
    Path file = Path.of(System.getProperty("bench.out", "bench/results/post-data.md"));
    Files.createDirectories(file.getParent());
    Files.writeString(file, out);
    Files.writeString(Path.of(file.toString().replaceAll("\\.md$", "") + ".tsv"), plot);
    System.out.println(out);
  }

  private static void run(
      int scale, int sourceTasks, int sinkTasks, StringBuilder report, StringBuilder plot)
      throws Exception {
    Path dir = ServerPaths.workDir();
    try (PostgresServer source = PostgresServer.start(dir, "bench-source");
        PostgresServer target = PostgresServer.start(dir, "bench-target");
        KafkaBroker broker = KafkaBroker.start(dir, Map.of());
        ConnectWorker worker = ConnectWorker.create(dir, broker, "512m", Map.of()).start()) {
      source.createDatabase("src");
      for (String db : List.of("indexed", "bare", "tgt")) {
        target.createDatabase(db);
      }
      source.runTool("pgbench", List.of("-i", "-s", String.valueOf(scale), "-q", "src"));
      source.execute("src", INDEX, "VACUUM ANALYZE pgbench_accounts");
      long rows = scale * 100_000L;
      String label = rows / 1_000_000 + "M";

      // (1) the pipe into the table with its key and index
      target.execute("indexed", TABLE, KEY, INDEX);
      Load indexed = pipe(source, target, "indexed");
      // (2) the pipe into a bare table, then the builds
      target.execute("bare", TABLE);
      Load bare = pipe(source, target, "bare");
      double before = ServerCpu.seconds(target);
      long t0 = System.nanoTime();
      target.execute("bare", "SET maintenance_work_mem = '256MB'; " + KEY + "; " + INDEX);
      double builds = (System.nanoTime() - t0) / 1e9;
      double buildCpu = ServerCpu.seconds(target) - before;
      Load pipeThenIndex =
          new Load(bare.seconds() + builds, bare.seconds(), bare.cpu(), bare.cpu() + buildCpu);
      // (3) pgcopy-connect
      Load connect = connect(worker.rest(), source, target, rows, sourceTasks, sinkTasks);
      try (Connection s = source.connect("src");
          Connection t = target.connect("tgt")) {
        TableComparison.Result r =
            TableComparison.compare(s, "pgbench_accounts", t, "pgbench_accounts");
        if (!r.same()) {
          throw new IllegalStateException("target differs from source: " + r);
        }
      }
      row(report, label, "COPY pipe into the indexed table", indexed, pipeThenIndex, bare);
      row(
          report,
          label,
          "COPY pipe into a bare table, then the index builds",
          pipeThenIndex,
          pipeThenIndex,
          bare);
      row(report, label, "pgcopy-connect (shipped configs)", connect, pipeThenIndex, bare);
      plot.append(
          String.format("pipe into indexed, %s\t%d\t%.1f%n", label, rows, indexed.seconds()));
      plot.append(
          String.format(
              "pipe, then indexes, %s\t%d\t%.1f%n", label, rows, pipeThenIndex.seconds()));
      plot.append(String.format("pgcopy-connect, %s\t%d\t%.1f%n", label, rows, connect.seconds()));
    }
  }

  /**
   * Seconds until complete, of which the load; the target database's sessions' CPU seconds for the
   * load and for the whole.
   */
  private record Load(double seconds, double loadSeconds, double loadCpu, double cpu) {}

  private static void row(
      StringBuilder report, String label, String way, Load l, Load pipeThenIndex, Load bare) {
    report.append(
        String.format(
            "| %s | %s | %.1f | %.1f | %.1f | %.1f | %.2fx | %.2fx |%n",
            label,
            way,
            l.seconds(),
            l.loadSeconds(),
            l.loadCpu(),
            l.cpu(),
            l.seconds() / pipeThenIndex.seconds(),
            l.loadCpu() / bare.loadCpu()));
  }

  private static Load pipe(PostgresServer source, PostgresServer target, String db)
      throws Exception {
    String psql = source.binDirectory().resolve("psql").toString();
    String pipe =
        psql
            + " -h 127.0.0.1 -p "
            + source.port()
            + " -U postgres -d src -c \"COPY pgbench_accounts TO STDOUT (FORMAT binary)\" | "
            + psql
            + " -h 127.0.0.1 -p "
            + target.port()
            + " -U postgres -d "
            + db
            + " -c \"COPY pgbench_accounts FROM STDIN (FORMAT binary)\"";
    double before = ServerCpu.seconds(target);
    long t0 = System.nanoTime();
    Process p = new ProcessBuilder("bash", "-o", "pipefail", "-c", pipe).inheritIO().start();
    if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new IllegalStateException("the COPY pipe into " + db + " failed");
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    double cpu = ServerCpu.seconds(target) - before;
    return new Load(seconds, seconds, cpu, cpu);
  }

  /**
   * Through the connectors: until every row is in the target (the load) and the sink has built the
   * table's post-data (complete).
   */
  private static Load connect(
      ConnectRest rest,
      PostgresServer source,
      PostgresServer target,
      long rows,
      int sourceTasks,
      int sinkTasks)
      throws Exception {
    Map<String, String> src =
        ShippedConfig.connector(
            "source-initial-load.json", source.jdbcUrl("src"), "postgres", null);
    src.put("table.include.list", "public.pgbench_accounts");
    src.put("topic.prefix", "bench");
    src.put("tasks.max", String.valueOf(sourceTasks));
    Map<String, String> sink =
        ShippedConfig.connector("sink.json", target.jdbcUrl("tgt"), "postgres", null);
    sink.remove("topics.regex");
    sink.put("topics", "bench.public.pgbench_accounts");
    sink.put("tasks.max", String.valueOf(sinkTasks));
    double loadSeconds = -1;
    double loadCpu = -1;
    double seconds;
    double cpu;
    try (Connection t = target.connect("tgt")) {
      t.setAutoCommit(true);
      try (Statement st = t.createStatement()) {
        st.execute("SET lock_timeout = '100ms'");
      }
      // this polling session's CPU is not the load's
      Map<Long, String> polling = Map.of(backendPid(t), "polling");
      PostgresCpu before = PostgresCpu.read(polling);
      double serverBefore = ServerCpu.seconds(target);
      long t0 = System.nanoTime();
      rest.putConnector("bench-sink", sink);
      rest.putConnector("bench-source", src);
      while (true) {
        if ((System.nanoTime() - t0) / 1e9 > 3600) {
          throw new IllegalStateException("no complete copy within an hour");
        }
        if (loadSeconds < 0 && count(t) >= rows) {
          loadSeconds = (System.nanoTime() - t0) / 1e9;
          loadCpu = targetCpu(target, serverBefore, before, polling);
        }
        if (loadSeconds >= 0 && built(t)) {
          break;
        }
        Thread.sleep(loadSeconds < 0 ? 500 : 100);
      }
      seconds = (System.nanoTime() - t0) / 1e9;
      cpu = targetCpu(target, serverBefore, before, polling);
    }
    rest.deleteConnector("bench-source");
    rest.deleteConnector("bench-sink");
    return new Load(seconds, loadSeconds, loadCpu, cpu);
  }

  /** The target server's CPU seconds since the readings given, without the polling session's. */
  private static double targetCpu(
      PostgresServer target, double serverBefore, PostgresCpu before, Map<Long, String> polling)
      throws Exception {
    double polled = PostgresCpu.read(polling).seconds(before, "polling");
    return ServerCpu.seconds(target) - serverBefore - polled;
  }

  private static long backendPid(Connection t) throws Exception {
    try (Statement st = t.createStatement();
        ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /**
   * Rows in the target's table; -1 while it does not exist; {@link Long#MAX_VALUE} when the count
   * waits on a lock, which only the primary key's build after the load takes (the load is done).
   */
  private static long count(Connection t) throws Exception {
    try (Statement st = t.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM public.pgbench_accounts")) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      return "55P03".equals(e.getSQLState()) ? Long.MAX_VALUE : -1;
    }
  }

  /** Whether the sink marked the table's post-data built. */
  private static boolean built(Connection t) throws Exception {
    try (Statement st = t.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT EXISTS (SELECT 1 FROM public.pgcopy_sink_offsets_post_data"
                    + " WHERE bucket = -1 AND target = '\"public\".\"pgbench_accounts\"')")) {
      rs.next();
      return rs.getBoolean(1);
    } catch (SQLException e) {
      return false; // the sink has not made its table yet
    }
  }
}
