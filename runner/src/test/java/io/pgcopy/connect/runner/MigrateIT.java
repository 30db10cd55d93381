package io.pgcopy.connect.runner;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgcopy.connect.servers.PostgresServer;
import io.pgcopy.connect.servers.TableComparison;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code migrate} between two real databases, interrupted in the middle of the copy (SIGTERM, as
 * Ctrl-C sends), run again with the same state directory and killed (SIGKILL, as a crash, which
 * leaves its broker and worker processes behind), then run a third time: it resumes each time and
 * ends with a target equal to the source, row by row, a keyless table included (a row copied twice
 * would show).
 */
class MigrateIT {
  private static final Path JAR = Path.of("target", "pgcopy-runner.jar").toAbsolutePath();

  @Test
  void interruptedMigrationResumesAndVerifies() throws Exception {
    Path work = Files.createDirectories(Path.of("target", "migrate-it").toAbsolutePath());
    try (PostgresServer source = PostgresServer.start(work, "source");
        PostgresServer target = PostgresServer.start(work, "target", "replica")) {
      source.createDatabase("app");
      target.createDatabase("app");
      source.execute(
          "app",
          "CREATE TABLE public.orders (id bigint PRIMARY KEY, customer text, amount numeric(12,2))",
          "INSERT INTO public.orders SELECT g, 'customer ' || (g % 1000), g / 7.0 FROM generate_series(1, 200000) g",
          "CREATE TABLE public.events (at timestamptz, payload text)",
          "INSERT INTO public.events SELECT now() - g * interval '1 s', 'event ' || (g % 10) FROM generate_series(1, 200000) g",
          "ANALYZE");
      Path state = Files.createTempDirectory(work, "state-");
      List<String> command =
          migrate(
              JAR,
              List.of(
                  "--source",
                  source.jdbcUrl("app"),
                  "--source-user",
                  "postgres",
                  "--target",
                  target.jdbcUrl("app"),
                  "--target-user",
                  "postgres",
                  "--tables",
                  "public.orders,public.events",
                  "--tasks",
                  "2",
                  "--state-dir",
                  state.toString(),
                  "--source-option",
                  "snapshot.range.pages=200"));

      // first run: slowed down (small polls of small batches), interrupted once part of the rows
      // are in the target
      List<String> slow = new ArrayList<>(command);
      slow.addAll(
          List.of("--source-option", "batch.max.rows=100", "--source-option", "batch.bytes=1024"));
      Path firstLog = work.resolve("first.out");
      Process first = startUntil(slow, firstLog, target, 20_000);
      first.destroy(); // SIGTERM, as Ctrl-C
      assertThat(first.waitFor(2, TimeUnit.MINUTES)).as("first run stopped on SIGTERM").isTrue();

      // second run: resumes, and is killed outright (SIGKILL, a crash) with its broker and worker
      // left behind; the next run stops those and resumes again
      Path crashLog = work.resolve("crash.out");
      Process crash = startUntil(slow, crashLog, target, rows(target) + 20_000);
      crash.destroyForcibly();
      assertThat(crash.waitFor(1, TimeUnit.MINUTES)).isTrue();
      assertThat(Files.readString(crashLog)).contains("(resuming)");

      String out = succeeding(command, null, work.resolve("second.out"), 8);
      assertThat(out)
          .contains("(resuming)")
          .contains("target EQUALS the source")
          .contains("built for all 2 tables");
      try (Connection s = source.connect("app");
          Connection t = target.connect("app")) {
        // the keyed table's primary key, built after its rows
        assertThat(primaryKey(t, "public.orders")).isEqualTo("orders_pkey");
        for (String table : List.of("public.orders", "public.events")) {
          TableComparison.Result r = TableComparison.compare(s, table, t, table);
          assertThat(r.same()).as(table + ": " + r).isTrue();
        }
      }
      // the second run resumed: the worker found the offsets of ranges finished before the
      // interrupt
      String workerLogs = Files.readString(state.resolve("connect").resolve("worker-1.log"));
      boolean skippedDoneRanges =
          java.util.regex.Pattern.compile("migrate-source: (\\d+) of (\\d+) ranges left to read")
              .matcher(workerLogs)
              .results()
              .anyMatch(m -> Integer.parseInt(m.group(1)) < Integer.parseInt(m.group(2)));
      boolean resumedInsideARange =
          workerLogs.matches("(?s).*resuming \"public\"\\.\"(orders|events)\" pages.*");
      assertThat(skippedDoneRanges || resumedInsideARange)
          .as("the second run started from the committed offsets")
          .isTrue();
    }
  }

