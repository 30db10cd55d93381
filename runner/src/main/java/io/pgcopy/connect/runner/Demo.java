package io.pgcopy.connect.runner;

import io.pgcopy.connect.servers.ConnectRest;
import io.pgcopy.connect.servers.ConnectWorker;
import io.pgcopy.connect.servers.KafkaBroker;
import io.pgcopy.connect.servers.PostgresServer;
import io.pgcopy.connect.servers.ShippedConfig;
import io.pgcopy.connect.servers.TableComparison;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The demo: two PostgreSQL servers, a broker and a Connect worker started here, a pgbench dataset
 * copied with several snapshot tasks, then live changes streamed, with progress read from the
 * connectors' JMX metrics, and the target verified against the source row by row.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description =
        "Start a source and a target PostgreSQL, a Kafka broker and a Connect worker on this machine, copy a "
            + "generated dataset, stream live changes, verify that the target equals the source. Exit code 0 when it does.")
final class Demo implements Callable<Integer> {
  private static final List<String> TABLES =
      List.of("pgbench_accounts", "pgbench_branches", "pgbench_tellers", "pgbench_history");

  @Option(
      names = "--scale",
      defaultValue = "10",
      description = "Dataset size: pgbench scale, 100,000 rows each (default ${DEFAULT-VALUE}).")
  int scale;

  @Option(
      names = "--tasks",
      defaultValue = "4",
      description = "Snapshot tasks (default ${DEFAULT-VALUE}).")
  int tasks;

  @Option(
      names = "--changes-seconds",
      defaultValue = "20",
      description =
          "Seconds of live changes (pgbench) after the snapshot (default ${DEFAULT-VALUE}).")
  int changeSeconds;

  @Option(
      names = "--work-dir",
      description =
          "Where the servers keep their data (default: a new directory under the system temp directory).")
  Path workDir;

  @Option(
      names = "--plugin-path",
      description = "The plugin package directory (default: the one inside this jar).")
  Path pluginPath;

  @Option(
      names = "--config-dir",
      description =
          "A config/ directory like the project's (default: the shipped one inside this jar).")
  Path configDir;

  private final PrintStream out = System.out;

  @Override
  public Integer call() throws Exception {
    Path work =
        (workDir != null ? workDir : Files.createTempDirectory("pgcopy-demo-")).toAbsolutePath();
    Files.createDirectories(work);
    Embedded.prepare(work, pluginPath, configDir);

    out.printf(
        "pgcopy-connect demo: pgbench scale %d (%,d rows), %d snapshot tasks, %d s of live changes; data in %s%n",
        scale, scale * 100_000L, tasks, changeSeconds, work);
    step("starting two PostgreSQL servers, a Kafka broker and a Connect worker");
    try (PostgresServer source = PostgresServer.start(work, "source");
        PostgresServer target = PostgresServer.start(work, "target", "replica");
        KafkaBroker broker = KafkaBroker.start(work, Map.of());
        ConnectWorker worker = ConnectWorker.create(work, broker, "512m", Map.of()).start()) {
      source.createDatabase("demo");
      target.createDatabase("demo");
      step("generating the dataset (pgbench -i -s " + scale + ")");
      source.runTool("pgbench", List.of("-i", "-s", String.valueOf(scale), "-q", "demo"));
      source.execute("demo", "ALTER TABLE pgbench_history REPLICA IDENTITY FULL");
      long rows;
      try (Connection s = source.connect("demo")) {
        rows =
            scalar(
                s,
                "SELECT (SELECT count(*) FROM pgbench_accounts) + (SELECT count(*) FROM pgbench_branches)"
                    + " + (SELECT count(*) FROM pgbench_tellers) + (SELECT count(*) FROM pgbench_history)");
      }

      ConnectRest rest = worker.rest();
      rest.putConnector("demo-sink", sinkConfig(target));
      long t0 = System.nanoTime();
      rest.putConnector("demo-source", sourceConfig(source));
      Embedded.snapshotProgress(rest, worker, "demo-source", "demo-sink", rows);
      double snapshotSeconds = (System.nanoTime() - t0) / 1e9;

      Process pgbench =
          source.startTool(
              "pgbench",
              List.of("-c", "2", "-j", "2", "-T", String.valueOf(changeSeconds), "-n", "demo"));
      long maxLag = streamProgress(worker, pgbench);
      if (pgbench.exitValue() != 0) {
        out.println("pgbench failed (exit " + pgbench.exitValue() + ")");
        return 2;
      }

      step("waiting for the last changes, then comparing every table row by row");
      boolean same = verify(source, target, Duration.ofMinutes(5));
      out.println();
      out.printf(
          "Summary: snapshot of %,d rows in %.1f s (%,.0f rows/s), %d s of pgbench changes streamed"
              + " (lag at most %d ms), target %s the source.%n",
          rows,
          snapshotSeconds,
          rows / snapshotSeconds,
          changeSeconds,
          maxLag,
          same ? "EQUALS" : "DIFFERS FROM");
      return same ? 0 : 1;
    }
  }

