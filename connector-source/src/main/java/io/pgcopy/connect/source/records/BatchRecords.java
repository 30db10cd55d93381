package io.pgcopy.connect.source.records;

import io.pgcopy.connect.format.RecordHeaders;
import io.pgcopy.connect.format.RowBatch;
import java.nio.ByteBuffer;
import java.util.Map;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.header.ConnectHeaders;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * Builds the binary records of both readers: a batch of one table's rows in one key bucket.
 *
 * <p><b>Key buckets.</b> A keyed table's rows are spread over {@code batch.key.buckets} buckets by
 * a hash of the key's binary form; the record key is the bucket number (int32), so Kafka's
 * partitioner puts every batch of a bucket, snapshot rows and changes alike, in one partition, in
 * order. A keyless table has no bucket: its records have a null key and go to partition 0.
 */
public final class BatchRecords {
  /** The bucket of keyless tables' rows, whose records go to partition 0. */
  public static final int KEYLESS = -1;

  private static final byte[] TEXT_FORMS = {'t'};

  private final int buckets;
  private final byte[][] keys;

  public BatchRecords(int buckets) {
    this.buckets = buckets;
    this.keys = new byte[buckets][];
    for (int b = 0; b < buckets; b++) {
      keys[b] = ByteBuffer.allocate(4).putInt(b).array();
    }
  }

  public int buckets() {
    return buckets;
  }

  /** The bucket of a key (a binary COPY tuple of the key columns). */
  public int bucket(byte[] keyTuple) {
    return Utils.toPositive(Utils.murmur2(keyTuple)) % buckets;
  }

  /**
   * What every record of one table shares.
   *
   * @param text whether the tuples hold the values' text forms ({@link RecordHeaders#TEXT})
   */
  public record Table(String topic, byte[] schema, byte[] name, byte[] columns, boolean text) {}

  /**
   * A record of a batch.
   *
   * @param kind {@link RowBatch#ROWS} or {@link RowBatch#CHANGES}
   * @param bucket the key bucket, or {@link #KEYLESS}
   */
  public SourceRecord record(
      Map<String, ?> partition,
      Map<String, ?> offset,
      Table table,
      int bucket,
      byte kind,
      byte[] value,
      int rows) {
    ConnectHeaders headers = new ConnectHeaders();
    headers.addBytes(RecordHeaders.OPERATION, new byte[] {kind});
    headers.addBytes(RecordHeaders.SCHEMA, table.schema());
    headers.addBytes(RecordHeaders.TABLE, table.name());
    headers.addBytes(RecordHeaders.COLUMNS, table.columns());
    headers.addBytes(RecordHeaders.ROWS, ByteBuffer.allocate(4).putInt(rows).array());
    if (table.text()) {
      headers.addBytes(RecordHeaders.TEXT, TEXT_FORMS);
    }
    boolean keyless = bucket == KEYLESS;
    return new SourceRecord(
        partition,
        offset,
        table.topic(),
        keyless ? 0 : null,
        Schema.OPTIONAL_BYTES_SCHEMA,
        keyless ? null : keys[bucket],
        Schema.OPTIONAL_BYTES_SCHEMA,
        value,
        null,
        headers);
  }
}
