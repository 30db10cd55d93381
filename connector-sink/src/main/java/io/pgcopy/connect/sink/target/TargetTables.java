package io.pgcopy.connect.sink.target;

import io.pgcopy.connect.format.Column;
import io.pgcopy.connect.format.ColumnLayout;
import io.pgcopy.connect.format.GeneratedColumn;
import io.pgcopy.connect.format.TableId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.connect.errors.ConnectException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes sure each target table exists with every column the records carry: creates it from the
 * column layout when allowed (exact types, NOT NULL; the primary key too unless the post-data step
 * builds it after the load), or says what is missing; and that a keyed table has its key before the
 * first change is applied to it. DDL runs in its own committed transaction, before the batch that
 * needs it.
 */
public final class TargetTables {
  private static final Logger log = LoggerFactory.getLogger(TargetTables.class);

  private final boolean autoCreate;

  /** Whether a keyed table's primary key waits until changes arrive or its post-data is built. */
  private final boolean deferKey;

  private final Map<TableId, Set<ColumnLayout>> verified = new HashMap<>();

  /** Keyed tables whose key was found or added. */
  private final Set<TableId> keyed = new HashSet<>();

  /**
   * @param deferKey create keyed tables without their primary key: snapshot rows go in without one
   *     index insertion each, and the key is built, sorted, when the first change needs it or with
   *     the table's post-data
   */
  public TargetTables(boolean autoCreate, boolean deferKey) {
    this.autoCreate = autoCreate;
    this.deferKey = deferKey;
  }

  /**
   * Makes sure {@code target} can take a batch of {@code layout}.
   *
   * @param needsKey the batch holds changes (applied with {@code ON CONFLICT} on the key), not only
   *     snapshot rows
   */
  public void ensure(Connection conn, TableId target, ColumnLayout layout, boolean needsKey)
      throws SQLException {
    if (!verified.getOrDefault(target, Set.of()).contains(layout)) {
      ensureColumns(conn, target, layout);
    }
    if (autoCreate && layout.hasKey() && (needsKey || !deferKey) && keyed.add(target)) {
      try {
        PrimaryKeys.ensure(conn, target, layout);
      } catch (SQLException | RuntimeException e) {
        keyed.remove(target);
        throw e;
      }
    }
  }

  private void ensureColumns(Connection conn, TableId target, ColumnLayout layout)
      throws SQLException {
    Set<String> existing = columns(conn, target);
    // a concurrent task may have won the race for the schema only: try again until the table is
    // there
    for (int attempt = 0; existing == null; attempt++) {
      if (!autoCreate) {
        throw new ConnectException(
            "target table " + target + " does not exist: create it, or set auto.create=true");
      }
      if (attempt == 3) {
        throw new ConnectException(
            "creating target table " + target + " failed three times; see the database log");
      }
      create(conn, target, layout);
      existing = columns(conn, target);
    }
    List<String> missing = new ArrayList<>();
    for (Column c : layout.columns()) {
      if (!existing.contains(c.name())) {
        missing.add(c.name() + " " + c.typeName());
      }
    }
    if (!missing.isEmpty()) {
      if (!autoCreate) {
        throw new ConnectException(
            "target table "
                + target
                + " lacks columns the source sends: "
                + missing
                + "; add them to the target table, or set auto.create=true");
      }
      addColumns(conn, target, layout, existing);
    }
    if (autoCreate) {
      relaxUnsent(conn, target, layout);
    }
    verified.computeIfAbsent(target, t -> new HashSet<>()).add(layout);
  }

  /** Column names of the table, or null when it does not exist. */
  private static Set<String> columns(Connection conn, TableId table) throws SQLException {
    try (PreparedStatement ps =
        conn.prepareStatement(
            "SELECT a.attname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
                + " WHERE n.nspname = ? AND c.relname = ? AND c.relkind IN ('r', 'p')")) {
      ps.setString(1, table.schema());
      ps.setString(2, table.table());
      try (ResultSet rs = ps.executeQuery()) {
        Set<String> names = null;
        while (rs.next()) {
          if (names == null) {
            names = new HashSet<>();
          }
          if (rs.getString(1) != null) {
            names.add(rs.getString(1));
          }
        }
        return names;
      }
    } finally {
      conn.commit();
    }
  }