  /**
   * A task that fails ends the command at once, with the task's own message on one line and a
   * non-zero exit, instead of waiting for rows that will not come: here the sink, whose target
   * lacks the source's enum type.
   */
  @Test
  void aFailedTaskEndsTheCommandAtOnceWithItsMessage() throws Exception {
    Path work = Files.createDirectories(Path.of("target", "migrate-it").toAbsolutePath());
    try (PostgresServer source = PostgresServer.start(work, "failing-source");
        PostgresServer target = PostgresServer.start(work, "failing-target", "replica")) {
      source.createDatabase("app");
      target.createDatabase("app");
      source.execute(
          "app",
          "CREATE TYPE order_status AS ENUM ('new', 'paid')",
          "CREATE TABLE public.orders (id bigint PRIMARY KEY, status order_status)",
          "INSERT INTO public.orders SELECT g, 'paid' FROM generate_series(1, 1000) g");
      Path alone = Files.createTempDirectory(work, "alone-");
      Files.copy(Path.of("target", "pgcopy-runner.jar"), alone.resolve("pgcopy-runner.jar"));
      Path state = alone.resolve("state");
      String out =
          failing(
              alone,
              alone.resolve("pgcopy-runner.jar"),
              work.resolve("failing.out"),
              List.of(
                  "--source",
                  source.jdbcUrl("app"),
                  "--source-user",
                  "postgres",
                  "--target",
                  target.jdbcUrl("app"),
                  "--target-user",
                  "postgres",
                  "--tables",
                  "public.orders",
                  "--state-dir",
                  state.toString()));
      assertThat(out)
          .contains("pgcopy: migrate-sink task")
          .contains("cannot create target table \"public\".\"orders\"")
          .contains("order_status")
          .contains("/1000 rows") // the progress bar counts a table never analyzed
          .doesNotContain("\tat ");
    }
  }

  /**
   * Input that cannot work ends the command with one line per problem, naming the setting, and a
   * non-zero exit, before anything is copied: a target nothing listens on and a table the source
   * lacks (one run), then a password the source needs and was not given.
   */
  @Test
  void badInputEndsWithOneLinePerProblem() throws Exception {
    Path work = Files.createDirectories(Path.of("target", "migrate-it").toAbsolutePath());
    try (PostgresServer source = PostgresServer.start(work, "input-source")) {
      source.createDatabase("app");
      source.execute(
          "app",
          "CREATE TABLE public.orders (id bigint PRIMARY KEY)",
          "CREATE ROLE app LOGIN PASSWORD 'secret'",
          "GRANT SELECT ON public.orders TO app");
      String nowhere = "jdbc:postgresql://127.0.0.1:" + freePort() + "/app";
      String out =
          failing(
              work,
              JAR,
              work.resolve("bad-url-table.out"),
              List.of(
                  "--state-dir",
                  Files.createTempDirectory(work, "state-").toString(),
                  "--source",
                  source.jdbcUrl("app"),
                  "--source-user",
                  "postgres",
                  "--target",
                  nowhere,
                  "--target-user",
                  "postgres",
                  "--tables",
                  "public.orders,public.nothing"));
      assertThat(out)
          .contains("pgcopy: target connection.url:")
          .contains("pgcopy: source table.include.list:")
          .contains("public.nothing");
      out =
          failing(
              work,
              JAR,
              work.resolve("no-password.out"),
              List.of(
                  "--state-dir",
                  Files.createTempDirectory(work, "state-").toString(),
                  "--source",
                  source.jdbcUrl("app"),
                  "--source-user",
                  "app",
                  "--target",
                  source.jdbcUrl("app"),
                  "--target-user",
                  "postgres",
                  "--tables",
                  "public.orders"));
      assertThat(out).contains("pgcopy: source connection.password:");
    }
  }

