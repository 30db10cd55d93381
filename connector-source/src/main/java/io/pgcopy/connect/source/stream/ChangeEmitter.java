package io.pgcopy.connect.source.stream;

import io.pgcopy.connect.format.Operation;
import io.pgcopy.connect.format.Tuples;
import io.pgcopy.connect.format.pgoutput.PgOutputMessage;
import io.pgcopy.connect.format.pgoutput.TupleData;
import io.pgcopy.connect.source.config.PgCopySourceConfig;
import io.pgcopy.connect.source.offsets.SourceOffsets;
import io.pgcopy.connect.source.offsets.SourceOffsets.StreamPosition;
import io.pgcopy.connect.source.records.RecordSizeGuard;
import io.pgcopy.connect.source.records.SourceTaskMetrics;
import io.pgcopy.connect.source.stream.PendingTransactions.Tx;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * Turns the row messages of a decoded transaction (Insert, Update, Delete, Truncate) into changes:
 * entries of the poll's batches (record.format=binary) or records of their own (struct). Numbers
 * each change within its transaction and skips those sent before (at or below {@link #sentUpTo()})
 * and those the snapshot of their table already holds. Keeps the position of the last change sent,
 * which the stream's offsets and restarts are built on.
 */
final class ChangeEmitter {
  /** Microseconds from the Unix epoch to PostgreSQL's (2000-01-01). */
  private static final long PG_EPOCH_MICROS = 946_684_800_000_000L;

  private final String taskName;
  private final Map<String, Object> partition;
  private final StreamRelations relations;
  private final ChangeBatches batches;
  private final RecordSizeGuard sizeGuard;
  private final SourceTaskMetrics metrics;

  /** Whether rows are turned into COPY tuples of text forms rather than binary ones. */
  private final boolean textForms;

  /**
   * Changes at or below this position were sent already (committed offset, then what this task
   * sent).
   */
  private StreamPosition sentUpTo;

  /** Changes this poll turned into records or batch entries. */
  private int polled;

  ChangeEmitter(
      PgCopySourceConfig config,
      String taskName,
      Map<String, Object> partition,
      StreamRelations relations,
      ChangeBatches batches,
      SourceTaskMetrics metrics,
      boolean textForms,
      StreamPosition sentUpTo) {
    this.taskName = taskName;
    this.partition = partition;
    this.relations = relations;
    this.batches = batches;
    this.sizeGuard = new RecordSizeGuard(config);
    this.metrics = metrics;
    this.textForms = textForms;
    this.sentUpTo = sentUpTo;
  }

  /** The last change sent (null: none since the slot was created). */
  StreamPosition sentUpTo() {
    return sentUpTo;
  }

  /** Starts counting a poll's changes from 0. */
  void startPoll() {
    polled = 0;
  }

  /** Changes this poll turned into records or batch entries so far. */
  int polled() {
    return polled;
  }

  /** Forgets what a failed poll counted as sent: the changes after {@code position} go again. */
  void rewind(StreamPosition position) {
    sentUpTo = position;
  }

  /**
   * Handles {@code m} of transaction {@code tx} if it is a row message (Insert, Update, Delete,
   * Truncate), adding records to {@code out} (struct) or entries to the batches; ignores any other
   * message.
   */
  void rowChange(PgOutputMessage m, Tx tx, List<SourceRecord> out) {
    if (m instanceof PgOutputMessage.Insert i) {
      StreamRelations.Relation r = relations.get(i.relationId());
      if (!r.skip()) {
        byte[] value = tuple(i.newTuple(), r);
        emit(
            out,
            tx,
            r,
            Operation.INSERT,
            r.keyless() ? null : Tuples.project(value, r.keyFields()),
            value,
            null);
      }
    } else if (m instanceof PgOutputMessage.Update u) {
      StreamRelations.Relation r = relations.get(u.relationId());
      if (!r.skip()) {
        update(out, tx, r, u);
      }
    } else if (m instanceof PgOutputMessage.Delete d) {
      StreamRelations.Relation r = relations.get(d.relationId());
      if (!r.skip()) {
        byte[] old = tuple(d.oldTuple(), r);
        emit(
            out,
            tx,
            r,
            Operation.DELETE,
            r.keyless() ? old : Tuples.project(old, r.keyFields()),
            null,
            null);
      }
    } else if (m instanceof PgOutputMessage.Truncate t) {
      for (int id : t.relationIds()) {
        StreamRelations.Relation r = relations.get(id);
        if (!r.skip()) {
          if (r.structs() == null) {
            truncate(tx, r);
          } else {
            emit(out, tx, r, Operation.TRUNCATE, null, null, null);
          }
        }
      }
    }
  }

  private void update(
      List<SourceRecord> out, Tx tx, StreamRelations.Relation r, PgOutputMessage.Update u) {
    TupleData newTuple = u.newTuple();
    byte[] value = tuple(newTuple, r);
    int[] absent = newTuple.unchangedToastColumns();
    if (r.keyless() && u.oldTuple() == null) {
      throw new ConnectException(
          taskName
              + ": an update of keyless table "
              + r.table()
              + " came without its old row; "
              + "set REPLICA IDENTITY FULL on it");
    }
    byte[] old = u.oldTuple() == null ? null : tuple(u.oldTuple(), r);
    if (absent != null && u.oldKind() == 'O' && !u.oldTuple().hasUnchangedToast()) {
      // REPLICA IDENTITY FULL: the old row has the unchanged values, so every consumer gets whole
      // rows
      value = Tuples.replaceFields(value, absent, old);
      absent = null;
    }
    if (r.keyless()) {
      emit(out, tx, r, Operation.UPDATE, old, value, absent);
      return;
    }
    byte[] key = Tuples.project(value, r.keyFields());
    if (old != null) {
      byte[] oldKey = Tuples.project(old, r.keyFields());
      if (!Arrays.equals(oldKey, key)) {
        emit(
            out,
            tx,
            r,
            Operation.DELETE,
            oldKey,
            null,
            null); // the key changed: the old key is gone
      }
    }
    emit(out, tx, r, Operation.UPDATE, key, value, absent);
  }

  /**
   * A row as a COPY tuple in the stream's form. A binary stream that meets a text value (a column
   * of a type without binary send, added after the connector started) cannot go on: the task fails
   * and says to restart the connector, which then plans the table as text.
   */
  private byte[] tuple(TupleData t, StreamRelations.Relation r) {
    try {
      return t.toCopyTuple(textForms);
    } catch (IllegalStateException e) {
      throw new ConnectException(
          taskName
              + ": "
              + r.table()
              + ": "
              + e.getMessage()
              + ". A column's type has no "
              + "binary send function (a column added since the connector started?): restart the connector, which then "
              + "streams in text mode",
          e);
    }
  }

  /**
   * One change: appended to its table and key bucket's batch (record.format=binary), or a record of
   * its own (struct). For a keyless table the key is the old row.
   */
  private void emit(
      List<SourceRecord> out,
      Tx tx,
      StreamRelations.Relation r,
      Operation op,
      byte[] key,
      byte[] value,
      int[] absent) {
    long seq = ++tx.seq;
    if (!toSend(tx, r, seq)) {
      return;
    }
    if (value != null && value.length > 512 * 1024) {
      sizeGuard.check(
          r.table(),
          "transaction committed at " + ChangeStreamReader.lsn(tx.commitLsn),
          key,
          value,
          r.records().columns());
    }
    metrics.bytes.addAndGet(value == null ? 0 : value.length);
    if (r.structs() == null) {
      batches.change(r, op, tx.commitLsn, sentUpTo, key, value, absent);
      return;
    }
    tx.sent();
    out.add(
        StructChangeRecords.record(
            partition,
            SourceOffsets.streamOffset(tx.commitLsn, seq),
            r,
            op,
            tx.commitLsn,
            seq,
            key,
            value,
            absent));
  }

  /**
   * Whether the change {@code seq} of {@code tx} is to be sent: not sent before a restart or
   * reconnect, and not in the snapshot its table was read under. Counts it as sent.
   */
  private boolean toSend(Tx tx, StreamRelations.Relation r, long seq) {
    if (sentUpTo != null && sentUpTo.covers(tx.commitLsn, seq)) {
      return false; // sent before a restart or reconnect
    }
    if (Long.compareUnsigned(tx.commitLsn, r.skipBefore()) < 0) {
      return false; // committed before the snapshot the table was read under: the snapshot holds it
    }
    sentUpTo = new StreamPosition(tx.commitLsn, seq);
    polled++;
    metrics.records.incrementAndGet();
    metrics.lastCommitEpochMillis = (tx.commitTimeMicros + PG_EPOCH_MICROS) / 1000;
    return true;
  }

  /**
   * A truncate of a binary-format table: entries in its batches ({@link ChangeBatches#truncate}).
   */
  private void truncate(Tx tx, StreamRelations.Relation r) {
    long seq = ++tx.seq;
    if (toSend(tx, r, seq)) {
      batches.truncate(r, tx.commitLsn, (int) seq, sentUpTo);
    }
  }
}
