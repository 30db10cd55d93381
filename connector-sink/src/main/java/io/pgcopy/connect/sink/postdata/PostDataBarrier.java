package io.pgcopy.connect.sink.postdata;

import io.pgcopy.connect.format.PostData;
import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.sink.target.DdlRace;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * The arrivals of post-data announcements, which the source sends in every key bucket of a table
 * once its snapshot is in Kafka: rows of a table next to the sink's offsets table, written in the
 * transaction that stores the offsets past them. An announcement whose every bucket has arrived is
 * due: every snapshot row of its table is in the target. It stays due until built ({@link #built}),
 * so a task that stopped during the builds, or any task started later, finds it again.
 */
final class PostDataBarrier {
  /** The bucket of the row that marks an announcement as built. */
  private static final int BUILT = -1;

  private final TableId table;

  /** A due announcement: the target table (quoted) and what to build there. */
  record Due(String target, PostData postData) {}

  /**
   * @param offsetsTable the sink's offsets table; the arrivals live beside it, named after it
   */
  PostDataBarrier(TableId offsetsTable) {
    this.table = new TableId(offsetsTable.schema(), offsetsTable.table() + "_post_data");
  }

  /** Creates the table unless it exists; commits. */
  void createIfAbsent(Connection conn) throws SQLException {
    try (Statement st = conn.createStatement()) {
      st.execute(
          "CREATE TABLE IF NOT EXISTS "
              + table.quoted()
              + " (target text NOT NULL, id bigint NOT NULL, bucket int NOT NULL, entries int NOT NULL,"
              + " items bytea, arrived_at timestamptz NOT NULL DEFAULT now(),"
              + " PRIMARY KEY (target, id, bucket))");
      conn.commit();
    } catch (SQLException e) {
      conn.rollback();
      if (!DdlRace.lostToConcurrentCreate(e)) {
        throw e;
      }
    }
  }

  /** In the caller's transaction: records that one bucket's announcement arrived. */
  void arrive(Connection conn, String target, PostData postData, byte[] value) throws SQLException {
    try (PreparedStatement ps =
        conn.prepareStatement(
            "INSERT INTO "
                + table.quoted()
                + " (target, id, bucket, entries, items) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
      ps.setString(1, target);
      ps.setLong(2, postData.id());
      ps.setInt(3, postData.bucket());
      ps.setInt(4, postData.entries());
      ps.setBytes(5, value);
      ps.executeUpdate();
    }
  }

  /** The announcements whose every bucket has arrived and that are not built yet; commits. */
  List<Due> due(Connection conn) throws SQLException {
    List<Due> due = new ArrayList<>();
    try (Statement st = conn.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT a.target, (array_agg(a.items ORDER BY a.bucket))[1] FROM "
                    + table.quoted()
                    + " a WHERE a.bucket >= 0 GROUP BY a.target, a.id"
                    + " HAVING count(*) >= max(a.entries) AND NOT EXISTS (SELECT 1 FROM "
                    + table.quoted()
                    + " d WHERE d.target = a.target AND d.id = a.id AND d.bucket = "
                    + BUILT
                    + ") ORDER BY min(a.arrived_at)")) {
      while (rs.next()) {
        due.add(new Due(rs.getString(1), PostData.decode(rs.getBytes(2))));
      }
    }
    conn.commit(); // not in a finally: on a broken connection its failure would hide the cause
    return due;
  }

  /** Whether an announcement is marked built (by another task, meanwhile); commits. */
  boolean isBuilt(Connection conn, Due d) throws SQLException {
    try (PreparedStatement ps =
        conn.prepareStatement(
            "SELECT 1 FROM "
                + table.quoted()
                + " WHERE target = ? AND id = ? AND bucket = "
                + BUILT)) {
      ps.setString(1, d.target());
      ps.setLong(2, d.postData().id());
      boolean answer;
      try (ResultSet rs = ps.executeQuery()) {
        answer = rs.next();
      }
      conn.commit(); // not in a finally: on a broken connection its failure would hide the cause
      return answer;
    }
  }

  /** Marks an announcement built, dropping its arrivals; commits. */
  void built(Connection conn, Due d) throws SQLException {
    try (PreparedStatement del =
            conn.prepareStatement(
                "DELETE FROM " + table.quoted() + " WHERE target = ? AND id = ?");
        PreparedStatement ins =
            conn.prepareStatement(
                "INSERT INTO "
                    + table.quoted()
                    + " (target, id, bucket, entries) VALUES (?, ?, "
                    + BUILT
                    + ", 0) ON CONFLICT DO NOTHING")) {
      del.setString(1, d.target());
      del.setLong(2, d.postData().id());
      del.executeUpdate();
      ins.setString(1, d.target());
      ins.setLong(2, d.postData().id());
      ins.executeUpdate();
      conn.commit();
    } catch (SQLException e) {
      conn.rollback();
      throw e;
    }
  }
}