  /** {@code java -Xmx512m -jar <jar> migrate <args>}. */
  /**
   * A whole database, with the runner's jar alone in an empty directory: migrate without --tables
   * makes the target's schema with pg_dump's pre-data, copies every table of both schemas through
   * the connectors (which build keys, indexes and constraints after each load), adds the foreign
   * keys and sets every sequence; the schema dumps of both databases are then equal, every table
   * equals its source, and inserts through serial and identity columns take free keys.
   */
  @Test
  void aWholeDatabaseBecomesATargetYouCanSwitchTo() throws Exception {
    Path work = Files.createDirectories(Path.of("target", "migrate-it").toAbsolutePath());
    try (PostgresServer source = PostgresServer.start(work, "whole-source");
        PostgresServer target = PostgresServer.start(work, "whole-target", "replica")) {
      source.createDatabase("app");
      target.createDatabase("app");
      source.execute(
          "app",
          "CREATE SCHEMA shop",
          "CREATE TYPE shop.status AS ENUM ('new', 'paid')",
          "CREATE DOMAIN shop.qty AS integer CHECK (VALUE > 0)",
          "CREATE TABLE shop.customers (id serial PRIMARY KEY, email text NOT NULL UNIQUE)",
          "CREATE TABLE shop.orders (id bigserial PRIMARY KEY,"
              + " customer_id integer NOT NULL REFERENCES shop.customers (id),"
              + " status shop.status NOT NULL DEFAULT 'new', n shop.qty NOT NULL,"
              + " amount numeric(10,2) CHECK (amount >= 0),"
              + " total numeric GENERATED ALWAYS AS (amount * n) STORED)",
          "CREATE INDEX orders_paid_idx ON shop.orders (customer_id) WHERE status = 'paid'",
          "CREATE VIEW shop.paid AS SELECT * FROM shop.orders WHERE status = 'paid'",
          "CREATE TABLE shop.log (at timestamptz NOT NULL DEFAULT now(), line text)",
          "CREATE SCHEMA extra",
          "CREATE TABLE extra.tickets (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
              + " day date NOT NULL)",
          "CREATE TABLE extra.days (id bigint NOT NULL, day date NOT NULL, PRIMARY KEY (id, day))"
              + " PARTITION BY RANGE (day)",
          "CREATE TABLE extra.days_old PARTITION OF extra.days FOR VALUES FROM (MINVALUE) TO ('2025-01-01')",
          "CREATE TABLE extra.days_new PARTITION OF extra.days FOR VALUES FROM ('2025-01-01') TO (MAXVALUE)",
          "INSERT INTO extra.days SELECT g, '2024-06-01'::date + g % 400 FROM generate_series(1, 6000) g",
          "CREATE SEQUENCE extra.invoice_no START 500",
          "SELECT nextval('extra.invoice_no') FROM generate_series(1, 20)",
          "INSERT INTO shop.customers (email) SELECT 'c' || g || '@example.com' FROM generate_series(1, 3000) g",
          "INSERT INTO shop.orders (customer_id, status, n, amount) SELECT 1 + g % 3000,"
              + " (ARRAY['new','paid'])[1 + g % 2]::shop.status, 1 + g % 5, g % 700"
              + " FROM generate_series(1, 40000) g",
          "INSERT INTO shop.log (line) SELECT 'line ' || g FROM generate_series(1, 5000) g",
          "INSERT INTO extra.tickets (day) SELECT current_date FROM generate_series(1, 8000)",
          "ANALYZE");
      Path alone = Files.createTempDirectory(work, "whole-");
      Files.copy(JAR, alone.resolve("pgcopy-runner.jar"));
      String out =
          succeeding(
              migrate(
                  alone.resolve("pgcopy-runner.jar"),
                  List.of(
                      "--source",
                      source.jdbcUrl("app"),
                      "--source-user",
                      "postgres",
                      "--target",
                      target.jdbcUrl("app"),
                      "--target-user",
                      "postgres",
                      "--tasks",
                      "2",
                      "--state-dir",
                      alone.resolve("state").toString())),
              alone,
              alone.resolve("migrate.out"),
              6);
      assertThat(out)
          .contains("pg_dump --schema-only --section=pre-data")
          .contains("foreign keys: 1 on the source")
          .contains("1 added to the target and validated")
          .contains("target EQUALS the source");
      String offsetsTables = "--exclude-table=public.pgcopy_sink_offsets*";
      assertThat(target.schemaDump("app", offsetsTables))
          .isEqualTo(source.schemaDump("app", offsetsTables));
      try (Connection s = source.connect("app");
          Connection t = target.connect("app")) {
        for (String seq :
            List.of(
                "shop.customers_id_seq",
                "shop.orders_id_seq",
                "extra.tickets_id_seq",
                "extra.invoice_no")) {
          assertThat(lastValue(t, seq)).as(seq).isEqualTo(lastValue(s, seq));
        }
      }
      target.execute(
          "app",
          "INSERT INTO shop.customers (email) VALUES ('new@example.com')",
          "INSERT INTO shop.orders (customer_id, n) VALUES (1, 1)",
          "INSERT INTO extra.tickets (day) VALUES (current_date)");
    }
  }

