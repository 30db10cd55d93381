package io.pgcopy.connect.sink.batch;

import io.pgcopy.connect.format.ColumnLayout;
import io.pgcopy.connect.format.Operation;
import io.pgcopy.connect.format.RecordHeaders;
import io.pgcopy.connect.format.RowBatch;
import io.pgcopy.connect.format.RowBatchReader;
import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.format.Tuples;
import io.pgcopy.connect.sink.offsets.ChangePosition;
import io.pgcopy.connect.sink.truncate.TruncateBarrier;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiPredicate;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.sink.SinkRecord;

/**
 * Turns records into per-table batches ({@link TableBatch}) waiting to be written: a snapshot
 * batch's rows as they came, a change batch's entries one by one, a struct record's row as text
 * forms. Knows nothing of offsets or transactions: whether a keyless table's change was applied
 * already (the source sent it again) it asks {@code takeChange}.
 */
public final class SinkBuffer {
  private final RecordDecoder decoder;

  /**
   * Called when what is buffered must be written before a record can be buffered (its table's
   * columns changed).
   */
  private final Runnable writeFirst;

  /**
   * Takes a keyless table's change at its stream position from its partition; false when one at or
   * after that position was taken already.
   */
  private final BiPredicate<TopicPartition, ChangePosition> takeChange;

  private final Map<TableId, TableBatch> batches = new LinkedHashMap<>();
  private final Map<TableId, Long> sentAgain = new LinkedHashMap<>();
  private long rows;
  private long bytes;

  /**
   * A record that ends with one bucket's entry of a keyed table's truncate: the task waits for the
   * others.
   */
  public record BarrierEntry(TruncateBarrier.Truncate truncate, int entries, int bucket) {}

  public SinkBuffer(
      RecordDecoder decoder,
      Runnable writeFirst,
      BiPredicate<TopicPartition, ChangePosition> takeChange) {
    this.decoder = decoder;
    this.writeFirst = writeFirst;
    this.takeChange = takeChange;
  }

  /**
   * Buffers the rows of a (non-control) record; returns the truncate entry it ends with, if it is
   * one of several.
   */
  public BarrierEntry add(SinkRecord r) {
    RecordDecoder.Decoded d = decoder.decode(r);
    if (d.isBatch()) {
      check(r, d);
      return addBatch(r, d);
    }
    addRow(r, d);
    return null;
  }

  /**
   * Refuses a malformed batch before any of it is buffered, so a bad record (a truncated value, a
   * wrong field count, a row count that does not match) can be skipped whole.
   */
  private static void check(SinkRecord r, RecordDecoder.Decoded d) {
    byte[] value = RecordDecoder.value(r);
    if (value == null) {
      throw new DataException(RecordDecoder.where(r) + " is a batch without a value");
    }
    int count;
    try {
      count = RowBatchReader.check(d.batchKind(), value, d.layout().size());
    } catch (IllegalArgumentException e) {
      throw new DataException(
          RecordDecoder.where(r)
              + " is not a pgcopy row batch of "
              + d.target()
              + ": "
              + e.getMessage(),
          e);
    }
    if (d.batchKind() == RowBatch.ROWS && count != rowCount(r)) {
      throw new DataException(
          RecordDecoder.where(r)
              + " holds "
              + count
              + " rows where its "
              + RecordHeaders.ROWS
              + " header says "
              + rowCount(r));
    }
  }

  /** A binary record: many rows of one table. */
  private BarrierEntry addBatch(SinkRecord r, RecordDecoder.Decoded d) {
    byte[] value = RecordDecoder.value(r);
    if (value == null) {
      throw new DataException(RecordDecoder.where(r) + " is a batch without a value");
    }
    TableBatch batch = batchFor(d, d.text());
    if (d.batchKind() == RowBatch.ROWS) {
      int count = rowCount(r);
      batch.addRun(value, count);
      rows += count;
      bytes += value.length;
      return null;
    }
    ColumnLayout layout = d.layout();
    int[] keyFields = layout.hasKey() ? layout.keyFieldIndexes() : null;
    TopicPartition tp = new TopicPartition(r.topic(), r.kafkaPartition());
    RowBatchReader entries = RowBatchReader.of(RowBatch.CHANGES, value);
    BarrierEntry barrier = null;
    try {
      while (entries.next()) {
        if (barrier != null) {
          throw new IllegalArgumentException(
              "entries follow a truncate entry of " + barrier.entries() + " buckets");
        }
        Operation op = entries.operation();
        if (op == Operation.TRUNCATE && entries.truncateEntries() > 1) {
          barrier =
              new BarrierEntry(
                  new TruncateBarrier.Truncate(
                      d.target().quoted(), entries.commitLsn(), entries.truncateSeq()),
                  entries.truncateEntries(),
                  bucket(r));
          continue;
        }
        if (keyFields == null
            && entries.changeSeq() > 0
            && !takeChange.test(tp, new ChangePosition(entries.commitLsn(), entries.changeSeq()))) {
          sentAgain.merge(d.target(), 1L, Long::sum);
          continue; // applied already: the source sent it again
        }
        byte[] old = entries.oldTuple();
        byte[] row = entries.newTuple();
        byte[] key =
            keyFields == null || op == Operation.DELETE || op == Operation.TRUNCATE
                ? old
                : Tuples.project(row, keyFields);
        long before = batch.size();
        bytes += batch.add(op, key, row, entries.absent());
        rows += op == Operation.TRUNCATE ? 0 : Math.max(0, batch.size() - before);
        if (op == Operation.TRUNCATE) {
          rows = recount();
        }
      }
    } catch (IllegalArgumentException e) {
      throw new DataException(RecordDecoder.where(r) + ": " + e.getMessage(), e);
    }
    return barrier;
  }

