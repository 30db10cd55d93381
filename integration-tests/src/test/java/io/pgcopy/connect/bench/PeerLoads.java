package io.pgcopy.connect.bench;

import io.pgcopy.connect.servers.ConnectRest;
import io.pgcopy.connect.servers.PostgresServer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;

/**
 * The peers of the initial-load benchmark, run on the same servers as pgcopy-connect and its COPY
 * pipe baseline: PostgreSQL's own logical replication initial sync (a subscription with {@code
 * copy_data}), and Debezium's PostgreSQL source with Debezium's JDBC sink on the same Connect
 * worker. Each is timed from its start until the target holds every row.
 */
final class PeerLoads {
  /** The table every peer copies, created in each peer's own target database. */
  static final String TABLE_DDL =
      "CREATE TABLE pgbench_accounts (aid integer NOT NULL PRIMARY KEY, bid integer,"
          + " abalance integer, filler character(84))";

  private PeerLoads() {}

  /**
   * The Debezium plugin directories under {@code -Dbench.debezium.plugins} (bench/peers.sh unpacks
   * the plugin archives there), or null when Debezium is not to run.
   */
  static Path debeziumPlugins() {
    String dir = System.getProperty("bench.debezium.plugins", "");
    return dir.isBlank() ? null : Path.of(dir);
  }

  /**
   * PostgreSQL's native initial sync: a publication of the table on the source and a subscription
   * copying it into database {@code db} of the target (one table-sync worker, COPY in text format
   * on PostgreSQL 15). Returns the seconds from {@code CREATE SUBSCRIPTION} until every row is
   * there and the table is marked ready; the subscription is dropped afterwards.
   */
  static double nativeInitialSync(
      PostgresServer source, PostgresServer target, String db, long rows) throws Exception {
    target.createDatabase(db);
    target.execute(db, TABLE_DDL);
    source.execute("src", "CREATE PUBLICATION bench_native FOR TABLE pgbench_accounts");
    long t0 = System.nanoTime();
    target.execute(
        db,
        "CREATE SUBSCRIPTION bench_native CONNECTION 'host=127.0.0.1 port="
            + source.port()
            + " dbname=src user=postgres' PUBLICATION bench_native");
    try (Connection t = target.connect(db)) {
      awaitRows(
          t, rows, "SELECT count(*) FILTER (WHERE srsubstate <> 'r') FROM pg_subscription_rel");
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    target.execute(db, "DROP SUBSCRIPTION bench_native");
    source.execute("src", "DROP PUBLICATION bench_native");
    return seconds;
  }

  /**
   * Debezium's PostgreSQL source ({@code snapshot.mode=initial_only}, pgoutput) and its JDBC sink
   * (upserts with {@code reWriteBatchedInserts}), JSON with schemas (the sink needs them; no schema
   * registry here), the settings named in docs/benchmarks.md. Returns the seconds from the first
   * PUT until database {@code db} of the target holds every row.
   */
  static double debezium(
      ConnectRest rest,
      PostgresServer source,
      PostgresServer target,
      String db,
      long rows,
      int sinkTasks)
      throws Exception {
    target.createDatabase(db);
    target.execute(db, TABLE_DDL);
    String json = "org.apache.kafka.connect.json.JsonConverter";
    Map<String, String> src = new HashMap<>();
    src.put("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
    src.put("database.hostname", "127.0.0.1");
    src.put("database.port", String.valueOf(source.port()));
    src.put("database.user", "postgres");
    src.put("database.password", "unused");
    src.put("database.dbname", "src");
    src.put("topic.prefix", "dbz");
    src.put("plugin.name", "pgoutput");
    src.put("slot.name", "bench_dbz");
    src.put("publication.name", "bench_dbz");
    src.put("publication.autocreate.mode", "filtered");
    src.put("table.include.list", "public.pgbench_accounts");
    src.put("snapshot.mode", "initial_only");
    src.put("snapshot.fetch.size", "20000");
    src.put("max.batch.size", "20480");
    src.put("max.queue.size", "81920");
    src.put("tasks.max", "1");
    src.put("key.converter", json);
    src.put("value.converter", json);
    src.put("producer.override.compression.type", "lz4");
    src.put("producer.override.linger.ms", "20");
    src.put("producer.override.batch.size", "1048576");
    Map<String, String> sink = new HashMap<>();
    sink.put("connector.class", "io.debezium.connector.jdbc.JdbcSinkConnector");
    sink.put(
        "connection.url",
        "jdbc:postgresql://127.0.0.1:" + target.port() + "/" + db + "?reWriteBatchedInserts=true");
    sink.put("connection.username", "postgres");
    sink.put("connection.password", "unused");
    sink.put("topics", "dbz.public.pgbench_accounts");
    sink.put("collection.name.format", "pgbench_accounts");
    sink.put("insert.mode", "upsert");
    sink.put("primary.key.mode", "record_key");
    sink.put("delete.enabled", "false");
    sink.put("schema.evolution", "none");
    sink.put("batch.size", "10000");
    sink.put("tasks.max", String.valueOf(sinkTasks));
    sink.put("key.converter", json);
    sink.put("value.converter", json);
    sink.put("consumer.override.max.poll.records", "10000");
    sink.put("consumer.override.auto.offset.reset", "earliest");
    long t0 = System.nanoTime();
    rest.putConnector("dbz-sink", sink);
    rest.putConnector("dbz-source", src);
    try (Connection t = target.connect(db)) {
      awaitRows(t, rows, null);
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    rest.deleteConnector("dbz-source");
    rest.deleteConnector("dbz-sink");
    return seconds;
  }

  /**
   * Waits until {@code pgbench_accounts} holds {@code rows} rows (and {@code notDone}, when given,
   * counts 0), polling; fails after an hour.
   */
  private static void awaitRows(Connection t, long rows, String notDone) throws Exception {
    long t0 = System.nanoTime();
    long lastReport = 0;
    while (true) {
      // as for pgcopy-connect: the cheap statistics counter first, the rows themselves past half
      long have =
          count(
              t,
              "SELECT coalesce(sum(n_tup_ins), 0) FROM pg_stat_user_tables"
                  + " WHERE relname = 'pgbench_accounts'");
      if (have >= rows / 2) {
        have = count(t, "SELECT count(*) FROM pgbench_accounts");
      }
      long elapsedMs = (System.nanoTime() - t0) / 1_000_000;
      if (have >= rows && (notDone == null || count(t, notDone) == 0)) {
        return;
      }
      if (elapsedMs - lastReport >= 5000) {
        lastReport = elapsedMs;
        System.out.printf("  %5.1f s: %d rows in the target%n", elapsedMs / 1000.0, have);
      }
      if (elapsedMs > 3_600_000) {
        throw new IllegalStateException("no complete copy within an hour: " + have + " rows");
      }
      Thread.sleep(have >= rows / 2 ? 500 : 200);
    }
  }

  private static long count(Connection t, String sql) throws Exception {
    try (Statement st = t.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