  private static long lastValue(Connection c, String sequence) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT last_value FROM " + sequence);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /**
   * Runs {@code command} in {@code dir} (null: this one), expects it to end within {@code minutes}
   * with exit code 0; returns its output.
   */
  private static String succeeding(List<String> command, Path dir, Path log, int minutes)
      throws Exception {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    if (dir != null) {
      pb.directory(dir.toFile());
    }
    Process p = pb.redirectOutput(log.toFile()).start();
    boolean finished = p.waitFor(minutes, TimeUnit.MINUTES);
    String out = Files.readString(log);
    if (!finished) {
      p.destroy();
    }
    assertThat(finished).as(out).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out;
  }

  private static List<String> migrate(Path jar, List<String> args) {
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m",
                "-jar",
                jar.toString(),
                "migrate"));
    command.addAll(args);
    return command;
  }

  /**
   * Runs migrate with {@code args} in {@code dir} (no password in its environment), expects it to
   * end within 3 minutes with exit code 2 and no stack trace; returns its output.
   */
  private static String failing(Path dir, Path jar, Path log, List<String> args) throws Exception {
    ProcessBuilder pb =
        new ProcessBuilder(migrate(jar, args))
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    pb.environment().remove("PGCOPY_SOURCE_PASSWORD");
    pb.environment().remove("PGCOPY_TARGET_PASSWORD");
    Process run = pb.start();
    boolean ended = run.waitFor(3, TimeUnit.MINUTES);
    if (!ended) {
      run.destroyForcibly();
    }
    String out = Files.readString(log);
    assertThat(ended).as(log.getFileName() + " ended:\n" + out).isTrue();
    assertThat(run.exitValue()).as(out).isEqualTo(2);
    assertThat(out).as(log.toString()).doesNotContain("\tat ").doesNotContain("Exception");
    return out;
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /**
   * Starts the runner and returns it once the target holds {@code rows} rows (it must still be
   * running).
   */
  private static Process startUntil(
      List<String> command, Path log, PostgresServer target, long rows) throws Exception {
    Process p =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
    while (rows(target) < rows && System.nanoTime() < deadline && p.isAlive()) {
      Thread.sleep(200);
    }
    assertThat(p.isAlive()).as("run still copying:\n" + Files.readString(log)).isTrue();
    assertThat(rows(target)).as("rows in the target").isGreaterThanOrEqualTo(rows);
    return p;
  }

  private static long rows(PostgresServer target) throws SQLException {
    try (Connection t = target.connect("app")) {
      return countIfExists(t, "public.orders") + countIfExists(t, "public.events");
    }
  }

  /** The name of a table's primary key constraint, or null. */
  private static String primaryKey(Connection t, String table) throws SQLException {
    try (PreparedStatement ps =
        t.prepareStatement(
            "SELECT conname FROM pg_constraint WHERE conrelid = ?::regclass AND contype = 'p'")) {
      ps.setString(1, table);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }

  private static long countIfExists(Connection t, String table) {
    try (var st = t.createStatement();
        var rs = st.executeQuery("SELECT count(*) FROM " + table)) {
      rs.next();
      return rs.getLong(1);
    } catch (java.sql.SQLException e) {
      return 0;
    }
  }
}
