package io.pgcopy.connect.sink.truncate;

import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.sink.target.DdlRace;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;

/**
 * Truncates of keyed tables, which the source sends as one entry in every key bucket (so in every
 * partition the table's rows use): the target table is truncated once every bucket's entry has
 * arrived, that is once every row written before the truncate is in the target, and no row written
 * after it is applied before that.
 *
 * <p>The arrivals are rows of a table next to the offsets table, written in the transaction that
 * applies the rows before them and stores the offsets past them, so a restarted or rebalanced task
 * finds which of its partitions wait. Tasks on several workers meet there: an advisory lock makes
 * exactly one of them, the one whose arrival completes the set, run the {@code TRUNCATE}.
 */
public final class TruncateBarrier {
  /** The bucket of the row that marks a truncate as done. */
  private static final int DONE = -1;

  private final TableId table;

  /**
   * One truncate: its target table (quoted), its source transaction's commit LSN and its number
   * there.
   */
  public record Truncate(String target, long commitLsn, int seq) {}

  /**
   * @param offsetsTable the sink's offsets table; the arrivals live beside it, named after it
   */
  public TruncateBarrier(TableId offsetsTable) {
    this.table = new TableId(offsetsTable.schema(), offsetsTable.table() + "_truncates");
  }

  /** Creates the table unless it exists; commits. */
  public void createIfAbsent(Connection conn) throws SQLException {
    try (Statement st = conn.createStatement()) {
      st.execute(
          "CREATE TABLE IF NOT EXISTS "
              + table.quoted()
              + " (target text NOT NULL, commit_lsn bigint NOT NULL,"
              + " seq int NOT NULL, bucket int NOT NULL, topic text, kafka_partition int,"
              + " arrived_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (target, commit_lsn, seq, bucket))");
      conn.commit();
    } catch (SQLException e) {
      conn.rollback();
      if (!DdlRace.lostToConcurrentCreate(e)) {
        throw e;
      }
    }
  }

  /**
   * In the caller's transaction: records that {@code bucket}'s entry of {@code t}, one of {@code
   * entries}, arrived from {@code from}, and truncates the target if that completes the set.
   * Returns whether the truncate is done (now, or before: an entry consumed again changes nothing).
   */
  public boolean arrive(Connection conn, Truncate t, int entries, int bucket, TopicPartition from)
      throws SQLException {
    String target = t.target();
    try (PreparedStatement lock =
        conn.prepareStatement("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))")) {
      lock.setString(1, target + "@" + t.commitLsn() + "/" + t.seq());
      lock.execute();
    }
    int arrived;
    boolean done;
    try (PreparedStatement ps =
        conn.prepareStatement(
            "SELECT count(*) FILTER (WHERE bucket >= 0), "
                + "coalesce(bool_or(bucket = "
                + DONE
                + "), false) FROM "
                + table.quoted()
                + " WHERE target = ? AND commit_lsn = ? AND seq = ?")) {
      bind(ps, t);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        arrived = rs.getInt(1);
        done = rs.getBoolean(2);
      }
    }
    if (done) {
      return true;
    }
    try (PreparedStatement ps =
        conn.prepareStatement(
            "INSERT INTO "
                + table.quoted()
                + " (target, commit_lsn, seq, bucket, topic, kafka_partition) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
      bind(ps, t);
      ps.setInt(4, bucket);
      ps.setString(5, from.topic());
      ps.setInt(6, from.partition());
      arrived += ps.executeUpdate();
    }
    if (arrived < entries) {
      return false;
    }
    try (Statement st = conn.createStatement()) {
      st.execute("TRUNCATE " + target);
    }
    try (PreparedStatement ps =
        conn.prepareStatement(
            "DELETE FROM " + table.quoted() + " WHERE target = ? AND commit_lsn = ? AND seq = ?")) {
      bind(ps, t);
      ps.executeUpdate();
    }
    try (PreparedStatement ps =
        conn.prepareStatement(
            "INSERT INTO "
                + table.quoted()
                + " (target, commit_lsn, seq, bucket) VALUES (?, ?, ?, "
                + DONE
                + ")")) {
      bind(ps, t);
      ps.executeUpdate();
    }
    return true;
  }

  /** Of the truncates given, the ones done. */
  public Set<Truncate> done(Connection conn, Collection<Truncate> waiting) throws SQLException {
    Set<Truncate> done = new HashSet<>();
    try (PreparedStatement ps =
        conn.prepareStatement(
            "SELECT 1 FROM "
                + table.quoted()
                + " WHERE target = ? AND commit_lsn = ? AND seq = ? AND bucket = "
                + DONE)) {
      for (Truncate t : new HashSet<>(waiting)) {
        bind(ps, t);
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            done.add(t);
          }
        }
      }
    }
    return done;
  }

  /**
   * The partitions among {@code partitions} whose consumption stopped at a truncate not done yet,
   * and that truncate.
   */
  public Map<TopicPartition, Truncate> waiting(
      Connection conn, Collection<TopicPartition> partitions) throws SQLException {
    Map<TopicPartition, Truncate> waiting = new HashMap<>();
    try (Statement st = conn.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT a.target, a.commit_lsn, a.seq, a.topic, a.kafka_partition FROM "
                    + table.quoted()
                    + " a WHERE a.bucket >= 0 AND NOT EXISTS (SELECT 1 FROM "
                    + table.quoted()
                    + " d WHERE d.target = a.target AND d.commit_lsn = a.commit_lsn AND d.seq = a.seq AND d.bucket = "
                    + DONE
                    + ")")) {
      while (rs.next()) {
        TopicPartition tp = new TopicPartition(rs.getString(4), rs.getInt(5));
        if (partitions.contains(tp)) {
          waiting.put(tp, new Truncate(rs.getString(1), rs.getLong(2), rs.getInt(3)));
        }
      }
    }
    return waiting;
  }

  private static void bind(PreparedStatement ps, Truncate t) throws SQLException {
    ps.setString(1, t.target());
    ps.setLong(2, t.commitLsn());
    ps.setInt(3, t.seq());
  }
}
