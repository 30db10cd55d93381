package io.pgcopy.connect.source.stream;

import io.pgcopy.connect.format.Operation;
import io.pgcopy.connect.format.RowBatch;
import io.pgcopy.connect.format.RowBatchWriter;
import io.pgcopy.connect.source.config.PgCopySourceConfig;
import io.pgcopy.connect.source.offsets.SourceOffsets;
import io.pgcopy.connect.source.offsets.SourceOffsets.StreamPosition;
import io.pgcopy.connect.source.records.BatchAssembler;
import io.pgcopy.connect.source.records.BatchRecords;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * The change stream's binary records: one poll's changes grouped per table and key bucket ({@link
 * BatchAssembler}), turned into records at the end of the poll. Each record remembers the
 * transactions whose changes it holds ({@link ChangeBatchRecord}), so their confirmation waits for
 * it. Not thread-safe: the task's thread only.
 */
final class ChangeBatches {
  private final PgCopySourceConfig config;
  private final Map<String, Object> partition;
  private final BatchRecords records;
  private final List<BatchAssembler.Completed<Group, StreamPosition>> completed = new ArrayList<>();
  private BatchAssembler<Group, StreamPosition> batches;

  /**
   * The batch a change goes to: its table's, in its key bucket. A relation is the same object for
   * as long as its description is ({@link StreamRelations}), so groups compare it by identity: the
   * record's own equals and hashCode would walk its whole column layout twice per change (found
   * with a profile of the catch-up: a third of the stream task's CPU).
   */
  private record Group(StreamRelations.Relation relation, int bucket) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Group g && g.relation == relation && g.bucket == bucket;
    }

    @Override
    public int hashCode() {
      return 31 * System.identityHashCode(relation) + bucket;
    }
  }

  ChangeBatches(PgCopySourceConfig config, Map<String, Object> partition) {
    this.config = config;
    this.partition = partition;
    this.records = new BatchRecords(config.keyBuckets());
  }

  /** A poll starts; every change before {@code sentUpTo} is in a record Kafka has. */
  void start(StreamPosition sentUpTo) {
    batches = new BatchAssembler<>(config.batchBytes(), sentUpTo);
    completed.clear();
  }

  /**
   * Adds a change at position {@code at}: for a keyed table {@code key} is its key (the old one for
   * a delete), for a keyless table the old row (null for an insert).
   */
  void change(
      StreamRelations.Relation r,
      Operation op,
      long commitLsn,
      StreamPosition at,
      byte[] key,
      byte[] value,
      int[] absent) {
    byte[] old = op == Operation.DELETE || r.keyless() ? key : null;
    Group group = new Group(r, r.keyless() ? BatchRecords.KEYLESS : records.bucket(key));
    // a keyless table's change says where it is in the stream: applied twice it would double a
    // row, so the sink skips one it has applied (a keyed change applied twice changes nothing)
    int seq = r.keyless() && at.seq() <= Integer.MAX_VALUE ? (int) at.seq() : 0;
    batches
        .writer(group, RowBatchWriter.changeSize(seq, absent, old, value), completed)
        .appendChange(op, commitLsn, seq, absent, old, value);
    batches.appended(group, at, commitLsn);
  }

  /**
   * A truncate of a keyed table goes into every key bucket, each entry saying how many make the
   * whole: the sink truncates once every bucket's entry arrived (docs/record-format.md). The
   * table's batches so far go first; then each entry is a record of its own, so in every partition
   * they follow each other with nothing between. A keyless table's truncate is one entry, in
   * partition 0 with its rows.
   */
  void truncate(StreamRelations.Relation r, long commitLsn, int seq, StreamPosition at) {
    int entries = r.keyless() ? 1 : records.buckets();
    batches.completeGroups(g -> g.relation() == r, completed);
    for (int b = 0; b < entries; b++) {
      Group group = new Group(r, r.keyless() ? BatchRecords.KEYLESS : b);
      batches.writer(group, 18, completed).appendTruncate(commitLsn, seq, entries);
      batches.appended(group, at, commitLsn);
      batches.completeGroups(g -> g.equals(group), completed);
    }
  }

  /**
   * Appends this poll's batches to {@code out} as records, in order; each counts as sent for its
   * transactions.
   */
  void complete(List<SourceRecord> out, PendingTransactions pending) {
    batches.completeAll(completed);
    for (BatchAssembler.Completed<Group, StreamPosition> b : completed) {
      StreamPosition at = b.coveredUpTo();
      Map<String, Object> offset =
          at == null
              ? SourceOffsets.streamOffset(0, -1)
              : SourceOffsets.streamOffset(at.commitLsn(), at.seq());
      for (long commitLsn : b.tags()) {
        pending.sent(commitLsn);
      }
      out.add(
          new ChangeBatchRecord(
              records.record(
                  partition,
                  offset,
                  b.group().relation().records(),
                  b.group().bucket(),
                  RowBatch.CHANGES,
                  b.value(),
                  b.rows()),
              b.tags()));
    }
    completed.clear();
  }

  /** Forgets this poll's changes (it failed: they are read again). */
  void drop() {
    completed.clear();
    batches = null;
  }
}
