package io.pgcopy.connect.source.postgres;

import io.pgcopy.connect.format.Column;
import io.pgcopy.connect.format.ColumnLayout;
import io.pgcopy.connect.format.GeneratedColumn;
import io.pgcopy.connect.format.TableId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Catalog queries on the source. Every table name reaches SQL as a bind parameter or quoted. */
public final class SourceCatalog {
  private final Connection conn;

  public SourceCatalog(Connection conn) {
    this.conn = conn;
  }

  /** Thrown when a configured table is missing or is not something we can read. */
  public static final class TableProblem extends Exception {
    TableProblem(String message) {
      super(message);
    }
  }

  /**
   * The physical tables behind each configured table with their exact page counts ({@code
   * pg_relation_size / block_size}, not the estimate in {@code relpages}).
   */
  public List<TableExtent> extents(List<TableId> tables) throws SQLException, TableProblem {
    List<TableExtent> extents = new ArrayList<>();
    for (TableId table : tables) {
      char kind = relkind(table);
      if (kind == 'r') {
        extents.add(new TableExtent(table, table, pages(table.quoted())));
      } else if (kind == 'p') {
        extents.addAll(leafExtents(table));
      } else {
        throw new TableProblem(
            table
                + " is not a table (relkind '"
                + kind
                + "'): only ordinary and partitioned tables can be copied");
      }
    }
    return extents;
  }