  /** A struct record (record.format=struct): one row, as text forms. */
  private void addRow(SinkRecord r, RecordDecoder.Decoded d) {
    TableBatch existing = batches.get(d.target());
    boolean text =
        r.value() instanceof Struct
            || r.key() instanceof Struct
            // a truncate has neither: it joins the table's batch in whatever format that has
            || (r.value() == null && r.key() == null && existing != null && existing.text());
    byte[] value;
    byte[] key;
    if (text) {
      ColumnLayout layout = d.layout();
      value = RecordDecoder.textTuple(r, r.value(), "value", layout.columns());
      key =
          RecordDecoder.textTuple(
              r, r.key(), "key", layout.hasKey() ? layout.keyColumns() : layout.columns());
    } else {
      value = RecordDecoder.value(r);
      key = RecordDecoder.key(r);
    }
    switch (d.operation()) {
      case READ, INSERT, UPDATE -> {
        if (value == null) {
          throw new DataException(
              RecordDecoder.where(r) + " is a " + d.operation() + " without a value");
        }
      }
      case DELETE -> {
        if (key == null) {
          throw new DataException(RecordDecoder.where(r) + " is a delete without a key");
        }
      }
      case TRUNCATE -> {}
    }
    // the batch first: what it writes first must not store this change's position
    TableBatch batch = batchFor(d, text);
    ChangePosition at = d.layout().hasKey() ? null : position(r);
    if (at != null && !takeChange.test(new TopicPartition(r.topic(), r.kafkaPartition()), at)) {
      sentAgain.merge(d.target(), 1L, Long::sum);
      return; // applied already: the source sent it again
    }
    long before = batch.size();
    try {
      bytes += batch.add(d.operation(), key, value, d.absent());
    } catch (IllegalArgumentException e) {
      throw new DataException(RecordDecoder.where(r) + ": " + e.getMessage(), e);
    }
    rows += Math.max(0, batch.size() - before);
    if (d.operation() == Operation.TRUNCATE) {
      rows = recount();
    }
  }

  /** The table's batch, after writing what came before if its columns or record format changed. */
  private TableBatch batchFor(RecordDecoder.Decoded d, boolean text) {
    TableBatch batch = batches.get(d.target());
    if (batch != null && (!batch.layout().equals(d.layout()) || batch.text() != text)) {
      writeFirst.run(); // write what came before as it was
      batch = null;
    }
    if (batch == null) {
      batch = new TableBatch(d.target(), d.layout(), text);
      batches.put(d.target(), batch);
    }
    return batch;
  }

  private long recount() {
    return batches.values().stream().mapToLong(TableBatch::size).sum();
  }

  private static int rowCount(SinkRecord r) {
    Header h = r.headers().lastWithName(RecordHeaders.ROWS);
    if (h == null || !(h.value() instanceof byte[] b) || b.length != 4) {
      throw new DataException(
          RecordDecoder.where(r)
              + " has no 4-byte "
              + RecordHeaders.ROWS
              + " header"
              + RecordDecoder.CONVERTER_HINT);
    }
    return ByteBuffer.wrap(b).getInt();
  }

  /** A struct change record's stream position, from its headers; null without them. */
  private static ChangePosition position(SinkRecord r) {
    Header lsn = r.headers().lastWithName(RecordHeaders.LSN);
    Header seq = r.headers().lastWithName(RecordHeaders.SEQ);
    if (lsn == null
        || seq == null
        || !(lsn.value() instanceof byte[] l)
        || l.length != 8
        || !(seq.value() instanceof byte[] n)
        || n.length != 4) {
      return null;
    }
    return new ChangePosition(ByteBuffer.wrap(l).getLong(), ByteBuffer.wrap(n).getInt());
  }

  private static int bucket(SinkRecord r) {
    if (!(r.key() instanceof byte[] k) || k.length != 4) {
      throw new DataException(
          RecordDecoder.where(r) + ": a truncate entry's record key must be its 4-byte bucket");
    }
    return ByteBuffer.wrap(k).getInt();
  }

  /**
   * The truncate a record of a waiting partition carries, if it is a lone truncate entry of
   * several.
   */
  public TruncateBarrier.Truncate truncateIn(SinkRecord r) {
    Header op = r.headers().lastWithName(RecordHeaders.OPERATION);
    if (op == null
        || !(op.value() instanceof byte[] b)
        || b.length != 1
        || b[0] != RowBatch.CHANGES
        || !(r.value() instanceof byte[] value)) {
      return null;
    }
    RowBatchReader entries = RowBatchReader.of(RowBatch.CHANGES, value);
    if (!entries.next()
        || entries.operation() != Operation.TRUNCATE
        || entries.truncateEntries() <= 1) {
      return null;
    }
    RecordDecoder.Decoded d = decoder.decode(r);
    return new TruncateBarrier.Truncate(
        d.target().quoted(), entries.commitLsn(), entries.truncateSeq());
  }

  public Collection<TableBatch> batches() {
    return batches.values();
  }

  /** How many changes of each keyless table were skipped as sent again since the last clear. */
  public Map<TableId, Long> sentAgain() {
    return sentAgain;
  }

  public long rows() {
    return rows;
  }

  public long bytes() {
    return bytes;
  }

  boolean isEmpty() {
    return batches.isEmpty();
  }

  public void clear() {
    batches.clear();
    sentAgain.clear();
    rows = 0;
    bytes = 0;
  }
}
