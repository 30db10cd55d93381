package io.pgcopy.connect.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgcopy.connect.servers.PostgresServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A target you can switch to: a schema corpus whose pre-data the target gets from pg_dump (enums,
 * domains, composites, serial, identity and generated columns, defaults, checks; keyed, keyless and
 * partitioned tables), copied through Connect with the shipped configs. Once each table's snapshot
 * is in, the sink builds what pg_dump's post-data holds (primary keys, unique and exclusion
 * constraints, plain, unique, partial, expression and BRIN indexes): both databases' schema dumps
 * are then equal apart from foreign keys, every table equals its source row by row, and every owned
 * sequence is at least where the source's is, during the stream too.
 */
class PostDataIT {
  @RegisterExtension static final PipelineExtension servers = PipelineExtension.shared();

  private static final List<String> TABLES =
      List.of("shop.customers", "shop.orders", "shop.bookings", "shop.events", "shop.metrics");

  private static final List<String> SEQUENCES =
      List.of(
          "shop.customers_id_seq", "shop.orders_id_seq", "shop.bookings_id_seq", "shop.invoice_no");

  private static Pipeline pipeline;

  @BeforeAll
  static void start() {
    pipeline = servers.pipeline();
  }

  @Test
  void theTargetGetsIndexesConstraintsAndSequencesAfterTheLoad() throws Exception {
    pipeline.source.execute(
        pipeline.sourceDb,
        "CREATE SCHEMA shop",
        "CREATE TYPE shop.mood AS ENUM ('sad', 'ok', 'happy')",
        "CREATE DOMAIN shop.positive_int AS integer CHECK (VALUE > 0)",
        "CREATE TYPE shop.address AS (street text, zip text)",
        "CREATE SEQUENCE shop.invoice_no START 1000",
        "SELECT nextval('shop.invoice_no') FROM generate_series(1, 10)",
        "CREATE TABLE shop.customers (id serial PRIMARY KEY, email text NOT NULL,"
            + " name text DEFAULT 'anonymous', CONSTRAINT customers_email_key UNIQUE (email))",
        "CREATE TABLE shop.orders (id bigserial PRIMARY KEY,"
            + " customer_id integer NOT NULL REFERENCES shop.customers (id),"
            + " mood shop.mood DEFAULT 'ok', qty shop.positive_int NOT NULL,"
            + " amount numeric(12,2) NOT NULL CHECK (amount >= 0), addr shop.address,"
            + " note text, created timestamptz NOT NULL DEFAULT now(),"
            + " total numeric GENERATED ALWAYS AS (amount * 2) STORED)",
        "CREATE INDEX orders_customer_idx ON shop.orders (customer_id)",
        "CREATE INDEX orders_big_idx ON shop.orders (amount) WHERE amount > 500",
        "CREATE INDEX orders_note_lower_idx ON shop.orders (lower(note))",
        "CREATE INDEX orders_created_brin ON shop.orders USING brin (created)",
        "CREATE TABLE shop.bookings (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            + " room integer NOT NULL CHECK (room BETWEEN 1 AND 50), during tsrange NOT NULL,"
            + " CONSTRAINT bookings_no_overlap EXCLUDE USING gist (during WITH &&))",
        "CREATE TABLE shop.events (at timestamptz NOT NULL DEFAULT now(), kind text NOT NULL,"
            + " payload jsonb)",
        "CREATE INDEX events_kind_idx ON shop.events (kind, at)",
        "ALTER TABLE shop.events REPLICA IDENTITY FULL",
        "CREATE TABLE shop.metrics (id bigint NOT NULL, day date NOT NULL, value double precision,"
            + " PRIMARY KEY (id, day)) PARTITION BY RANGE (day)",
        "CREATE TABLE shop.metrics_2024 PARTITION OF shop.metrics"
            + " FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
        "CREATE TABLE shop.metrics_2025 PARTITION OF shop.metrics"
            + " FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
        "CREATE INDEX metrics_value_idx ON shop.metrics (value)",
        "INSERT INTO shop.customers (email, name) SELECT 'c' || g || '@example.com', 'name ' || g"
            + " FROM generate_series(1, 2000) g",
        "INSERT INTO shop.orders (customer_id, mood, qty, amount, addr, note)"
            + " SELECT 1 + g % 2000, (ARRAY['sad','ok','happy'])[1 + g % 3]::shop.mood, 1 + g % 9,"
            + " g % 1000, ROW('street ' || g, lpad((g % 99999)::text, 5, '0'))::shop.address,"
            + " CASE WHEN g % 4 = 0 THEN NULL ELSE 'Note ' || g END FROM generate_series(1, 30000) g",
        "INSERT INTO shop.bookings (room, during) SELECT 1 + g % 50,"
            + " tsrange('2024-01-01'::timestamp + g * interval '2 hours',"
            + " '2024-01-01'::timestamp + g * interval '2 hours' + interval '1 hour')"
            + " FROM generate_series(1, 3000) g",
        "INSERT INTO shop.events (kind, payload) SELECT 'kind' || g % 7, jsonb_build_object('n', g)"
            + " FROM generate_series(1, 5000) g",
        "INSERT INTO shop.metrics SELECT g, '2024-01-01'::date + g % 700, g * 0.5"
            + " FROM generate_series(1, 20000) g");
    // the target's pre-data from pg_dump, as docs/operations.md tells Connect users to make it
    Path preData = Files.createTempFile("pre-data", ".sql");
    pipeline.source.runTool(
        "pg_dump",
        List.of(
            "--schema-only",
            "--section=pre-data",
            "--no-owner",
            "--no-privileges",
            "--schema=shop",
            "--file=" + preData,
            pipeline.sourceDb));
    pipeline.target.runTool(
        "psql",
        List.of("-v", "ON_ERROR_STOP=1", "-q", "-f", preData.toString(), pipeline.targetDb));
    Files.delete(preData);

    Map<String, String> source = pipeline.sourceConfig("pd", String.join(",", TABLES));
    source.put("snapshot.mode", "initial");
    source.put("slot.name", "pd_slot");
    source.put("publication.name", "pd_pub");
    source.put("heartbeat.interval.ms", "1000");
    source.put("sequence.include.list", "shop.invoice_no");
    // a listed name that is not a sequence is refused before anything starts
    Map<String, String> bad = new HashMap<>(source);
    bad.put("sequence.include.list", "shop.invoice_no,shop.orders,shop.nope");
    assertThat(
            Validation.errorsOf(
                pipeline.rest().validate(Pipeline.SOURCE_CLASS, bad), "sequence.include.list"))
        .containsExactly(
            "\"shop\".\"orders\" is not a sequence",
            "\"shop\".\"nope\" does not exist on the source");
    pipeline.rest().putConnector("pd-source", source);
    pipeline.rest().putConnector("pd-sink", pipeline.sinkConfig("pd"));

    awaitSameSchema(Duration.ofMinutes(3));
    for (String t : TABLES) {
      pipeline.awaitSame(t, Duration.ofMinutes(1));
    }
    assertSequencesAhead();

    // the stream: rows through defaults, serial and identity columns, updates and deletes
    pipeline.source.execute(
        pipeline.sourceDb,
        "INSERT INTO shop.customers (email) SELECT 'new' || g || '@example.com'"
            + " FROM generate_series(1, 300) g",
        "INSERT INTO shop.orders (customer_id, qty, amount) SELECT 1 + g % 2000, 2, g"
            + " FROM generate_series(1, 500) g",
        "UPDATE shop.orders SET note = upper(note), amount = amount + 1 WHERE id % 7 = 0",
        "DELETE FROM shop.orders WHERE id % 11 = 0",
        "INSERT INTO shop.bookings (room, during) SELECT 1 + g % 50,"
            + " tsrange('2030-01-01'::timestamp + g * interval '2 hours',"
            + " '2030-01-01'::timestamp + g * interval '2 hours' + interval '1 hour')"
            + " FROM generate_series(1, 200) g",
        "INSERT INTO shop.events (kind) SELECT 'later' FROM generate_series(1, 100)",
        "UPDATE shop.metrics SET value = -value WHERE id % 5 = 0",
        "SELECT nextval('shop.orders_id_seq') FROM generate_series(1, 50)",
        "SELECT nextval('shop.invoice_no') FROM generate_series(1, 50)");
    for (String t : TABLES) {
      pipeline.awaitSame(t, Duration.ofMinutes(2));
    }
    Awaitility.await("every target sequence at least where the source's is")
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(500))
        .ignoreExceptions()
        .untilAsserted(PostDataIT::assertSequencesAhead);
    assertThat(schema(pipeline.target, pipeline.targetDb))
        .isEqualTo(schema(pipeline.source, pipeline.sourceDb));
    // an application writing to the target now takes the next values, without duplicate keys
    pipeline.target.execute(
        pipeline.targetDb,
        "INSERT INTO shop.orders (customer_id, qty, amount) VALUES (1, 1, 1)",
        "INSERT INTO shop.bookings (room, during) VALUES (1, '[2040-01-01, 2040-01-02)')",
        "INSERT INTO shop.customers (email) VALUES ('after-cutover@example.com')");
  }

  /** Waits until the target's schema dump equals the source's apart from foreign keys. */
  private static void awaitSameSchema(Duration timeout) {
    String[] last = new String[2];
    try {
      Awaitility.await("the target's schema to equal the source's")
          .atMost(timeout)
          .pollInterval(Duration.ofSeconds(1))
          .until(
              () -> {
                last[0] = schema(pipeline.source, pipeline.sourceDb);
                last[1] = schema(pipeline.target, pipeline.targetDb);
                return last[0].equals(last[1]);
              });
    } catch (ConditionTimeoutException e) {
      assertThat(last[1]).as("the target's schema dump").isEqualTo(last[0]);
    }
  }

  private static void assertSequencesAhead() throws SQLException {
    try (Connection s = pipeline.sourceConnection();
        Connection t = pipeline.targetConnection()) {
      for (String seq : SEQUENCES) {
        assertThat(lastValue(t, seq)).as(seq).isGreaterThanOrEqualTo(lastValue(s, seq));
      }
    }
  }

  private static long lastValue(Connection c, String sequence) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT last_value FROM " + sequence)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static String schema(PostgresServer server, String db) throws IOException {
    return Pipeline.schemaDump(server, db, "--schema=shop");
  }
}
