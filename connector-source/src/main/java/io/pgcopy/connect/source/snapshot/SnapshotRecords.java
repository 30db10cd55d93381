package io.pgcopy.connect.source.snapshot;

import io.pgcopy.connect.common.StructRows;
import io.pgcopy.connect.format.Operation;
import io.pgcopy.connect.format.RecordHeaders;
import io.pgcopy.connect.format.RowBatch;
import io.pgcopy.connect.format.RowBatchWriter;
import io.pgcopy.connect.source.config.PgCopySourceConfig;
import io.pgcopy.connect.source.offsets.Ctid;
import io.pgcopy.connect.source.offsets.CtidRange;
import io.pgcopy.connect.source.offsets.SourceOffsets;
import io.pgcopy.connect.source.records.BatchRecords;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.header.ConnectHeaders;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * The records of a snapshot task but its binary row batches ({@link BatchRecords}): a row with
 * {@code record.format=struct}, the layout of an empty range, the end of a range, and the truncate
 * that clears a keyless table's target rows before the table is read again whole. Pure: builds
 * records.
 */
final class SnapshotRecords {
  private static final byte[] READ = {Operation.READ.code()};

  private final String progressTopic;
  private final BatchRecords batchRecords;
  private final String snapshotName;
  private final long snapshotLsn;

  SnapshotRecords(
      PgCopySourceConfig config, BatchRecords batchRecords, String snapshotName, long snapshotLsn) {
    this.progressTopic = config.progressTopic();
    this.batchRecords = batchRecords;
    this.snapshotName = snapshotName;
    this.snapshotLsn = snapshotLsn;
  }

  /**
   * One row with {@code record.format=struct}: key and value as Structs, offset after its ctid; a
   * keyless table's rows all go to partition 0, where its changes follow them in order.
   *
   * @param key the key's tuple, or null for a keyless table
   */
  SourceRecord row(CtidRange r, SnapshotTable t, Ctid ctid, byte[] key, byte[] value) {
    ConnectHeaders headers = new ConnectHeaders();
    headers.addBytes(RecordHeaders.OPERATION, READ);
    headers.addBytes(RecordHeaders.SCHEMA, t.schema());
    headers.addBytes(RecordHeaders.TABLE, t.table());
    headers.addBytes(RecordHeaders.COLUMNS, t.columns());
    StructRows structs = t.structs();
    return new SourceRecord(
        r.partition(),
        SourceOffsets.rowOffset(ctid, snapshotName),
        t.topic(),
        key == null ? 0 : null,
        structs.keySchema(),
        key == null ? null : structs.key(key),
        structs.valueSchema(),
        structs.value(value),
        null,
        headers);
  }

  /**
   * A binary record without rows for range {@code r} that had none: it still carries the table's
   * layout, so the sink can create the table.
   */
  SourceRecord emptyRange(CtidRange r, SnapshotTable t) {
    return batchRecords.record(
        r.partition(),
        SourceOffsets.rowOffset(new Ctid(r.startPage(), 0), snapshotName),
        t.batch(),
        t.keyFields().length == 0 ? BatchRecords.KEYLESS : 0,
        RowBatch.ROWS,
        new byte[0],
        0);
  }

  /**
   * The end of range {@code r}, {@code rows} rows read: a control record to the progress topic
   * (consumers skip it), whose offset marks the range done under this snapshot.
   */
  SourceRecord rangeDone(CtidRange r, long rows) {
    ConnectHeaders headers = new ConnectHeaders();
    headers.addBytes(RecordHeaders.CONTROL, "snapshot-range-done".getBytes(StandardCharsets.UTF_8));
    byte[] key = (r.leaf().quoted() + "@" + r.startPage()).getBytes(StandardCharsets.UTF_8);
    byte[] value =
        ("{\"table\":\""
                + r.table().quoted().replace("\\", "\\\\").replace("\"", "\\\"")
                + "\",\"rows\":"
                + rows
                + "}")
            .getBytes(StandardCharsets.UTF_8);
    return new SourceRecord(
        r.partition(),
        SourceOffsets.doneOffset(snapshotName, snapshotLsn),
        progressTopic,
        null,
        Schema.OPTIONAL_BYTES_SCHEMA,
        key,
        Schema.OPTIONAL_BYTES_SCHEMA,
        value,
        null,
        headers);
  }

  /**
   * The truncate that removes a table's rows from the target before it is read again whole, ahead
   * of every row of the table that follows: a keyless table's in partition 0; a keyed table's as
   * one entry in every key bucket, which the sink applies once all have arrived (as the stream's
   * truncates), identified by {@code lsn} and the table. Their offset marks the table's reading
   * under this snapshot as begun, so a restarted task does not truncate it again.
   *
   * @param lsn a WAL position taken for this truncate: no two truncates of one table share it
   *     unless nothing was committed between them
   */
  List<SourceRecord> truncate(CtidRange r, SnapshotTable t, long lsn) {
    Ctid before = new Ctid(r.startPage(), 0);
    if (t.structs() == null && t.keyFields().length > 0) {
      int buckets = batchRecords.buckets();
      List<SourceRecord> entries = new ArrayList<>(buckets);
      for (int b = 0; b < buckets; b++) {
        RowBatchWriter w = new RowBatchWriter(32);
        w.appendTruncate(lsn, 0, buckets);
        entries.add(
            batchRecords.record(
                r.partition(),
                SourceOffsets.rowOffset(before, snapshotName),
                t.batch(),
                b,
                RowBatch.CHANGES,
                w.toByteArray(),
                1));
      }
      return entries;
    }
    if (t.structs() == null) {
      RowBatchWriter w = new RowBatchWriter(32);
      w.appendTruncate(snapshotLsn, 0, 1);
      return List.of(
          batchRecords.record(
              r.partition(),
              SourceOffsets.rowOffset(before, snapshotName),
              t.batch(),
              BatchRecords.KEYLESS,
              RowBatch.CHANGES,
              w.toByteArray(),
              1));
    }
    ConnectHeaders headers = new ConnectHeaders();
    headers.addBytes(RecordHeaders.OPERATION, new byte[] {Operation.TRUNCATE.code()});
    headers.addBytes(RecordHeaders.SCHEMA, t.schema());
    headers.addBytes(RecordHeaders.TABLE, t.table());
    headers.addBytes(RecordHeaders.COLUMNS, t.columns());
    return List.of(
        new SourceRecord(
            r.partition(),
            SourceOffsets.rowOffset(before, snapshotName),
            t.topic(),
            0,
            t.structs().keySchema(),
            null,
            t.structs().valueSchema(),
            null,
            null,
            headers));
  }
}
