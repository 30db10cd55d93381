package io.pgcopy.connect.sink;

import io.pgcopy.connect.common.Mbeans;
import io.pgcopy.connect.common.Version;
import io.pgcopy.connect.sink.batch.RecordDecoder;
import io.pgcopy.connect.sink.batch.SinkBuffer;
import io.pgcopy.connect.sink.config.PgCopySinkConfig;
import io.pgcopy.connect.sink.offsets.OffsetStore;
import io.pgcopy.connect.sink.offsets.PartitionOffsets;
import io.pgcopy.connect.sink.postdata.PostDataStep;
import io.pgcopy.connect.sink.truncate.TruncateBarrier;
import io.pgcopy.connect.sink.truncate.TruncateWaits;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.management.ObjectName;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Buffers rows per target table and writes them in one transaction with binary COPY, together with
 * the next Kafka offset of every partition they came from. The consumer is rewound to the stored
 * offsets on {@link #open}, and records below them are skipped, so each record is applied once
 * whatever crashes.
 */
public class PgCopySinkTask extends SinkTask {
  private static final Logger log = LoggerFactory.getLogger(PgCopySinkTask.class);

  private PgCopySinkConfig config;
  private String name;
  private TargetSession session;
  private OffsetStore offsetStore;
  private BufferWrite writes;
  private RecordDecoder decoder;
  private final SinkTaskMetrics metrics = new SinkTaskMetrics();
  private ObjectName metricsName;

  private SinkBuffer buffer;
  private BadRecords badRecords;
  private TruncateBarrier barrier;
  private PostDataStep postData;

  /** Partitions stopped at a keyed table's truncate. */
  private TruncateWaits waits;

  private long oldestBufferedAt;

  /** Per partition: what was taken, what is to be stored with the next write, what is stored. */
  private final PartitionOffsets offsets = new PartitionOffsets();

  /** Partitions assigned while the target did not answer: paused until their offsets are read. */
  private final Set<TopicPartition> unopened = new LinkedHashSet<>();

  @Override
  public String version() {
    return Version.get();
  }

  @Override
  public void start(Map<String, String> props) {
    config = new PgCopySinkConfig(props);
    name = props.getOrDefault("name", "pgcopy-sink");
    offsetStore = new OffsetStore(config.offsetsTable(), name);
    decoder = new RecordDecoder(config.tableNameFormat());
    buffer = new SinkBuffer(decoder, () -> write(null), offsets::takeChange);
    badRecords = new BadRecords(name, context);
    barrier = new TruncateBarrier(config.offsetsTable());
    waits = new TruncateWaits(name, context);
    postData = new PostDataStep(name, config);
    session = new TargetSession(config, name, context, () -> writes.reset());
    writes =
        new BufferWrite(
            name, config, session, buffer, offsets, offsetStore, barrier, postData, metrics);
    metricsName = Mbeans.register("sink-task", name, Mbeans.taskNumber(), metrics);
    log.info("{}: task started, writing to {}", name, config.connectionUrl());
  }

  /**
   * Takes the partitions Connect assigns. Their offsets come from the target; when it does not
   * answer now (a transient failure), they stay paused and {@link #put} opens them once it does:
   * Connect ends the task on any exception thrown from here, retriable or not.
   */
  @Override
  public void open(Collection<TopicPartition> partitions) {
    unopened.addAll(partitions);
    try {
      openPending();
    } catch (RetriableException e) {
      context.pause(unopened.toArray(new TopicPartition[0]));
    }
  }

  /** Reads the stored offsets and truncate barriers of the partitions not opened yet. */
  private void openPending() {
    List<TopicPartition> partitions = new ArrayList<>(unopened);
    try {
      Connection c = session.connection();
      offsetStore.createIfAbsent(c);
      barrier.createIfAbsent(c);
      postData.open(c);
      OffsetStore.Stored stored = offsetStore.load(c, partitions);
      Map<TopicPartition, TruncateBarrier.Truncate> stopped = barrier.waiting(c, partitions);
      c.commit();
      waits.found(stopped);
      // Connect pauses a partition it assigns again if this task paused it before a rebalance:
      // every one must flow, those waiting at a truncate too, until put() has passed the entries
      // of that truncate that follow in the partition (see TruncateWaits.pauseAfterEntries)
      context.resume(partitions.toArray(new TopicPartition[0]));
      offsets.opened(stored.offsets());
      offsets.appliedAt(stored.positions());
      if (!stored.offsets().isEmpty()) {
        context.offset(stored.offsets());
      }
      log.info(
          "{}: opened {} partitions, rewound {} to offsets stored in {}",
          name,
          partitions.size(),
          stored.offsets().size(),
          config.offsetsTable());
      unopened.removeAll(partitions);
    } catch (SQLException e) {
      session.drop();
      throw session.failed(e, "reading the stored offsets");
    }
  }

  @Override
  public void put(Collection<SinkRecord> records) {
    if (!unopened.isEmpty()) {
      openPending(); // their records wait (paused) until then
    }
    if (waits.any()) {
      releaseTruncated();
    }
    if (postData.mayBeDue()) {
      buildPostData();
    }
    for (SinkRecord r : records) {
      TopicPartition tp = new TopicPartition(r.topic(), r.kafkaPartition());
      if (offsets.taken(tp, r.kafkaOffset())) {
        continue; // already buffered or applied
      }
      TruncateBarrier.Truncate stoppedAt = waits.stoppedAt(tp);
      if (stoppedAt != null && !stoppedAt.equals(buffer.truncateIn(r))) {
        waits.pauseAfterEntries(tp);
        // after a truncate still waiting for other buckets: consumed again once it is done
        continue;
      }
      if (offsets.nonePending()) {
        oldestBufferedAt = System.currentTimeMillis();
      }
      boolean postDataRecord = PostDataStep.takes(r);
      if (postDataRecord) {
        postData.take(r, decoder.target(r)); // applied with the next write
      }
      SinkBuffer.BarrierEntry truncate =
          RecordDecoder.isControl(r) || postDataRecord ? null : badRecords.add(buffer, r);
      offsets.take(tp, r.kafkaOffset());
      if (truncate != null) {
        arrive(tp, truncate);
      } else if (buffer.rows() >= config.batchMaxRows()
          || buffer.bytes() >= config.batchMaxBytes()) {
        write(null); // one poll can bring many batches: memory stays within batch.max.bytes
      }
    }
    long waited = System.currentTimeMillis() - oldestBufferedAt;
    if (buffer.rows() >= config.batchMaxRows()
        || buffer.bytes() >= config.batchMaxBytes()
        || (!offsets.nonePending() && waited >= config.batchLingerMs())) {
      write(null);
    }
    if (postData.mayBeDue()) {
      buildPostData(); // a write just now may have completed an announcement
    }
    // Connect calls put() again only after its next consumer poll, which without new records
    // waits until the next offset commit: ask for a shorter one, so rows waiting are written, and
    // partitions waiting at a truncate are released, in time
    long nextPut =
        offsets.nonePending() ? Long.MAX_VALUE : Math.max(1, config.batchLingerMs() - waited);
    if (waits.any()) {
      nextPut = Math.min(nextPut, TruncateWaits.CHECK_EVERY_MS);
    }
    if (nextPut != Long.MAX_VALUE) {
      context.timeout(nextPut);
    }
  }

  /**
   * One bucket's entry of a keyed table's truncate: what came before is written and the arrival
   * recorded in one transaction; the partition then waits until every bucket's entry arrived and
   * the table was truncated (by whichever task completed the set).
   */
  private void arrive(TopicPartition tp, SinkBuffer.BarrierEntry entry) {
    Boolean done = write(new BufferWrite.Arrival(entry, tp));
    if (done == null) {
      return; // the offsets moved under this task: it consumes again from what the target holds
    }
    if (done) {
      waits.release(entry.truncate(), offsets);
    } else {
      waits.waitAt(tp, entry.truncate());
    }
  }

  /**
   * Partitions waiting at truncates that are done now are consumed again from where they stopped.
   */
  private void releaseTruncated() {
    Collection<TruncateBarrier.Truncate> due = waits.due();
    if (due.isEmpty()) {
      return;
    }
    try {
      Connection c = session.connection();
      Set<TruncateBarrier.Truncate> done = barrier.done(c, due);
      c.commit();
      done.forEach(t -> waits.release(t, offsets));
    } catch (SQLException e) {
      session.rollbackQuietly();
      throw session.failed(e, "checking truncates waited for");
    }
  }

  /** Builds the post-data of the tables whose snapshot is complete in the target. */
  private void buildPostData() {
    try {
      postData.buildDue(session.connection());
    } catch (SQLException e) {
      session.rollbackQuietly();
      throw session.failed(e, "building post-data (indexes, constraints, sequences)");
    } catch (PostDataStep.BuildFailed e) {
      log.error("{}: {}", name, e.getMessage());
      throw new ConnectException(name + ": " + e.getMessage(), e.getCause());
    }
  }

  /**
   * Writes every buffered row and the pending offsets in one transaction ({@link BufferWrite}),
   * with a truncate entry's arrival when given. Returns whether that truncate is done, null without
   * an arrival or when the write was dropped because the offsets moved under this task: it then
   * consumes again from what the target holds.
   */
  private Boolean write(BufferWrite.Arrival arrival) {
    if (offsets.nonePending()) {
      return null;
    }
    BufferWrite.Outcome outcome = writes.write(arrival);
    if (outcome.movedTo() != null) {
      restartFrom(outcome.movedTo().offsets(), offsets.held());
      offsets.appliedAt(outcome.movedTo().positions());
      return null;
    }
    return outcome.truncated();
  }

  @Override
  public Map<TopicPartition, OffsetAndMetadata> preCommit(
      Map<TopicPartition, OffsetAndMetadata> currentOffsets) {
    write(null);
    if (postData.mayBeDue()) {
      context.timeout(1); // the next put() builds it, without waiting for records or a commit
    }
    Map<TopicPartition, OffsetAndMetadata> result = new HashMap<>();
    for (TopicPartition tp : currentOffsets.keySet()) {
      Long next = offsets.committed().get(tp);
      if (next != null) {
        result.put(tp, new OffsetAndMetadata(next));
      }
    }
    return result;
  }

  @Override
  public void close(Collection<TopicPartition> partitions) {
    try {
      write(null);
    } catch (ConnectException e) {
      // nothing of what is buffered may be written once these partitions belong to another task:
      // drop it all and go back to what the target holds for the partitions still ours
      log.warn(
          "{}: writing buffered rows before a rebalance failed; they will be consumed again: {}",
          name,
          e.getMessage());
      Set<TopicPartition> kept = offsets.held();
      kept.removeAll(partitions);
      restartFrom(new HashMap<>(offsets.committed()), kept);
    }
    for (TopicPartition tp : partitions) {
      unopened.remove(tp);
      waits.forget(tp);
      offsets.forget(tp);
    }
  }

  /**
   * Drops everything buffered and goes back, for each of {@code partitions}, to its offset in
   * {@code stored} (what the target holds) or, with none stored, to the first record buffered.
   */
  private void restartFrom(Map<TopicPartition, Long> stored, Set<TopicPartition> partitions) {
    Map<TopicPartition, Long> rewind = offsets.restartFrom(stored, partitions);
    buffer.clear();
    postData.dropped();
    writes.reset();
    if (!rewind.isEmpty()) {
      context.offset(rewind);
    }
  }

  @Override
  public void stop() {
    Mbeans.unregister(metricsName);
    if (session != null) {
      session.drop();
    }
    log.info("{}: task stopped", name);
  }
}
