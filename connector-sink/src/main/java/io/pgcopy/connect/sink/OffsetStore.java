package io.pgcopy.connect.sink;

import io.pgcopy.connect.format.TableId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * The consumed Kafka offsets, kept in the target database: written in the transaction that
 * applies the rows, read back to rewind the consumer. One row per connector and topic partition,
 * holding the next offset to consume.
 */
final class OffsetStore {
  private final TableId table;
  private final String connector;

  OffsetStore(TableId table, String connector) {
    this.table = table;
    this.connector = connector;
  }

  /** Creates the table unless it exists; commits. */
  void createIfAbsent(Connection conn) throws SQLException {
    try (Statement st = conn.createStatement()) {
      st.execute("CREATE TABLE IF NOT EXISTS " + table.quoted() + " ("
          + "connector text NOT NULL, topic text NOT NULL, kafka_partition int NOT NULL, next_offset bigint NOT NULL,"
          + " updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (connector, topic, kafka_partition))");
      conn.commit();
    } catch (SQLException e) {
      conn.rollback();
      if (!DdlRace.lostToConcurrentCreate(e)) {
        throw e;
      }
    }
  }

  Map<TopicPartition, Long> load(Connection conn, Collection<TopicPartition> partitions) throws SQLException {
    Map<TopicPartition, Long> offsets = new HashMap<>();
    try (PreparedStatement ps = conn.prepareStatement("SELECT topic, kafka_partition, next_offset FROM "
        + table.quoted() + " WHERE connector = ?")) {
      ps.setString(1, connector);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          TopicPartition tp = new TopicPartition(rs.getString(1), rs.getInt(2));
          if (partitions.contains(tp)) {
            offsets.put(tp, rs.getLong(3));
          }
        }
      }
    }
    return offsets;
  }

  void save(Connection conn, Map<TopicPartition, Long> nextOffsets) throws SQLException {
    if (nextOffsets.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = conn.prepareStatement("INSERT INTO " + table.quoted()
        + " (connector, topic, kafka_partition, next_offset) VALUES (?, ?, ?, ?)"
        + " ON CONFLICT (connector, topic, kafka_partition) DO UPDATE"
        + " SET next_offset = EXCLUDED.next_offset, updated_at = now()")) {
      for (Map.Entry<TopicPartition, Long> e : nextOffsets.entrySet()) {
        ps.setString(1, connector);
        ps.setString(2, e.getKey().topic());
        ps.setInt(3, e.getKey().partition());
        ps.setLong(4, e.getValue());
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }
}
