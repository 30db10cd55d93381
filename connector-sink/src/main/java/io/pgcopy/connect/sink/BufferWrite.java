package io.pgcopy.connect.sink;

import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.sink.apply.BatchApplier;
import io.pgcopy.connect.sink.batch.SinkBuffer;
import io.pgcopy.connect.sink.batch.TableBatch;
import io.pgcopy.connect.sink.config.PgCopySinkConfig;
import io.pgcopy.connect.sink.offsets.OffsetStore;
import io.pgcopy.connect.sink.offsets.PartitionOffsets;
import io.pgcopy.connect.sink.postdata.PostDataStep;
import io.pgcopy.connect.sink.target.EmbeddedOids;
import io.pgcopy.connect.sink.target.TargetTables;
import io.pgcopy.connect.sink.target.TargetTypes;
import io.pgcopy.connect.sink.truncate.TruncateBarrier;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.DataException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One write of a sink task: everything buffered, in one target transaction. The tables are made
 * ready (created, columns added, the key before the first change, the target's type OIDs in binary
 * values), each table's batch applied, a truncate entry's arrival recorded, the post-data arrivals
 * and sequence states taken since the last write applied, and the offsets past all of it stored.
 * Offsets stored by someone else meanwhile (another task took the partitions) roll it all back.
 */
final class BufferWrite {
  private static final Logger log = LoggerFactory.getLogger(BufferWrite.class);

  private final String name;
  private final PgCopySinkConfig config;
  private final TargetSession session;
  private final SinkBuffer buffer;
  private final PartitionOffsets offsets;
  private final OffsetStore offsetStore;
  private final TruncateBarrier barrier;
  private final PostDataStep postData;
  private final SinkTaskMetrics metrics;
  private final TargetTables targetTables;
  private final TargetTypes targetTypes = new TargetTypes();
  private final BatchApplier applier = new BatchApplier();

  /** One bucket's truncate entry to record with the write, and the partition it came from. */
  record Arrival(SinkBuffer.BarrierEntry entry, TopicPartition from) {}

  /**
   * What a write came to.
   *
   * @param truncated whether the arrival's truncate is done (null without an arrival)
   * @param movedTo when the offsets moved under the task: what the target holds now (the write was
   *     rolled back); else null
   */
  record Outcome(Boolean truncated, OffsetStore.Stored movedTo) {}

  BufferWrite(
      String name,
      PgCopySinkConfig config,
      TargetSession session,
      SinkBuffer buffer,
      PartitionOffsets offsets,
      OffsetStore offsetStore,
      TruncateBarrier barrier,
      PostDataStep postData,
      SinkTaskMetrics metrics) {
    this.name = name;
    this.config = config;
    this.session = session;
    this.buffer = buffer;
    this.offsets = offsets;
    this.offsetStore = offsetStore;
    this.barrier = barrier;
    this.postData = postData;
    this.metrics = metrics;
    this.targetTables = new TargetTables(config.autoCreate(), config.postData());
  }

  /** Forgets what was cached for the session (staging tables, looked-up types). */
  void reset() {
    applier.reset();
    targetTypes.reset();
  }

  /**
   * Writes what is buffered and the pending offsets, with {@code arrival} when not null; on success
   * the buffer is cleared and the offsets count as stored.
   *
   * @throws ConnectException as {@link TargetSession#failed} makes it (retriable or not) when the
   *     target fails
   */
  Outcome write(Arrival arrival) {
    Boolean truncated = null;
    long start = System.nanoTime();
    TableId current = null;
    try {
      Connection c = session.connection();
      for (TableBatch b : buffer.batches()) {
        current = b.target();
        prepare(c, b);
      }
      for (TableBatch b : buffer.batches()) {
        current = b.target();
        applier.apply(c, b);
      }
      current = null;
      if (arrival != null) {
        truncated =
            barrier.arrive(
                c,
                arrival.entry().truncate(),
                arrival.entry().entries(),
                arrival.entry().bucket(),
                arrival.from());
      }
      postData.inWrite(c);
      current = config.offsetsTable();
      Set<TopicPartition> moved =
          offsetStore.save(c, offsets.pending(), offsets.committed(), offsets.pendingPositions());
      if (!moved.isEmpty()) {
        c.rollback();
        postData.dropped();
        log.warn(
            "{}: the offsets stored for {} moved since this task read them (another task took the partitions "
                + "over, or a commit whose answer was lost went through): dropping {} buffered rows and resuming from the "
                + "stored offsets",
            name,
            moved,
            buffer.rows());
        OffsetStore.Stored stored = offsetStore.load(c, offsets.held());
        c.commit();
        return new Outcome(null, stored);
      }
      c.commit();
    } catch (SQLException e) {
      session.rollbackQuietly();
      applier.reset();
      postData.dropped();
      throw session.failed(
          e,
          "writing "
              + buffer.rows()
              + " rows to "
              + (current == null ? "the truncate and post-data barriers" : current));
    }
    long millis = (System.nanoTime() - start) / 1_000_000;
    log.debug(
        "{}: wrote {} rows ({} bytes) to {} tables in {} ms",
        name,
        buffer.rows(),
        buffer.bytes(),
        buffer.batches().size(),
        millis);
    metrics.batch(buffer.rows(), millis);
    buffer
        .sentAgain()
        .forEach(
            (table, n) ->
                log.info(
                    "{}: skipped {} changes of {} applied already (the source sent them again: it"
                        + " resumed from an older offset)",
                    name,
                    n,
                    table));
    session.succeeded();
    offsets.written();
    postData.written();
    buffer.clear();
    return new Outcome(truncated, null);
  }

  /** Makes the target table ready for a batch, and the batch's binary values for the target. */
  private void prepare(Connection c, TableBatch b) throws SQLException {
    targetTables.ensure(c, b.target(), b.layout(), b.needsKey());
    EmbeddedOids.Shape[] shapes = b.text() ? null : targetTypes.shapes(c, b.target(), b.layout());
    if (shapes != null) {
      try {
        b.rewriteOids(shapes);
      } catch (IllegalArgumentException e) {
        throw new DataException(
            name
                + ": a row for "
                + b.target()
                + " does not fit the target's types: "
                + e.getMessage());
      }
    }
  }
}
