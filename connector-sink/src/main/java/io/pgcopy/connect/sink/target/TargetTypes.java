package io.pgcopy.connect.sink.target;

import io.pgcopy.connect.format.Column;
import io.pgcopy.connect.format.ColumnLayout;
import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.sink.target.EmbeddedOids.Shape;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The shapes of the target columns' types, for {@link EmbeddedOids}: which columns of a table hold
 * arrays or composites whose binary form embeds OIDs of user-defined types, and the target's OIDs
 * to put there. Read from the target catalog once per table and layout.
 */
public final class TargetTypes {
  private final Map<String, Shape[]> byTable = new HashMap<>();
  private final Map<Long, Shape> byOid = new HashMap<>();

  /**
   * Per field of the layout the shape to rewrite, or null for the whole table when nothing needs
   * it.
   */
  public Shape[] shapes(Connection conn, TableId target, ColumnLayout layout) throws SQLException {
    String key = target.quoted() + "\n" + layout.hashCode() + "\n" + layout;
    if (byTable.containsKey(key)) {
      return byTable.get(key);
    }
    Map<String, Long> columnTypes = new HashMap<>();
    try (PreparedStatement ps =
        conn.prepareStatement(
            "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = ?::regclass AND attnum > 0 AND NOT attisdropped")) {
      ps.setString(1, target.quoted());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          columnTypes.put(rs.getString(1), rs.getLong(2));
        }
      }
    }
    List<Column> columns = layout.columns();
    Shape[] shapes = new Shape[columns.size()];
    boolean any = false;
    for (int i = 0; i < shapes.length; i++) {
      Long oid = columnTypes.get(columns.get(i).name());
      if (oid != null) {
        Shape s = shape(conn, oid, 0);
        if (s.embedsUserOid()) {
          shapes[i] = s;
          any = true;
        }
      }
    }
    Shape[] result = any ? shapes : null;
    byTable.put(key, result);
    conn.commit();
    return result;
  }

  private Shape shape(Connection conn, long oid, int depth) throws SQLException {
    Shape cached = byOid.get(oid);
    if (cached != null) {
      return cached;
    }
    if (depth > 20) {
      throw new SQLException("type " + oid + " nests deeper than 20 levels", "54001");
    }
    String typtype;
    long elem;
    long relid;
    long base;
    int typlen;
    String name;
    try (PreparedStatement ps =
        conn.prepareStatement(
            "SELECT typtype, typelem, typrelid, typbasetype, typlen, format_type(oid, NULL) FROM pg_type WHERE oid = ?")) {
      ps.setLong(1, oid);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return EmbeddedOids.SCALAR;
        }
        typtype = rs.getString(1);
        elem = rs.getLong(2);
        relid = rs.getLong(3);
        base = rs.getLong(4);
        typlen = rs.getInt(5);
        name = rs.getString(6);
      }
    }
    Shape s;
    if ("d".equals(typtype)) {
      s = shape(conn, base, depth + 1);
    } else if (elem != 0 && typlen == -1) {
      s = new EmbeddedOids.ArrayOf((int) elem, shape(conn, elem, depth + 1));
    } else if ("c".equals(typtype)) {
      List<EmbeddedOids.Field> fields = new ArrayList<>();
      try (PreparedStatement ps =
          conn.prepareStatement(
              "SELECT atttypid FROM pg_attribute WHERE attrelid = ? AND attnum > 0 AND NOT attisdropped ORDER BY attnum")) {
        ps.setLong(1, relid);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            fields.add(new EmbeddedOids.Field((int) rs.getLong(1), null));
          }
        }
      }
      List<EmbeddedOids.Field> resolved = new ArrayList<>();
      for (EmbeddedOids.Field f : fields) {
        resolved.add(
            new EmbeddedOids.Field(f.typeOid(), shape(conn, f.typeOid() & 0xffffffffL, depth + 1)));
      }
      s = new EmbeddedOids.Composite(name, resolved);
    } else {
      s = EmbeddedOids.SCALAR;
    }
    byOid.put(oid, s);
    return s;
  }

  public void reset() {
    byTable.clear();
    byOid.clear();
  }
}
