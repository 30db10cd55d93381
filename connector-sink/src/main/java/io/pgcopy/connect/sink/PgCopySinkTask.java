package io.pgcopy.connect.sink;

import io.pgcopy.connect.common.ConnectionSettings;
import io.pgcopy.connect.format.ColumnLayout;
import io.pgcopy.connect.format.SqlStates;
import io.pgcopy.connect.format.TableId;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Buffers rows per target table and writes them in one transaction with binary COPY, together
 * with the next Kafka offset of every partition they came from. The consumer is rewound to the
 * stored offsets on {@link #open}, and records below them are skipped, so each record is applied
 * once whatever crashes.
 */
public class PgCopySinkTask extends SinkTask {
  private static final Logger log = LoggerFactory.getLogger(PgCopySinkTask.class);

  private PgCopySinkConfig config;
  private String name;
  private Connection conn;
  private OffsetStore offsetStore;
  private TargetTables targetTables;
  private final TargetTypes targetTypes = new TargetTypes();
  private final BatchApplier applier = new BatchApplier();
  private RecordDecoder decoder;
  private final SinkTaskMetrics metrics = new SinkTaskMetrics();
  private javax.management.ObjectName metricsName;

  private final Map<TableId, TableBatch> batches = new LinkedHashMap<>();
  private long bufferedRows;
  private long bufferedBytes;
  private long oldestBufferedAt;
  /** Per partition: the offset after the last record buffered or applied; records below it are skipped. */
  private final Map<TopicPartition, Long> nextOffsets = new HashMap<>();
  /** Offsets advanced since the last write, stored with the next write. */
  private final Map<TopicPartition, Long> pendingOffsets = new HashMap<>();
  /** Offsets stored in the target. */
  private final Map<TopicPartition, Long> committedOffsets = new HashMap<>();
  /** Per partition: the first offset buffered since the last write, where to go back to if the buffer is dropped. */
  private final Map<TopicPartition, Long> firstPending = new HashMap<>();

  @Override
  public String version() {
    return io.pgcopy.connect.common.Version.get();
  }

  @Override
  public void start(Map<String, String> props) {
    config = new PgCopySinkConfig(props);
    name = props.getOrDefault("name", "pgcopy-sink");
    offsetStore = new OffsetStore(config.offsetsTable(), name);
    targetTables = new TargetTables(config.autoCreate());
    decoder = new RecordDecoder(config.tableNameFormat());
    metricsName = io.pgcopy.connect.common.Mbeans.register("sink-task", name, io.pgcopy.connect.common.Mbeans.taskNumber(),
        metrics);
    log.info("{}: task started, writing to {}", name, config.connectionUrl());
  }

  @Override
  public void open(Collection<TopicPartition> partitions) {
    try {
      Connection c = connection();
      offsetStore.createIfAbsent(c);
      Map<TopicPartition, Long> stored = offsetStore.load(c, partitions);
      c.commit();
      for (Map.Entry<TopicPartition, Long> e : stored.entrySet()) {
        nextOffsets.put(e.getKey(), e.getValue());
        committedOffsets.put(e.getKey(), e.getValue());
      }
      if (!stored.isEmpty()) {
        context.offset(stored);
      }
      log.info("{}: opened {} partitions, rewound {} to offsets stored in {}", name, partitions.size(), stored.size(),
          config.offsetsTable());
    } catch (SQLException e) {
      dropConnection();
      throw translate(e, "reading the stored offsets");
    }
  }

  @Override
  public void put(Collection<SinkRecord> records) {
    for (SinkRecord r : records) {
      TopicPartition tp = new TopicPartition(r.topic(), r.kafkaPartition());
      Long next = nextOffsets.get(tp);
      if (next != null && r.kafkaOffset() < next) {
        continue; // already buffered or applied
      }
      if (pendingOffsets.isEmpty()) {
        oldestBufferedAt = System.currentTimeMillis();
      }
      if (!RecordDecoder.isControl(r)) {
        buffer(r);
      }
      nextOffsets.put(tp, r.kafkaOffset() + 1);
      pendingOffsets.put(tp, r.kafkaOffset() + 1);
      firstPending.putIfAbsent(tp, r.kafkaOffset());
    }
    if (bufferedRows >= config.batchMaxRows() || bufferedBytes >= config.batchMaxBytes()
        || (!pendingOffsets.isEmpty() && System.currentTimeMillis() - oldestBufferedAt >= config.batchLingerMs())) {
      write();
    }
  }

  private void buffer(SinkRecord r) {
    RecordDecoder.Decoded d = decoder.decode(r);
    // struct records (record.format=struct) become tuples of text forms
    TableBatch batch = batches.get(d.target());
    boolean text = r.value() instanceof Struct || r.key() instanceof Struct
        // a truncate has neither: it joins the table's batch in whatever format that has
        || (r.value() == null && r.key() == null && batch != null && batch.text());
    byte[] value;
    byte[] key;
    if (text) {
      ColumnLayout layout = d.layout();
      value = RecordDecoder.textTuple(r, r.value(), "value", layout.columns());
      key = RecordDecoder.textTuple(r, r.key(), "key", layout.hasKey() ? layout.keyColumns() : layout.columns());
    } else {
      value = RecordDecoder.value(r);
      key = RecordDecoder.key(r);
    }
    switch (d.operation()) {
      case READ, INSERT, UPDATE -> {
        if (value == null) {
          throw new DataException(RecordDecoder.where(r) + " is a " + d.operation() + " without a value");
        }
      }
      case DELETE -> {
        if (key == null) {
          throw new DataException(RecordDecoder.where(r) + " is a delete without a key");
        }
      }
      case TRUNCATE -> { }
    }
    if (batch != null && (!batch.layout().equals(d.layout()) || batch.text() != text)) {
      write(); // the table's columns or the record format changed: write what came before as it was
      batch = null;
    }
    if (batch == null) {
      batch = new TableBatch(d.target(), d.layout(), text);
      batches.put(d.target(), batch);
    }
    int before = batch.size();
    try {
      bufferedBytes += batch.add(d.operation(), key, value, d.absent());
    } catch (IllegalArgumentException e) {
      throw new DataException(RecordDecoder.where(r) + ": " + e.getMessage(), e);
    }
    bufferedRows += Math.max(0, batch.size() - before);
    if (d.operation() == io.pgcopy.connect.format.Operation.TRUNCATE) {
      bufferedRows = batches.values().stream().mapToLong(TableBatch::size).sum();
    }
  }

  /** Writes every buffered row and the pending offsets in one transaction. */
  private void write() {
    if (pendingOffsets.isEmpty()) {
      return;
    }
    long start = System.nanoTime();
    TableId current = null;
    try {
      Connection c = connection();
      for (TableBatch b : batches.values()) {
        current = b.target();
        targetTables.ensure(c, b.target(), b.layout());
        EmbeddedOids.Shape[] shapes = b.text() ? null : targetTypes.shapes(c, b.target(), b.layout());
        if (shapes != null) {
          try {
            b.rewriteOids(shapes);
          } catch (IllegalArgumentException e) {
            throw new DataException(name + ": a row for " + b.target() + " does not fit the target's types: "
                + e.getMessage());
          }
        }
      }
      for (TableBatch b : batches.values()) {
        current = b.target();
        applier.apply(c, b);
      }
      current = config.offsetsTable();
      Set<TopicPartition> moved = offsetStore.save(c, pendingOffsets, committedOffsets);
      if (!moved.isEmpty()) {
        c.rollback();
        log.warn("{}: the offsets stored for {} moved since this task read them (another task took the partitions "
            + "over, or a commit whose answer was lost went through): dropping {} buffered rows and resuming from the "
            + "stored offsets", name, moved, bufferedRows);
        Map<TopicPartition, Long> stored = offsetStore.load(c, heldPartitions());
        c.commit();
        restartFrom(stored, heldPartitions());
        return;
      }
      c.commit();
    } catch (SQLException e) {
      rollbackQuietly();
      applier.reset();
      context.timeout(1000);
      throw translate(e, "writing " + bufferedRows + " rows to " + current);
    }
    if (log.isDebugEnabled()) {
      log.debug("{}: wrote {} rows ({} bytes) to {} tables in {} ms", name, bufferedRows, bufferedBytes, batches.size(),
          (System.nanoTime() - start) / 1_000_000);
    }
    metrics.batch(bufferedRows, (System.nanoTime() - start) / 1_000_000);
    committedOffsets.putAll(pendingOffsets);
    pendingOffsets.clear();
    firstPending.clear();
    batches.clear();
    bufferedRows = 0;
    bufferedBytes = 0;
  }

  @Override
  public Map<TopicPartition, OffsetAndMetadata> preCommit(Map<TopicPartition, OffsetAndMetadata> currentOffsets) {
    write();
    Map<TopicPartition, OffsetAndMetadata> result = new HashMap<>();
    for (TopicPartition tp : currentOffsets.keySet()) {
      Long next = committedOffsets.get(tp);
      if (next != null) {
        result.put(tp, new OffsetAndMetadata(next));
      }
    }
    return result;
  }

  @Override
  public void close(Collection<TopicPartition> partitions) {
    try {
      write();
    } catch (ConnectException e) {
      // nothing of what is buffered may be written once these partitions belong to another task:
      // drop it all and go back to what the target holds for the partitions still ours
      log.warn("{}: writing buffered rows before a rebalance failed; they will be consumed again: {}", name, e.getMessage());
      Set<TopicPartition> kept = heldPartitions();
      kept.removeAll(partitions);
      restartFrom(new HashMap<>(committedOffsets), kept);
    }
    for (TopicPartition tp : partitions) {
      nextOffsets.remove(tp);
      committedOffsets.remove(tp);
      firstPending.remove(tp);
    }
  }

  /** The partitions this task has consumed from since they were opened. */
  private Set<TopicPartition> heldPartitions() {
    Set<TopicPartition> held = new HashSet<>(nextOffsets.keySet());
    held.addAll(committedOffsets.keySet());
    return held;
  }

  /**
   * Drops everything buffered and goes back, for each of {@code partitions}, to its offset in
   * {@code stored} (what the target holds) or, with none stored, to the first record buffered.
   */
  private void restartFrom(Map<TopicPartition, Long> stored, Set<TopicPartition> partitions) {
    Map<TopicPartition, Long> rewind = new HashMap<>();
    for (TopicPartition tp : partitions) {
      Long offset = stored.containsKey(tp) ? stored.get(tp) : firstPending.get(tp);
      if (stored.containsKey(tp)) {
        committedOffsets.put(tp, offset);
        nextOffsets.put(tp, offset);
      } else {
        committedOffsets.remove(tp);
        nextOffsets.remove(tp);
      }
      if (offset != null) {
        rewind.put(tp, offset);
      }
    }
    batches.clear();
    bufferedRows = 0;
    bufferedBytes = 0;
    pendingOffsets.clear();
    firstPending.clear();
    applier.reset();
    if (!rewind.isEmpty()) {
      context.offset(rewind);
    }
  }

  @Override
  public void stop() {
    io.pgcopy.connect.common.Mbeans.unregister(metricsName);
    dropConnection();
    log.info("{}: task stopped", name);
  }

  private Connection connection() throws SQLException {
    if (conn == null || conn.isClosed()) {
      conn = ConnectionSettings.open(config, "pgcopy-sink " + name);
      conn.setAutoCommit(false);
    }
    return conn;
  }

  private void rollbackQuietly() {
    try {
      if (conn != null && !conn.isClosed()) {
        conn.rollback();
      }
    } catch (SQLException e) {
      dropConnection();
    }
  }

  private void dropConnection() {
    if (conn != null) {
      try {
        conn.close();
      } catch (SQLException e) {
        log.debug("{}: closing connection: {}", name, e.getMessage());
      }
      conn = null;
    }
    applier.reset();
    targetTypes.reset();
  }

  private ConnectException translate(SQLException e, String doing) {
    String message = name + ": " + doing + " failed: " + e.getMessage() + " (SQLState " + e.getSQLState() + ")";
    if (SqlStates.isTransient(e)) {
      dropConnection();
      return new RetriableException(message, e);
    }
    return new ConnectException(message, e);
  }
}
