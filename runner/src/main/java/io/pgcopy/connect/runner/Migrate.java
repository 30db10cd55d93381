package io.pgcopy.connect.runner;

import io.pgcopy.connect.servers.ConnectRest;
import io.pgcopy.connect.servers.ConnectWorker;
import io.pgcopy.connect.servers.KafkaBroker;
import io.pgcopy.connect.servers.ShippedConfig;
import io.pgcopy.connect.servers.TableComparison;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * One migration between real databases, on an embedded broker and Connect worker whose data lives
 * in {@code --state-dir}: interrupted (Ctrl-C) or crashed, the same command resumes where the
 * committed offsets say. Stops once the target holds every row and a row-by-row comparison agrees,
 * or with {@code --follow} keeps streaming changes until interrupted.
 */
@Command(
    name = "migrate",
    mixinStandardHelpOptions = true,
    description =
        "Copy tables from a source to a target PostgreSQL through an embedded Kafka broker and Connect worker "
            + "whose state lives in --state-dir (run the same command again to resume). Exit code 0 when the target equals "
            + "the source.")
final class Migrate implements Callable<Integer> {
  @Option(
      names = "--source",
      required = true,
      description = "Source JDBC URL, jdbc:postgresql://host:port/db[?sslmode=...].")
  String sourceUrl;

  @Option(names = "--source-user", required = true)
  String sourceUser;

  @Option(
      names = "--source-password",
      defaultValue = "${env:PGCOPY_SOURCE_PASSWORD}",
      description = "Default: $PGCOPY_SOURCE_PASSWORD.")
  String sourcePassword;

  @Option(names = "--target", required = true, description = "Target JDBC URL.")
  String targetUrl;

  @Option(names = "--target-user", required = true)
  String targetUser;

  @Option(
      names = "--target-password",
      defaultValue = "${env:PGCOPY_TARGET_PASSWORD}",
      description = "Default: $PGCOPY_TARGET_PASSWORD.")
  String targetPassword;

  @Option(
      names = "--tables",
      split = ",",
      description =
          "schema.table[,schema.table...]: these tables only (their target tables are made by the"
              + " sink from their columns). Default: every table of --schemas, or of the database.")
  List<String> tables;

  @Option(
      names = "--schemas",
      split = ",",
      description = "With no --tables: every table of these schemas (default: of every schema).")
  List<String> schemas = new ArrayList<>();

  @Option(
      names = "--no-pre-data",
      description =
          "With no --tables: do not make the target's schema with pg_dump --section=pre-data"
              + " (it exists already).")
  boolean noPreData;

  @Option(
      names = "--pg-bin",
      description =
          "The directory of pg_dump and psql (default: found on PATH or in /usr/lib/postgresql).")
  Path pgBin;

  @Option(
      names = "--tasks",
      defaultValue = "4",
      description = "Snapshot tasks (default ${DEFAULT-VALUE}).")
  int tasks;

  @Option(
      names = "--follow",
      description =
          "After the copy, keep streaming changes (needs wal_level=logical and "
              + "the REPLICATION attribute) until interrupted.")
  boolean follow;

  @Option(
      names = "--state-dir",
      defaultValue = "pgcopy-state",
      description = "Kafka's data and the worker's state " + "(default ./${DEFAULT-VALUE}).")
  Path stateDir;

