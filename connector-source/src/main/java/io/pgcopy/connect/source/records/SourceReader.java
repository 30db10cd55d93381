package io.pgcopy.connect.source.records;

import java.io.IOException;
import java.sql.SQLException;
import java.util.List;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * What a source task reads from: the snapshot's ranges ({@code SnapshotReader}) or the change
 * stream ({@code ChangeStreamReader}). {@link #poll()} and {@link #reset()} are called from the
 * task's thread; {@link #cancel()} and {@link #acknowledged} from any.
 */
public interface SourceReader extends AutoCloseable {
  /**
   * The next records: possibly empty (call again), or null when there is nothing to read now (the
   * task waits {@link #idleMillis()} before the next call). When it throws, nothing of this call
   * counts as sent: after {@link #reset()} the next call reads it again.
   */
  List<SourceRecord> poll() throws SQLException, IOException;

  /** How long the task waits after {@link #poll()} returned null. */
  long idleMillis();

  /** Where the reader stands, for messages. */
  String position();

  /**
   * Drops connections and open work after a failure; the next poll starts again from what Kafka
   * has.
   */
  void reset();

  /** Cancels a blocked call from another thread. */
  void cancel();

  /** Kafka acknowledged a record this reader returned (Connect's commitRecord). */
  default void acknowledged(SourceRecord record) {}

  @Override
  void close();
}
