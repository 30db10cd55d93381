package io.pgcopy.connect.source.snapshot;

import io.pgcopy.connect.format.CopyBinaryReader;
import io.pgcopy.connect.format.RowBatch;
import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.source.config.PgCopySourceConfig;
import io.pgcopy.connect.source.offsets.Ctid;
import io.pgcopy.connect.source.offsets.CtidRange;
import io.pgcopy.connect.source.offsets.SourceOffsets;
import io.pgcopy.connect.source.postgres.SourceCatalog;
import io.pgcopy.connect.source.records.BatchAssembler;
import io.pgcopy.connect.source.records.BatchRecords;
import io.pgcopy.connect.source.records.RecordSizeGuard;
import io.pgcopy.connect.source.records.SourceReader;
import io.pgcopy.connect.source.records.SourceTaskMetrics;
import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.connect.source.SourceRecord;
import org.postgresql.copy.CopyOut;
import org.postgresql.copy.PGCopyInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a task's CTID ranges under the exported snapshot, one transaction per range, as a binary
 * COPY stream parsed while it arrives, and turns each row into a record. Call {@link #poll()} from
 * one thread; {@link #cancel()} from any.
 *
 * <p>Each range's rows are selected with their ctid as an extra first column, which becomes the
 * record's source offset (so a restart resumes after the last row Kafka acknowledged) and is
 * dropped from the value.
 */
public final class SnapshotReader implements SourceReader {
  private static final Logger log = LoggerFactory.getLogger(SnapshotReader.class);

  /** A poll stops adding rows past this many value bytes, whatever batch.max.rows says. */
  private static final long MAX_BATCH_BYTES = 8L << 20;

  /** Rows smaller than this cannot exceed any request size limit Kafka allows to be set. */
  private static final int SIZE_CHECK_FROM = 512 * 1024;

  private final PgCopySourceConfig config;
  private final RecordSizeGuard sizeGuard;
  private final String snapshotName;
  private final Set<TableId> truncateFirst = new HashSet<>();
  private final Deque<PendingRange> pending = new ArrayDeque<>();
  private final Map<TableId, SnapshotTable> tables = new HashMap<>();
  private final String taskName;

  /** Tables that travel as text (a column without binary I/O). */
  private final Set<TableId> textTables;

  /**
   * Whether the change stream runs in text mode (some table travels as text): keys are hashed in
   * text form.
   */
  private final boolean streamText;

  private final SnapshotSession session;
  private RangeCursor cursor;

  /** A range still to read, and the row after which to resume (null: from its start). */
  private static final class PendingRange {
    final CtidRange range;
    Ctid after;

    PendingRange(CtidRange range, Ctid after) {
      this.range = range;
      this.after = after;
    }
  }

  /** An open COPY of one range. */
  private static final class RangeCursor {
    final PendingRange pending;
    final SnapshotTable table;
    final CopyOut copy;
    final CopyBinaryReader reader;
    final BatchAssembler<Integer, Ctid> batches;
    long rows;

    RangeCursor(PendingRange pending, SnapshotTable table, CopyOut copy, int batchBytes) {
      this.pending = pending;
      this.table = table;
      this.copy = copy;
      this.reader = new CopyBinaryReader(new PGCopyInputStream(copy));
      this.batches = new BatchAssembler<>(batchBytes, pending.after);
    }
  }

  private final SourceTaskMetrics metrics;
  private final BatchRecords batchRecords;
  private final SnapshotRecords snapshotRecords;

  /**
   * @param snapshotLsn the snapshot's consistent LSN, recorded with each finished range (0:
   *     unknown)
   * @param restarted tables read again whole under this snapshot: progress recorded under another
   *     one is ignored, and their first record is a truncate of the table
   * @param reread tables added to a streaming connector: progress recorded under another snapshot
   *     is ignored (they are read whole under this one)
   * @param textTables the configured tables that travel as text (their snapshot too)
   */
  public SnapshotReader(
      PgCopySourceConfig config,
      String taskName,
      String snapshotName,
      long snapshotLsn,
      Set<TableId> restarted,
      Set<TableId> reread,
      Set<TableId> textTables,
      List<CtidRange> ranges,
      Map<Map<String, Object>, Map<String, Object>> committedOffsets,
      SourceTaskMetrics metrics) {
    this.metrics = metrics;
    this.textTables = Set.copyOf(textTables);
    this.streamText = !textTables.isEmpty() || config.structRecords();
    this.batchRecords = new BatchRecords(config.keyBuckets());
    this.session = new SnapshotSession(config, taskName, snapshotName);
    this.config = config;
    this.sizeGuard = new RecordSizeGuard(config);
    this.taskName = taskName;
    this.snapshotName = snapshotName;
    this.snapshotRecords = new SnapshotRecords(config, batchRecords, snapshotName, snapshotLsn);
    SnapshotResume resume =
        SnapshotResume.of(snapshotName, restarted, reread, ranges, committedOffsets);
    truncateFirst.addAll(resume.truncateFirst());
    for (CtidRange r : ranges) {
      metrics.rangesTotal.incrementAndGet();
      metrics.pagesTotal.addAndGet(r.estimatedPages());
    }
    for (CtidRange r : resume.done()) {
      metrics.rangesDone.incrementAndGet();
      metrics.pagesDone.addAndGet(r.estimatedPages());
    }
    for (SnapshotResume.Pending p : resume.pending()) {
      pending.add(new PendingRange(p.range(), p.after()));
      if (p.after() != null) {
        log.info("{}: resuming {} after row {}", taskName, p.range(), p.after());
      }
    }
    int done = resume.done().size();
    log.info("{}: {} snapshot ranges to read, {} already done", taskName, pending.size(), done);
  }

  /**
   * The next records: empty when a range just ended without rows or the rows read wait in open
   * batches; null when every range is done (the task idles until the connector reconfigures it).
   */
  @Override
  public List<SourceRecord> poll() throws SQLException, IOException {
    if (cursor == null) {
      if (pending.isEmpty()) {
        return null;
      }
      long truncateLsn =
          truncateFirst.contains(pending.peek().range.table()) ? session.walPosition() : 0;
      cursor = open(pending.peek());
      if (truncateFirst.remove(cursor.pending.range.table())) {
        return truncate(cursor, truncateLsn);
      }
    }
    return config.structRecords() ? pollRows(cursor) : pollBatches(cursor);
  }

  /**
   * record.format=binary: reads up to {@code batch.max.rows} rows into key-bucket batches ({@link
   * BatchAssembler}) and returns the batches completed (up to {@link #MAX_BATCH_BYTES} of them), or
   * every batch at the range's end. A poll may return none: the rows wait in open batches.
   */
  private List<SourceRecord> pollBatches(RangeCursor c) throws SQLException, IOException {
    List<BatchAssembler.Completed<Integer, Ctid>> completed = new ArrayList<>();
    CopyBinaryReader reader = c.reader;
    SnapshotTable t = c.table;
    BatchAssembler<Integer, Ctid> batches = c.batches;
    long bytes = 0;
    long rows = 0;
    while (bytes < MAX_BATCH_BYTES && rows < config.batchMaxRows()) {
      if (!reader.next()) {
        batches.completeAll(completed);
        break;
      }
      Ctid ctid = Ctid.fromBinary(reader.fieldInt(0, 0), reader.fieldShort(0, 4));
      int length = reader.tupleLengthWithoutLeadingFields(t.lead());
      int bucket =
          t.keyFields().length == 0
              ? BatchRecords.KEYLESS
              : batchRecords.bucket(reader.project(t.keyFields()));
      if (length > SIZE_CHECK_FROM) {
        sizeGuard.check(
            c.pending.range.table(),
            "ctid " + ctid,
            null,
            reader.tupleWithoutLeadingFields(t.lead()),
            t.columns());
      }
      int before = completed.size();
      reader.appendTupleWithoutLeadingFields(t.lead(), batches.writer(bucket, length, completed));
      batches.appended(bucket, ctid, 0);
      rows++;
      for (int i = before; i < completed.size(); i++) {
        bytes += completed.get(i).value().length;
      }
    }
    List<SourceRecord> records = new ArrayList<>(completed.size() + 1);
    Map<String, Object> partition = c.pending.range.partition();
    Ctid start = new Ctid(c.pending.range.startPage(), 0);
    for (BatchAssembler.Completed<Integer, Ctid> b : completed) {
      Ctid covered = b.coveredUpTo() == null ? start : b.coveredUpTo();
      records.add(
          batchRecords.record(
              partition,
              SourceOffsets.rowOffset(covered, snapshotName),
              t.batch(),
              b.group(),
              RowBatch.ROWS,
              b.value(),
              b.rows()));
    }
    metrics.records.addAndGet(rows);
    metrics.bytes.addAndGet(bytes);
    if (reader.finished()) {
      if (c.rows + rows == 0) {
        records.add(snapshotRecords.emptyRange(c.pending.range, t));
      }
      records.add(finishRange(c, rows));
      return records;
    }
    c.rows += rows;
    if (!records.isEmpty()) {
      // where the range resumes moves only when the batch is handed to Connect: a failure drops
      // the rows read, and the next poll reads them again
      c.pending.after = completed.get(completed.size() - 1).coveredUpTo();
    }
    return records;
  }

  /** record.format=struct: one record per row. */
  private List<SourceRecord> pollRows(RangeCursor c) throws SQLException, IOException {
    List<SourceRecord> records = new ArrayList<>(Math.min(config.batchMaxRows(), 1024));
    long bytes = 0;
    CopyBinaryReader reader = c.reader;
    SnapshotTable t = c.table;
    // where the range resumes moves only when the batch is handed to Connect: a failure mid-batch
    // drops the batch, and the next poll must read its rows again
    Ctid last = c.pending.after;
    SourceRecord rangeDone = null;
    while (records.size() < config.batchMaxRows() && bytes < MAX_BATCH_BYTES) {
      if (!reader.next()) {
        rangeDone = finishRange(c, records.size());
        break;
      }
      Ctid ctid = Ctid.fromBinary(reader.fieldInt(0, 0), reader.fieldShort(0, 4));
      byte[] value = reader.tupleWithoutLeadingFields(t.lead());
      byte[] key = t.keyFields().length == 0 ? null : reader.project(t.keyFields());
      if (value.length > SIZE_CHECK_FROM) {
        sizeGuard.check(c.pending.range.table(), "ctid " + ctid, key, value, t.columns());
      }
      records.add(snapshotRecords.row(c.pending.range, t, ctid, key, value));
      last = ctid;
      bytes += value.length;
    }
    metrics.records.addAndGet(records.size());
    metrics.bytes.addAndGet(bytes);
    if (rangeDone != null) {
      records.add(rangeDone);
      return records;
    }
    c.pending.after = last;
    c.rows += records.size();
    return records;
  }

  private RangeCursor open(PendingRange p) throws SQLException, IOException {
    Connection c = session.beginRange();
    SnapshotTable t = tableRecords(p.range.table(), c);
    StringBuilder sql =
        new StringBuilder("COPY (SELECT ctid")
            .append(t.selectList())
            .append(" FROM ONLY ")
            .append(p.range.leaf().quoted())
            .append(" WHERE ")
            .append(p.range.whereClause(p.after))
            .append(") TO STDOUT (FORMAT binary)");
    log.debug("{}: {}", taskName, sql);
    CopyOut copy = session.copyOut(sql.toString());
    RangeCursor cursor = new RangeCursor(p, t, copy, config.batchBytes());
    cursor.reader.readHeader();
    log.info("{}: reading {}{}", taskName, p.range, p.after == null ? "" : " after " + p.after);
    return cursor;
  }

  private SnapshotTable tableRecords(TableId table, Connection c) throws SQLException {
    SnapshotTable t = tables.get(table);
    if (t == null) {
      t =
          SnapshotTable.of(
              config,
              table,
              new SourceCatalog(c).columns(table),
              textTables.contains(table),
              streamText);
      tables.put(table, t);
    }
    return t;
  }

  /**
   * Ends the range's COPY and transaction; {@code lastRows} rows of the range are in the batch
   * being returned.
   */
  private SourceRecord finishRange(RangeCursor c, long lastRows) throws SQLException {
    // the trailer was read; the driver still has CopyDone and CommandComplete to consume
    while (c.copy.isActive() && c.copy.readFromCopy() != null) {
      // nothing follows the trailer
    }
    session.commit();
    cursor = null;
    pending.remove();
    c.rows += lastRows;
    log.info("{}: finished {}: {} rows", taskName, c.pending.range, c.rows);
    metrics.rangesDone.incrementAndGet();
    metrics.pagesDone.addAndGet(c.pending.range.estimatedPages());
    return snapshotRecords.rangeDone(c.pending.range, c.rows);
  }

  /** Logs and returns the truncate of the table whose range {@code c} is about to be read. */
  private List<SourceRecord> truncate(RangeCursor c, long lsn) {
    CtidRange r = c.pending.range;
    log.info(
        "{}: {} is read again whole under snapshot {}: its target rows are removed first",
        taskName,
        r.table(),
        snapshotName);
    return snapshotRecords.truncate(r, c.table, lsn);
  }

  @Override
  public long idleMillis() {
    return 1000;
  }

  /** The range being read or next to read, and where in it, for messages. */
  @Override
  public String position() {
    PendingRange p = pending.peek();
    if (p == null) {
      return "the snapshot (every range done)";
    }
    return p.range
        + (p.after == null ? "" : " after row " + p.after)
        + " under snapshot "
        + snapshotName;
  }

  /**
   * Drops the open COPY and connection after a failure; the next poll resumes the range after the
   * last row already handed to Connect.
   */
  @Override
  public void reset() {
    cursor = null;
    session.close();
  }

  /**
   * Cancels a running COPY from another thread (the driver sends a cancel request on a new
   * connection).
   */
  @Override
  public void cancel() {
    session.cancel();
  }

  @Override
  public void close() {
    if (cursor != null) {
      try {
        if (cursor.copy.isActive()) {
          cursor.copy.cancelCopy();
        }
      } catch (SQLException e) {
        log.debug("{}: cancelling COPY: {}", taskName, e.getMessage());
      }
      cursor = null;
    }
    session.close();
  }
}
