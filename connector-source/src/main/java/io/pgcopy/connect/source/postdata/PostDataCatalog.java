package io.pgcopy.connect.source.postdata;

import io.pgcopy.connect.format.PostData.Item;
import io.pgcopy.connect.format.PostData.Kind;
import io.pgcopy.connect.format.TableId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads what a source table has besides its columns, printed by the server's own deparse functions
 * ({@code pg_get_indexdef}, {@code pg_get_constraintdef}, {@code pg_get_expr}) with an empty {@code
 * search_path}, so every name in them is schema-qualified as pg_dump prints it. Foreign keys are
 * left out: they wait for the cut-over (docs/guarantees.md). Every table name reaches SQL as a bind
 * parameter.
 */
public final class PostDataCatalog {
  private static final Logger log = LoggerFactory.getLogger(PostDataCatalog.class);

  private static final String INSUFFICIENT_PRIVILEGE = "42501";

  private static final String INDEXES =
      "SELECT quote_ident(ic.relname), pg_get_indexdef(i.indexrelid), i.indisunique,"
          + "   format('%I.%I', n.nspname, t.relname), ic.relname"
          + " FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid"
          + " JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace"
          + " WHERE i.indrelid = ?::regclass AND i.indisvalid"
          + " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = i.indrelid"
          + "   AND k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x'))"
          + " ORDER BY ic.relname";

  private static final String CONSTRAINTS =
      "SELECT k.conname, k.contype, pg_get_constraintdef(k.oid),"
          + "   (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY u.n)"
          + "    FROM unnest(k.conkey) WITH ORDINALITY AS u(attnum, n)"
          + "    JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum)"
          + " FROM pg_constraint k"
          + " WHERE k.conrelid = ?::regclass AND k.contype IN ('p', 'u', 'x', 'c') AND k.conislocal"
          + " ORDER BY k.contype, k.conname";

  private static final String DEFAULTS =
      "SELECT a.attname, pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d"
          + " JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum"
          + " WHERE d.adrelid = ?::regclass AND a.attgenerated = '' AND NOT a.attisdropped"
          + " ORDER BY a.attnum";

  /** A sequence's options from pg_sequence, starting at seqtypid's format_type. */
  static final String SEQUENCE_OPTIONS =
      "format_type(q.seqtypid, NULL), q.seqstart, q.seqincrement, q.seqmin, q.seqmax, q.seqcache, q.seqcycle";

  /** Sequences owned by a column of the table: serial (auto) and identity (internal). */
  private static final String SEQUENCES =
      "SELECT format('%I.%I', sn.nspname, sc.relname), a.attname, a.attidentity, "
          + SEQUENCE_OPTIONS
          + ", sc.relname"
          + " FROM pg_depend d JOIN pg_class sc ON sc.oid = d.objid AND sc.relkind = 'S'"
          + " JOIN pg_namespace sn ON sn.oid = sc.relnamespace JOIN pg_sequence q ON q.seqrelid = sc.oid"
          + " JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid"
          + " WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass"
          + "   AND d.refobjid = ?::regclass AND d.deptype IN ('a', 'i')"
          + " ORDER BY a.attnum";

  private final Connection conn;

  /**
   * @param conn a connection this object may run transactions on (it sets {@code search_path}
   *     locally in each)
   */
  public PostDataCatalog(Connection conn) {
    this.conn = conn;
  }

  /**
   * The table's sequences (with their state now: at least what its snapshot rows used), identity
   * columns, defaults, primary key, unique, exclusion and check constraints, and the indexes that
   * back no constraint, in the order a target builds them.
   */
  public List<Item> items(TableId table) throws SQLException {
    boolean autoCommit = conn.getAutoCommit();
    conn.setAutoCommit(false);
    try (Statement st = conn.createStatement()) {
      st.execute("SET LOCAL search_path = ''");
      List<Item> items = new ArrayList<>();
      sequences(table, items);
      defaults(table, items);
      constraints(table, items);
      indexes(table, items);
      replicaIdentity(table, items);
      conn.commit();
      return items;
    } catch (SQLException e) {
      conn.rollback();
      throw e;
    } finally {
      conn.setAutoCommit(autoCommit);
    }
  }

