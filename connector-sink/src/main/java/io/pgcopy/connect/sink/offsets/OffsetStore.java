package io.pgcopy.connect.sink.offsets;

import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.sink.target.DdlRace;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;

/**
 * The consumed Kafka offsets, kept in the target database: written in the transaction that applies
 * the rows, read back to rewind the consumer. One row per connector and topic partition, holding
 * the next offset to consume and the stream position of the last keyless-table change applied from
 * it ({@code stream_lsn}, {@code stream_seq}; null before the first).
 */
public final class OffsetStore {
  private final TableId table;
  private final String connector;

  public OffsetStore(TableId table, String connector) {
    this.table = table;
    this.connector = connector;
  }

  /** Creates the table unless it exists; commits. */
  public void createIfAbsent(Connection conn) throws SQLException {
    try (Statement st = conn.createStatement()) {
      st.execute(
          "CREATE TABLE IF NOT EXISTS "
              + table.quoted()
              + " ("
              + "connector text NOT NULL, topic text NOT NULL, kafka_partition int NOT NULL, next_offset bigint NOT NULL,"
              + " updated_at timestamptz NOT NULL DEFAULT now(), stream_lsn bigint, stream_seq int,"
              + " PRIMARY KEY (connector, topic, kafka_partition))");
      if (!hasStreamPosition(conn)) {
        // made by an earlier version: add the columns (this takes the table's owner)
        st.execute(
            "ALTER TABLE "
                + table.quoted()
                + " ADD COLUMN IF NOT EXISTS stream_lsn bigint, ADD COLUMN IF NOT EXISTS stream_seq int");
      }
      conn.commit();
    } catch (SQLException e) {
      conn.rollback();
      if (!DdlRace.lostToConcurrentCreate(e)) {
        throw e;
      }
    }
  }