  private char relkind(TableId table) throws SQLException, TableProblem {
    try (PreparedStatement ps =
        conn.prepareStatement(
            "SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relname = ?")) {
      ps.setString(1, table.schema());
      ps.setString(2, table.table());
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new TableProblem("table " + table + " does not exist");
        }
        return rs.getString(1).charAt(0);
      }
    }
  }

  private List<TableExtent> leafExtents(TableId parent) throws SQLException {
    List<TableExtent> leaves = new ArrayList<>();
    try (PreparedStatement ps =
        conn.prepareStatement(
            "SELECT n.nspname, c.relname, pg_relation_size(c.oid) / current_setting('block_size')::bigint"
                + " FROM pg_partition_tree(?::regclass) t JOIN pg_class c ON c.oid = t.relid"
                + " JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE t.isleaf AND c.relkind = 'r' ORDER BY n.nspname, c.relname")) {
      ps.setString(1, parent.quoted());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          leaves.add(
              new TableExtent(
                  parent, new TableId(rs.getString(1), rs.getString(2)), rs.getLong(3)));
        }
      }
    }
    return leaves;
  }

  private long pages(String quotedName) throws SQLException {
    try (PreparedStatement ps =
        conn.prepareStatement(
            "SELECT pg_relation_size(?::regclass) / current_setting('block_size')::bigint")) {
      ps.setString(1, quotedName);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /**
   * The columns a record carries, in attribute order: not dropped, not generated (a generated
   * column is computed again by the target; the layout lists them apart, with their expressions).
   * The key is the replica identity index when one is set, else the primary key; a table with
   * neither has no key.
   */
  public ColumnLayout columns(TableId table) throws SQLException {
    List<Column> columns = new ArrayList<>();
    try (PreparedStatement ps =
        conn.prepareStatement(
            "WITH k AS ("
                + "  SELECT i.indkey::int2[] AS cols FROM pg_index i"
                + "  WHERE i.indrelid = ?::regclass AND (i.indisreplident OR i.indisprimary)"
                + "  ORDER BY i.indisreplident DESC LIMIT 1)"
                + " SELECT a.attname, a.atttypid, a.atttypmod, format_type(a.atttypid, a.atttypmod), a.attnotnull,"
                // indkey is an int2vector, whose subscripts start at 0: number the key columns with
                // ORDINALITY
                + "   coalesce((SELECT u.n FROM k, unnest(k.cols) WITH ORDINALITY AS u(attnum, n) WHERE u.attnum = a.attnum), 0),"
                // a column added with a constant default: the value older rows have without any
                // logged change
                + "   CASE WHEN a.atthasmissing THEN array_to_string(a.attmissingval, '') END"
                + " FROM pg_attribute a"
                + " WHERE a.attrelid = ?::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''"
                + " ORDER BY a.attnum")) {
      ps.setString(1, table.quoted());
      ps.setString(2, table.quoted());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          columns.add(
              new Column(
                  rs.getString(1),
                  (int) rs.getLong(2),
                  rs.getInt(3),
                  rs.getString(4),
                  rs.getBoolean(5),
                  rs.getInt(6),
                  rs.getString(7)));
        }
      }
    }
    return new ColumnLayout(columns, generatedColumns(table));
  }

  /**
   * The table's stored generated columns with their expressions, for a target created from the
   * layout.
   */
  private List<GeneratedColumn> generatedColumns(TableId table) throws SQLException {
    List<GeneratedColumn> generated = new ArrayList<>();
    try (PreparedStatement ps =
        conn.prepareStatement(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), pg_get_expr(d.adbin, d.adrelid),"
                + "   (SELECT count(*) FROM pg_attribute b WHERE b.attrelid = a.attrelid AND b.attnum > 0"
                + "    AND b.attnum < a.attnum AND NOT b.attisdropped AND b.attgenerated = '')"
                + " FROM pg_attribute a JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
                + " WHERE a.attrelid = ?::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = 's'"
                + " ORDER BY a.attnum")) {
      ps.setString(1, table.quoted());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          generated.add(
              new GeneratedColumn(rs.getString(1), rs.getString(2), rs.getString(3), rs.getInt(4)));
        }
      }
    }
    return generated;
  }

  /**
   * The columns whose values cannot travel in binary form, with the type that prevents it: their
   * type, or an element, domain base, composite field, range subtype or multirange's range of it,
   * has no binary send or receive function (contrib's {@code seg} and {@code isn} types, for
   * example). Such a table travels as text: binary COPY and pgoutput's binary mode both fail on it.
   * Empty when every column has binary I/O. In attribute order.
   */
  Map<String, String> columnsWithoutBinaryIo(TableId table) throws SQLException {
    Map<String, String> columns = new LinkedHashMap<>();
    try (PreparedStatement ps =
        conn.prepareStatement(
            "WITH RECURSIVE parts(attnum, attname, typid) AS ("
                + "  SELECT a.attnum, a.attname, a.atttypid FROM pg_attribute a"
                + "  WHERE a.attrelid = ?::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''"
                + "  UNION"
                + "  SELECT p.attnum, p.attname, x.typid FROM parts p JOIN pg_type t ON t.oid = p.typid"
                + "  CROSS JOIN LATERAL ("
                + "    SELECT t.typelem WHERE t.typcategory = 'A' AND t.typelem <> 0"
                + "    UNION ALL SELECT t.typbasetype WHERE t.typtype = 'd'"
                + "    UNION ALL SELECT f.atttypid FROM pg_attribute f"
                + "      WHERE t.typtype = 'c' AND f.attrelid = t.typrelid AND f.attnum > 0 AND NOT f.attisdropped"
                + "    UNION ALL SELECT r.rngsubtype FROM pg_range r WHERE t.typtype = 'r' AND r.rngtypid = t.oid"
                + "    UNION ALL SELECT r.rngtypid FROM pg_range r WHERE t.typtype = 'm' AND r.rngmultitypid = t.oid"
                + "  ) x(typid))"
                + " SELECT p.attname, string_agg(DISTINCT format_type(t.oid, NULL), ', ')"
                + " FROM parts p JOIN pg_type t ON t.oid = p.typid"
                + " WHERE t.typsend = 0 OR t.typreceive = 0"
                + " GROUP BY p.attnum, p.attname ORDER BY p.attnum")) {
      ps.setString(1, table.quoted());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          columns.put(rs.getString(1), rs.getString(2));
        }
      }
    }
    return columns;
  }

  /**
   * Of the given tables, those that travel as text ({@link #columnsWithoutBinaryIo}), each with a
   * sentence saying why, for logs and {@code validate()}.
   */
  public Map<TableId, String> textTables(List<TableId> tables) throws SQLException {
    Map<TableId, String> text = new LinkedHashMap<>();
    for (TableId t : tables) {
      Map<String, String> columns = columnsWithoutBinaryIo(t);
      if (!columns.isEmpty()) {
        StringBuilder why = new StringBuilder();
        columns.forEach(
            (c, type) ->
                why.append(why.length() == 0 ? "" : ", ")
                    .append("column ")
                    .append(TableId.quoteIdentifier(c))
                    .append(" (")
                    .append(type)
                    .append(')'));
        text.put(t, why + " without binary send/receive");
      }
    }
    return text;
  }

  /** Whether the current user may SELECT from the table. */
  public boolean canSelect(TableId table) throws SQLException {
    try (PreparedStatement ps =
        conn.prepareStatement("SELECT has_table_privilege(?::regclass, 'SELECT')")) {
      ps.setString(1, table.quoted());
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }
}