  /**
   * The CREATE TABLE of a layout: its columns with their exact types and NOT NULL, its stored
   * generated columns where the source has them, with the source's expressions, and its key as the
   * primary key.
   */
  public static String createTableSql(TableId target, ColumnLayout layout) {
    return createTableSql(target, layout, true);
  }

  /**
   * The CREATE TABLE of a layout, with its key as the primary key or ({@code withKey} false) not.
   */
  public static String createTableSql(TableId target, ColumnLayout layout, boolean withKey) {
    StringBuilder sql =
        new StringBuilder("CREATE TABLE IF NOT EXISTS ").append(target.quoted()).append(" (");
    List<Column> columns = layout.columns();
    String separator = "";
    for (int i = 0; i <= columns.size(); i++) {
      for (GeneratedColumn g : layout.generated()) {
        if (g.position() == i) {
          sql.append(separator)
              .append(TableId.quoteIdentifier(g.name()))
              .append(' ')
              .append(g.typeName())
              .append(" GENERATED ALWAYS AS (")
              .append(g.expression())
              .append(") STORED");
          separator = ", ";
        }
      }
      if (i == columns.size()) {
        break;
      }
      Column c = columns.get(i);
      sql.append(separator)
          .append(TableId.quoteIdentifier(c.name()))
          .append(' ')
          .append(c.typeName());
      separator = ", ";
      if (c.notNull()) {
        sql.append(" NOT NULL");
      }
    }
    if (withKey && layout.hasKey()) {
      sql.append(", PRIMARY KEY (");
      List<Column> keys = layout.keyColumns();
      for (int i = 0; i < keys.size(); i++) {
        sql.append(i == 0 ? "" : ", ").append(TableId.quoteIdentifier(keys.get(i).name()));
      }
      sql.append(')');
    }
    return sql.append(')').toString();
  }