  private Map<String, String> sourceConfig(PostgresServer source) {
    Map<String, String> c =
        ShippedConfig.connector("source.json", source.jdbcUrl("demo"), "postgres", null);
    c.put("table.include.list", "public." + String.join(",public.", TABLES));
    c.put("topic.prefix", "demo");
    c.put("snapshot.mode", "initial");
    c.put("snapshot.range.pages", "2048");
    c.put("snapshot.progress.interval.ms", "1000");
    c.put("heartbeat.interval.ms", "5000");
    c.put("tasks.max", String.valueOf(tasks));
    return c;
  }

  private static Map<String, String> sinkConfig(PostgresServer target) {
    Map<String, String> c =
        ShippedConfig.connector("sink.json", target.jdbcUrl("demo"), "postgres", null);
    c.put("topics.regex", "demo\\.(?!_pgcopy_progress$).*");
    c.put("tasks.max", "2");
    return c;
  }

  /** Live changes: seconds of pgbench, with the stream task's lag; returns the largest lag seen. */
  private long streamProgress(ConnectWorker worker, Process pgbench) throws Exception {
    String mbean = Embedded.sourceMbean("demo-source", 0);
    long maxLag = 0;
    long start = System.nanoTime();
    try (ProgressBar bar =
        new ProgressBarBuilder()
            .setTaskName("changes")
            .setInitialMax(changeSeconds)
            .setUnit(" s", 1)
            .setStyle(ProgressBarStyle.ASCII)
            .setMaxRenderedLength(120)
            .setUpdateIntervalMillis(500)
            .continuousUpdate()
            .build()) {
      while (pgbench.isAlive()) {
        long lag = (Long) worker.jmxAttribute(mbean, "StreamLagMillis");
        long changes = (Long) worker.jmxAttribute(mbean, "Records");
        maxLag = Math.max(maxLag, lag);
        bar.stepTo(Math.min(changeSeconds, (System.nanoTime() - start) / 1_000_000_000L));
        bar.setExtraMessage(
            String.format(" %,d changes streamed, lag %d ms", changes, Math.max(lag, 0)));
        Thread.sleep(500);
      }
      bar.stepTo(changeSeconds);
    }
    return maxLag;
  }

  private boolean verify(PostgresServer source, PostgresServer target, Duration timeout)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    try (Connection s = source.connect("demo");
        Connection t = target.connect("demo")) {
      while (true) {
        boolean same = true;
        StringBuilder report = new StringBuilder();
        for (String table : TABLES) {
          TableComparison.Result r = TableComparison.compare(s, table, t, table);
          report.append(
              String.format(
                  "  %-18s %,10d rows in the source, %,10d in the target: %s%n",
                  table, r.sourceRows(), r.targetRows(), r.same() ? "same rows" : "different"));
          same &= r.same();
        }
        if (same || System.nanoTime() > deadline) {
          out.print(report);
          return same;
        }
        Thread.sleep(1000);
      }
    } catch (java.sql.SQLException e) {
      out.println("comparing failed: " + e.getMessage());
      return false;
    }
  }

  private void step(String what) {
    out.println("-> " + what);
  }

  private static long scalar(Connection c, String sql) throws Exception {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