  /**
   * Whether the table has the stream position's columns (a role that does not own it can use them).
   */
  private boolean hasStreamPosition(Connection conn) throws SQLException {
    try (PreparedStatement ps =
        conn.prepareStatement(
            "SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass(?)"
                + " AND attname IN ('stream_lsn', 'stream_seq') AND NOT attisdropped")) {
      ps.setString(1, table.quoted());
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(1) == 2;
      }
    }
  }

  /**
   * What the target holds for some partitions: the next offset of each, and the stream position of
   * the last keyless change applied from those that have one.
   */
  public record Stored(
      Map<TopicPartition, Long> offsets, Map<TopicPartition, ChangePosition> positions) {}

  /** What the target holds for {@code partitions} (those it has rows for). */
  public Stored load(Connection conn, Collection<TopicPartition> partitions) throws SQLException {
    Map<TopicPartition, Long> offsets = new HashMap<>();
    Map<TopicPartition, ChangePosition> positions = new HashMap<>();
    try (PreparedStatement ps =
        conn.prepareStatement(
            "SELECT topic, kafka_partition, next_offset, stream_lsn, stream_seq FROM "
                + table.quoted()
                + " WHERE connector = ?")) {
      ps.setString(1, connector);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          TopicPartition tp = new TopicPartition(rs.getString(1), rs.getInt(2));
          if (partitions.contains(tp)) {
            offsets.put(tp, rs.getLong(3));
            long lsn = rs.getLong(4);
            if (!rs.wasNull()) {
              positions.put(tp, new ChangePosition(lsn, rs.getInt(5)));
            }
          }
        }
      }
    }
    return new Stored(offsets, positions);
  }

  /**
   * Stores the next offsets of {@code nextOffsets}' partitions, each only if the stored value is
   * still the one this task last read or wrote ({@code expected}; none stored when absent). Returns
   * the partitions where it was not: another writer (a task that took the partition over, or this
   * task's own commit whose answer was lost) moved them, and the caller must roll back. With them
   * it stores the stream positions of {@code positions}' partitions (others keep theirs).
   */
  public Set<TopicPartition> save(
      Connection conn,
      Map<TopicPartition, Long> nextOffsets,
      Map<TopicPartition, Long> expected,
      Map<TopicPartition, ChangePosition> positions)
      throws SQLException {
    Set<TopicPartition> moved = new HashSet<>();
    List<TopicPartition> updated = new ArrayList<>();
    List<TopicPartition> inserted = new ArrayList<>();
    try (PreparedStatement update =
            conn.prepareStatement(
                "UPDATE "
                    + table.quoted()
                    + " SET next_offset = ?, stream_lsn = coalesce(?, stream_lsn),"
                    + " stream_seq = coalesce(?, stream_seq), updated_at = now()"
                    + " WHERE connector = ? AND topic = ? AND kafka_partition = ? AND next_offset = ?");
        PreparedStatement insert =
            conn.prepareStatement(
                "INSERT INTO "
                    + table.quoted()
                    + " (connector, topic, kafka_partition, next_offset, stream_lsn, stream_seq)"
                    + " VALUES (?, ?, ?, ?, ?, ?)"
                    + " ON CONFLICT (connector, topic, kafka_partition) DO NOTHING")) {
      for (Map.Entry<TopicPartition, Long> e : nextOffsets.entrySet()) {
        TopicPartition tp = e.getKey();
        Long before = expected.get(tp);
        ChangePosition at = positions.get(tp);
        Long lsn = at == null ? null : at.commitLsn();
        Integer seq = at == null ? null : at.seq();
        if (before != null) {
          update.setLong(1, e.getValue());
          update.setObject(2, lsn, Types.BIGINT);
          update.setObject(3, seq, Types.INTEGER);
          update.setString(4, connector);
          update.setString(5, tp.topic());
          update.setInt(6, tp.partition());
          update.setLong(7, before);
          update.addBatch();
          updated.add(tp);
        } else {
          insert.setString(1, connector);
          insert.setString(2, tp.topic());
          insert.setInt(3, tp.partition());
          insert.setLong(4, e.getValue());
          insert.setObject(5, lsn, Types.BIGINT);
          insert.setObject(6, seq, Types.INTEGER);
          insert.addBatch();
          inserted.add(tp);
        }
      }
      collectUnchanged(updated.isEmpty() ? new int[0] : update.executeBatch(), updated, moved);
      collectUnchanged(inserted.isEmpty() ? new int[0] : insert.executeBatch(), inserted, moved);
    }
    return moved;
  }

  /**
   * Sets the stored next offsets of the given partitions as an operator asked (Connect's {@code
   * PATCH} and {@code DELETE /connectors/<name>/offsets}, with the connector stopped): a null value
   * removes the partition's row, so the sink starts it from the consumer group's position. The
   * stream position goes too: the operator chose where to resume, and every change from there on is
   * applied. Does not commit.
   */
  public void overwrite(Connection conn, Map<TopicPartition, Long> offsets) throws SQLException {
    try (PreparedStatement delete =
            conn.prepareStatement(
                "DELETE FROM "
                    + table.quoted()
                    + " WHERE connector = ? AND topic = ? AND kafka_partition = ?");
        PreparedStatement upsert =
            conn.prepareStatement(
                "INSERT INTO "
                    + table.quoted()
                    + " (connector, topic, kafka_partition, next_offset) VALUES (?, ?, ?, ?)"
                    + " ON CONFLICT (connector, topic, kafka_partition)"
                    + " DO UPDATE SET next_offset = EXCLUDED.next_offset, stream_lsn = NULL,"
                    + " stream_seq = NULL, updated_at = now()")) {
      for (Map.Entry<TopicPartition, Long> e : offsets.entrySet()) {
        PreparedStatement ps = e.getValue() == null ? delete : upsert;
        ps.setString(1, connector);
        ps.setString(2, e.getKey().topic());
        ps.setInt(3, e.getKey().partition());
        if (e.getValue() != null) {
          ps.setLong(4, e.getValue());
        }
        ps.addBatch();
      }
      delete.executeBatch();
      upsert.executeBatch();
    }
  }

  private static void collectUnchanged(
      int[] counts, List<TopicPartition> partitions, Set<TopicPartition> moved) {
    for (int i = 0; i < counts.length; i++) {
      // SUCCESS_NO_INFO (-2) cannot happen with pgjdbc's batches of DML; count it as written
      if (counts[i] == 0) {
        moved.add(partitions.get(i));
      }
    }
  }
}