  @Option(
      names = "--source-option",
      description = "Extra source connector setting, key=value (repeatable).")
  Map<String, String> sourceOptions = new HashMap<>();

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
    Path state = stateDir.toAbsolutePath();
    Files.createDirectories(state);
    Embedded.prepare(state, pluginPath, configDir);
    boolean resuming = Files.isDirectory(state.resolve("kafka").resolve("data"));
    if (tables == null || tables.isEmpty()) {
      wholeDatabase(state, resuming);
    }
    out.printf(
        "pgcopy-connect migrate: %s -> %s, tables %s, state in %s%s%n",
        sourceUrl, targetUrl, tables, state, resuming ? " (resuming)" : "");
    // a crashed run leaves its worker and broker running: the worker goes first, while its broker
    // can still take the end of its transactions
    ConnectWorker.stopStaleAt(state.resolve("connect"));
    KafkaBroker broker = KafkaBroker.startAt(state.resolve("kafka"), Map.of());
    ConnectWorker worker =
        ConnectWorker.createAt(state.resolve("connect"), broker, "512m", Map.of()).start();
    Thread stopper =
        new Thread(
            () -> {
              worker.stop();
              broker.close();
            },
            "pgcopy-migrate-shutdown");
    Runtime.getRuntime()
        .addShutdownHook(stopper); // Ctrl-C: the worker stops its tasks and commits what it can
    try {
      ConnectRest rest = worker.rest();
      Map<String, String> sink = sinkConfig();
      Map<String, String> source = sourceConfig();
      sink.put("name", "migrate-sink");
      source.put("name", "migrate-source");
      List<String> problems =
          new ArrayList<>(BadInput.problems(rest, source.get("connector.class"), source, "source"));
      problems.addAll(BadInput.problems(rest, sink.get("connector.class"), sink, "target"));
      BadInput.throwIfAny(problems);
      rest.putConnector("migrate-sink", sink);
      rest.putConnector("migrate-source", source);
      long rows = 0;
      try (Connection s = connect(sourceUrl, sourceUser, sourcePassword)) {
        for (String t : tables) {
          rows += RowEstimates.of(s, t);
        }
      }
      Embedded.snapshotProgress(rest, worker, "migrate-source", "migrate-sink", rows);
      if (follow) {
        out.println("-> streaming changes; Ctrl-C stops (run the same command to resume)");
        while (true) {
          Thread.sleep(5000);
          TaskFailed.check(rest, "migrate-source", "migrate-sink");
          String mbean = Embedded.sourceMbean("migrate-source", 0);
          out.printf(
              "   %,d changes streamed, lag %d ms, slot retains %d MB%n",
              (Long) worker.jmxAttribute(mbean, "Records"),
              (Long) worker.jmxAttribute(mbean, "StreamLagMillis"),
              (Long) worker.jmxAttribute(mbean, "SlotRetainedWalBytes") >> 20);
        }
      }
      out.println(
          "-> waiting for the target to hold every row, then comparing every table row by row");
      boolean same = verify(rest);
      out.println(
          "-> waiting for the sink to build each table's indexes, constraints and sequences");
      awaitPostData(rest);
      same &= keysAndSequences();
      out.printf(
          "%nSummary: %d tables, target %s the source.%n",
          tables.size(), same ? "EQUALS" : "DIFFERS FROM");
      return same ? 0 : 1;
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(stopper);
        worker.stop();
        broker.close();
      } catch (IllegalStateException shuttingDown) {
        // interrupted (Ctrl-C): the shutdown hook stops the worker and the broker
      }
    }
  }

  /**
   * Every table of {@code --schemas} (or of the database) becomes the list to copy; on a first run
   * the target's schema is made from the source's pre-data, unless {@code --no-pre-data}.
   */
  private void wholeDatabase(Path state, boolean resuming) throws Exception {
    try (Connection s = connect(sourceUrl, sourceUser, sourcePassword)) {
      tables = SourceTables.of(s, schemas);
    } catch (SQLException e) {
      throw new BadInput("cannot list the source's tables: " + e.getMessage());
    }
    if (noPreData || resuming) {
      return;
    }
    try (Connection t = connect(targetUrl, targetUser, targetPassword);
        PreparedStatement ps = t.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
      for (String table : tables) {
        ps.setString(1, table);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          if (rs.getBoolean(1)) {
            throw new BadInput(
                "the target already has "
                    + table
                    + ": migrate into a target without these tables, or pass --no-pre-data to keep"
                    + " the target's own");
          }
        }
      }
    } catch (SQLException e) {
      throw new BadInput("cannot reach the target: " + e.getMessage());
    }
    out.printf(
        "-> making the target's schema: pg_dump --schema-only --section=pre-data%s | psql%n",
        schemas.isEmpty() ? "" : " of " + schemas);
    PreData.copy(
        pgBin,
        new PreData.Server(sourceUrl, sourceUser, sourcePassword),
        new PreData.Server(targetUrl, targetUser, targetPassword),
        schemas,
        state);
  }

  /** config/source.json as shipped (converters, compression, topic creation), for these tables. */
  private Map<String, String> sourceConfig() {
    Map<String, String> c =
        ShippedConfig.connector("source.json", sourceUrl, sourceUser, sourcePassword);
    c.remove("heartbeat.interval.ms");
    c.put("table.include.list", String.join(",", tables));
    c.put("topic.prefix", "migrate");
    c.put("snapshot.mode", follow ? "initial" : "initial_only");
    c.put("snapshot.progress.interval.ms", "1000");
    c.put("slot.name", "pgcopy_migrate");
    c.put("publication.name", "pgcopy_migrate");
    c.put("tasks.max", String.valueOf(tasks));
    c.putAll(sourceOptions);
    return c;
  }

  private Map<String, String> sinkConfig() {
    Map<String, String> c =
        ShippedConfig.connector("sink.json", targetUrl, targetUser, targetPassword);
    c.put("topics.regex", "migrate\\.(?!_pgcopy_progress$).*");
    c.put("tasks.max", "2");
    return c;
  }

  /**
   * Waits until every table has as many rows in the target as in the source, then compares them row
   * by row.
   */
  private boolean verify(ConnectRest rest) throws Exception {
    try (Connection s = connect(sourceUrl, sourceUser, sourcePassword);
        Connection t = connect(targetUrl, targetUser, targetPassword)) {
      for (String table : tables) {
        long expected = count(s, table);
        long seen = -1;
        while (seen < expected) {
          try {
            seen = count(t, table);
          } catch (SQLException e) {
            seen = -1; // not created yet (autocommit: nothing to roll back)
          }
          if (seen < expected) {
            TaskFailed.check(rest, "migrate-source", "migrate-sink");
            Thread.sleep(1000);
          }
        }
      }
      boolean same = true;
      for (String table : tables) {
        TableComparison.Result r = TableComparison.compare(s, table, t, table);
        out.printf(
            "  %-30s %,12d rows in the source, %,12d in the target: %s%n",
            table,
            r.sourceRows(),
            r.targetRows(),
            r.same() ? "same rows" : "different: " + r.differences());
        same &= r.same();
      }
      return same;
    }
  }

  /**
   * Adds the source's foreign keys to the target, now that every table is complete, and sets its
   * sequences a last time.
   */
  private boolean keysAndSequences() throws SQLException {
    try (Connection s = connect(sourceUrl, sourceUser, sourcePassword);
        Connection t = connect(targetUrl, targetUser, targetPassword)) {
      List<ForeignKeys.Key> keys = ForeignKeys.read(s, tables);
      out.printf("-> foreign keys: %d on the source%n", keys.size());
      int added = ForeignKeys.create(t, keys);
      out.printf("   %d added to the target and validated%n", added);
      out.printf(
          "-> sequences: %d moved forward to the source's%n", Sequences.setLastTime(s, t, tables));
      return true;
    } catch (SQLException e) {
      out.println("   " + e.getMessage());
      return false;
    }
  }

  /**
   * Waits until the sink has built the post-data of every table (its arrivals table marks each
   * built), so the worker is not stopped in the middle of an index build.
   */
  private void awaitPostData(ConnectRest rest) throws Exception {
    try (Connection t = connect(targetUrl, targetUser, targetPassword);
        PreparedStatement ps =
            t.prepareStatement(
                "SELECT count(*) FROM unnest(?::text[]) AS l(name)"
                    + " WHERE EXISTS (SELECT 1 FROM public.pgcopy_sink_offsets_post_data p"
                    + "   WHERE p.bucket = -1 AND p.target = (SELECT '\"' || replace(n.nspname, '\"', '\"\"')"
                    + "       || '\".\"' || replace(c.relname, '\"', '\"\"') || '\"'"
                    + "     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    + "     WHERE c.oid = to_regclass(l.name)))")) {
      ps.setArray(1, t.createArrayOf("text", tables.toArray()));
      long built = -1;
      while (built < tables.size()) {
        TaskFailed.check(rest, "migrate-source", "migrate-sink");
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          built = rs.getLong(1);
        } catch (SQLException e) {
          built = -1; // the arrivals table is not there yet
        }
        if (built < tables.size()) {
          Thread.sleep(1000);
        }
      }
      out.printf("   built for all %d tables%n", tables.size());
    }
  }

  private static Connection connect(String url, String user, String password) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", user);
    if (password != null) {
      p.setProperty("password", password);
    }
    return DriverManager.getConnection(url, p);
  }

  private static long count(Connection c, String table) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM " + RowEstimates.quoted(table))) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