  private void sequences(TableId table, List<Item> items) throws SQLException {
    Map<String, Item> found = new LinkedHashMap<>();
    try (PreparedStatement ps = conn.prepareStatement(SEQUENCES)) {
      ps.setString(1, table.quoted());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String name = rs.getString(11);
          String column = rs.getString(2);
          String identity = rs.getString(3);
          String options = options(rs, 4);
          found.put(rs.getString(1), new Item(Kind.SEQUENCE, name, column, options, null));
          if ("a".equals(identity) || "d".equals(identity)) {
            items.add(
                new Item(
                    Kind.IDENTITY,
                    name,
                    column,
                    "a".equals(identity) ? "ALWAYS" : "BY DEFAULT",
                    options));
          }
        }
      }
    }
    for (Map.Entry<String, Item> e : found.entrySet()) {
      Item s = e.getValue();
      items.add(
          new Item(Kind.SEQUENCE, s.name(), s.column(), s.definition(), state(table, e.getKey())));
    }
    items.sort(Comparator.comparing(Item::kind));
  }

  /**
   * The {@code CREATE SEQUENCE} options of the {@link #SEQUENCE_OPTIONS} columns starting at {@code
   * first}.
   */
  static String options(ResultSet rs, int first) throws SQLException {
    return "AS "
        + rs.getString(first)
        + " INCREMENT BY "
        + rs.getLong(first + 2)
        + " MINVALUE "
        + rs.getLong(first + 3)
        + " MAXVALUE "
        + rs.getLong(first + 4)
        + " START WITH "
        + rs.getLong(first + 1)
        + " CACHE "
        + rs.getLong(first + 5)
        + (rs.getBoolean(first + 6) ? " CYCLE" : " NO CYCLE");
  }

  /**
   * {@code last_value} and {@code is_called} of a sequence, read now (sequences are not
   * transactional: at least what any snapshot row used); null, with a warning, when the source user
   * may not read it.
   */
  private String state(TableId table, String sequence) throws SQLException {
    Savepoint before = conn.setSavepoint();
    try (PreparedStatement ps =
        conn.prepareStatement("SELECT last_value, is_called FROM " + sequence)) {
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1) + (rs.getBoolean(2) ? " t" : " f");
      }
    } catch (SQLException e) {
      if (!INSUFFICIENT_PRIVILEGE.equals(e.getSQLState())) {
        throw e;
      }
      conn.rollback(before);
      log.warn(
          "Sequence {} of {}: the source user may not read it, so the target's copy is not set: "
              + "GRANT SELECT ON SEQUENCE {} TO the connector's user ({})",
          sequence,
          table,
          sequence,
          e.getMessage());
      return null;
    }
  }

  private void defaults(TableId table, List<Item> items) throws SQLException {
    try (PreparedStatement ps = conn.prepareStatement(DEFAULTS)) {
      ps.setString(1, table.quoted());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          items.add(new Item(Kind.DEFAULT, null, rs.getString(1), rs.getString(2), null));
        }
      }
    }
  }

  private void constraints(TableId table, List<Item> items) throws SQLException {
    try (PreparedStatement ps = conn.prepareStatement(CONSTRAINTS)) {
      ps.setString(1, table.quoted());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          boolean primary = "p".equals(rs.getString(2));
          items.add(
              new Item(
                  primary ? Kind.PRIMARY_KEY : Kind.CONSTRAINT,
                  rs.getString(1),
                  null,
                  rs.getString(3),
                  primary ? rs.getString(4) : null));
        }
      }
    }
  }

  private void indexes(TableId table, List<Item> items) throws SQLException {
    try (PreparedStatement ps = conn.prepareStatement(INDEXES)) {
      ps.setString(1, table.quoted());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String name = rs.getString(1);
          String definition = rs.getString(2);
          boolean unique = rs.getBoolean(3);
          String tail = indexTail(definition, name, unique, rs.getString(4));
          if (tail == null) {
            log.warn(
                "Index {} of {} is left out of the target: its definition has an unexpected form: {}",
                name,
                table,
                definition);
          } else {
            items.add(new Item(Kind.INDEX, rs.getString(5), null, tail, unique ? "UNIQUE" : null));
          }
        }
      }
    }
  }

  private void replicaIdentity(TableId table, List<Item> items) throws SQLException {
    try (PreparedStatement ps =
        conn.prepareStatement(
            "SELECT c.relreplident, (SELECT ic.relname FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid"
                + "   WHERE i.indrelid = c.oid AND i.indisreplident) FROM pg_class c WHERE c.oid = ?::regclass")) {
      ps.setString(1, table.quoted());
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        String definition =
            switch (rs.getString(1)) {
              case "f" -> "FULL";
              case "n" -> "NOTHING";
              case "i" -> "USING INDEX";
              default -> null;
            };
        if (definition != null) {
          items.add(new Item(Kind.REPLICA_IDENTITY, rs.getString(2), null, definition, null));
        }
      }
    }
  }

  /**
   * What {@code pg_get_indexdef} prints after the table's name ({@code USING ...}), or null when
   * the definition does not start as expected.
   *
   * @param name the index's name, quoted
   * @param table the table's qualified name, quoted
   */
  static String indexTail(String definition, String name, boolean unique, String table) {
    String head = "CREATE " + (unique ? "UNIQUE " : "") + "INDEX " + name + " ON ";
    if (!definition.startsWith(head)) {
      return null;
    }
    String rest = definition.substring(head.length());
    if (rest.startsWith("ONLY ")) {
      rest = rest.substring("ONLY ".length());
    }
    if (!rest.startsWith(table + " ")) {
      return null;
    }
    return rest.substring(table.length() + 1);
  }
}
