package io.pgcopy.connect.source.stream;

import io.pgcopy.connect.common.StructRows;
import io.pgcopy.connect.format.Operation;
import io.pgcopy.connect.format.RecordHeaders;
import java.nio.ByteBuffer;
import java.util.Map;
import org.apache.kafka.connect.header.ConnectHeaders;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * The stream's records with {@code record.format=struct}: one change per record, key and value as
 * Structs.
 */
final class StructChangeRecords {
  private StructChangeRecords() {}

  /**
   * The record of one change: headers of the record contract (operation, table, layout, commit LSN,
   * absent fields, a keyless table's change's number in its transaction); a keyless table's rows
   * and every truncate in partition 0, to keep their order.
   *
   * @param key the key's text-form tuple (a keyless table's old row), or null
   * @param value the new row's text-form tuple, or null for a delete or truncate
   */
  static SourceRecord record(
      Map<String, ?> partition,
      Map<String, ?> offset,
      StreamRelations.Relation r,
      Operation op,
      long commitLsn,
      long seq,
      byte[] key,
      byte[] value,
      int[] absent) {
    ConnectHeaders headers = new ConnectHeaders();
    headers.addBytes(RecordHeaders.OPERATION, new byte[] {op.code()});
    headers.addBytes(RecordHeaders.SCHEMA, r.records().schema());
    headers.addBytes(RecordHeaders.TABLE, r.records().name());
    headers.addBytes(RecordHeaders.COLUMNS, r.records().columns());
    headers.addBytes(RecordHeaders.LSN, ByteBuffer.allocate(8).putLong(commitLsn).array());
    if (r.keyless() && seq > 0 && seq <= Integer.MAX_VALUE) {
      headers.addBytes(RecordHeaders.SEQ, ByteBuffer.allocate(4).putInt((int) seq).array());
    }
    if (absent != null) {
      headers.addBytes(RecordHeaders.ABSENT, RecordHeaders.encodeFieldList(absent));
    }
    Integer kafkaPartition = r.keyless() || op == Operation.TRUNCATE ? 0 : null;
    StructRows structs = r.structs();
    return new SourceRecord(
        partition,
        offset,
        r.records().topic(),
        kafkaPartition,
        structs.keySchema(),
        key == null ? null : structs.key(key),
        structs.valueSchema(),
        value == null ? null : structs.value(value),
        null,
        headers);
  }
}