  /**
   * A column the source no longer sends (dropped there, or renamed: the new name arrives as a new
   * column) stays in the target with its values; if it is NOT NULL without a default, rows written
   * from now on could not be inserted, so it becomes nullable. Generated and identity columns fill
   * themselves and are left alone.
   */
  private static void relaxUnsent(Connection conn, TableId target, ColumnLayout layout)
      throws SQLException {
    Set<String> sent = new HashSet<>();
    layout.columns().forEach(c -> sent.add(c.name()));
    layout.generated().forEach(g -> sent.add(g.name()));
    List<String> relaxed = new ArrayList<>();
    try (PreparedStatement ps =
        conn.prepareStatement(
            "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = ?::regclass AND a.attnum > 0 AND NOT a.attisdropped"
                + " AND a.attnotnull AND NOT a.atthasdef AND a.attidentity = '' AND a.attgenerated = ''"
                + " AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary"
                + "   AND a.attnum = ANY (i.indkey))")) {
      ps.setString(1, target.quoted());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          if (!sent.contains(rs.getString(1))) {
            relaxed.add(rs.getString(1));
          }
        }
      }
    }
    if (relaxed.isEmpty()) {
      conn.commit();
      return;
    }
    try (Statement st = conn.createStatement()) {
      for (String c : relaxed) {
        st.execute(
            "ALTER TABLE "
                + target.quoted()
                + " ALTER COLUMN "
                + TableId.quoteIdentifier(c)
                + " DROP NOT NULL");
      }
      conn.commit();
    } catch (SQLException e) {
      conn.rollback();
      throw e;
    }
    log.warn(
        "Target table {}: the source no longer sends columns {} (dropped or renamed on the source): kept with their "
            + "values, now nullable",
        target,
        relaxed);
  }

  /**
   * ALTER TABLE .. ADD COLUMN IF NOT EXISTS for each column the table lacks (a column added on the
   * source).
   */
  private static void addColumns(
      Connection conn, TableId target, ColumnLayout layout, Set<String> existing)
      throws SQLException {
    StringBuilder sql = new StringBuilder("ALTER TABLE ").append(target.quoted());
    List<String> added = new ArrayList<>();
    for (Column c : layout.columns()) {
      if (!existing.contains(c.name())) {
        sql.append(added.isEmpty() ? " " : ", ")
            .append("ADD COLUMN IF NOT EXISTS ")
            .append(TableId.quoteIdentifier(c.name()))
            .append(' ')
            .append(c.typeName());
        if (c.missingValue() != null) {
          // the rows already there get the value the source's older rows have (ADD COLUMN ..
          // DEFAULT)
          sql.append(" DEFAULT ")
              .append(quoteLiteral(c.missingValue()))
              .append("::")
              .append(c.typeName());
        }
        added.add(c.name());
      }
    }
    try (Statement st = conn.createStatement()) {
      st.execute(sql.toString());
      conn.commit();
      log.info("Added columns {} to target table {}", added, target);
    } catch (SQLException e) {
      conn.rollback();
      throw e;
    }
  }

  private static final String UNDEFINED_OBJECT = "42704";

  /** Names the columns whose types the target database lacks. */
  private static ConnectException missingType(
      Connection conn, TableId target, ColumnLayout layout, SQLException cause)
      throws SQLException {
    List<String> missing = new ArrayList<>();
    try (PreparedStatement ps = conn.prepareStatement("SELECT to_regtype(?) IS NULL")) {
      for (Column c : layout.columns()) {
        ps.setString(1, c.typeName());
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          if (rs.getBoolean(1)) {
            missing.add("column " + TableId.quoteIdentifier(c.name()) + " of type " + c.typeName());
          }
        }
      }
    } finally {
      conn.rollback();
    }
    return new ConnectException(
        "cannot create target table "
            + target
            + ": the target database lacks the type of "
            + (missing.isEmpty()
                ? "a column (" + cause.getMessage() + ")"
                : String.join(", ", missing))
            + ". Create the type there (CREATE TYPE, CREATE DOMAIN, CREATE EXTENSION) as on the source, then restart the task",
        cause);
  }

  /**
   * A create that failed where the table has generated columns: names them, since their expressions
   * are the likely cause.
   */
  private static ConnectException generatedColumns(
      TableId target, ColumnLayout layout, SQLException cause) {
    StringBuilder columns = new StringBuilder();
    for (GeneratedColumn g : layout.generated()) {
      columns
          .append(columns.length() == 0 ? "" : ", ")
          .append("column ")
          .append(TableId.quoteIdentifier(g.name()))
          .append(" GENERATED ALWAYS AS (")
          .append(g.expression())
          .append(") STORED");
    }
    return new ConnectException(
        "cannot create target table "
            + target
            + " with its generated "
            + columns
            + ": "
            + cause.getMessage()
            + " (SQLState "
            + cause.getSQLState()
            + "). Create what the expression needs in the "
            + "target database (a function, a type), or create the table yourself, then restart the task",
        cause);
  }

  static String quoteLiteral(String s) {
    return "'" + s.replace("'", "''") + "'";
  }

  private void create(Connection conn, TableId target, ColumnLayout layout) throws SQLException {
    String sql = createTableSql(target, layout, !deferKey);
    try (Statement st = conn.createStatement()) {
      // CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the schema exists
      try (ResultSet rs =
          st.executeQuery(
              "SELECT to_regnamespace("
                  + quoteLiteral(TableId.quoteIdentifier(target.schema()))
                  + ")")) {
        rs.next();
        if (rs.getString(1) == null) {
          st.execute("CREATE SCHEMA IF NOT EXISTS " + TableId.quoteIdentifier(target.schema()));
        }
      }
      st.execute(sql);
      conn.commit();
      log.info("Created target table {}", target);
    } catch (SQLException e) {
      conn.rollback();
      if (UNDEFINED_OBJECT.equals(e.getSQLState())) {
        throw missingType(conn, target, layout, e);
      }
      if (!DdlRace.lostToConcurrentCreate(e)) {
        if (!layout.generated().isEmpty()) {
          throw generatedColumns(target, layout, e);
        }
        throw e;
      }
    }
  }
}
