package io.pgcopy.connect.source.postdata;

import io.pgcopy.connect.common.ConnectionSettings;
import io.pgcopy.connect.format.ColumnLayout;
import io.pgcopy.connect.format.PostData;
import io.pgcopy.connect.format.PostData.Item;
import io.pgcopy.connect.format.RowBatch;
import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.source.config.PgCopySourceConfig;
import io.pgcopy.connect.source.offsets.SourceOffsets;
import io.pgcopy.connect.source.postgres.SourceCatalog;
import io.pgcopy.connect.source.records.BatchRecords;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.storage.OffsetStorageReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Announces each table's post-data ({@link PostData}) once its snapshot is in Kafka: called by the
 * task that runs after every snapshot range is done (the stream task, or with {@code
 * snapshot.mode=initial_only} the task that finishes), so in every partition the announcement
 * follows every snapshot row. A table is announced again only when its rows were read under a newer
 * snapshot (added, or read again); the offset of its announcement says which. Binary records only:
 * a struct topic is for any consumer, and they would not know the record.
 */
public final class PostDataAnnouncer {
  private static final Logger log = LoggerFactory.getLogger(PostDataAnnouncer.class);

  private final PgCopySourceConfig config;
  private final String taskName;

  /** Per table, the snapshot LSN to announce; emptied once announced. */
  private final Map<TableId, Long> due = new TreeMap<>();

  /**
   * @param snapshotLsns per table, the LSN of the snapshot its rows were last read under
   */
  public PostDataAnnouncer(
      PgCopySourceConfig config,
      String taskName,
      OffsetStorageReader offsets,
      Map<TableId, Long> snapshotLsns) {
    this.config = config;
    this.taskName = taskName;
    if (config.structRecords()) {
      return;
    }
    List<Map<String, Object>> partitions = new ArrayList<>();
    snapshotLsns
        .keySet()
        .forEach(t -> partitions.add(SourceOffsets.postDataPartition(config.slotName(), t)));
    Map<Map<String, Object>, Map<String, Object>> announced =
        SourceOffsets.read(offsets, partitions);
    snapshotLsns.forEach(
        (t, lsn) -> {
          Long before =
              SourceOffsets.postDataAnnounced(
                  announced.get(SourceOffsets.postDataPartition(config.slotName(), t)));
          if (config.tables().contains(t) && !Objects.equals(before, lsn)) {
            due.put(t, lsn);
          }
        });
  }

  /** Whether some table's post-data is still to be sent. */
  public boolean pending() {
    return !due.isEmpty();
  }

  /**
   * The records announcing every table due (one per key bucket of a keyed table, one in partition 0
   * of a keyless one), read from the source's catalog now. Afterwards nothing is due; after a
   * failure (thrown) everything still is.
   */
  public List<SourceRecord> records() throws SQLException {
    if (due.isEmpty()) {
      return List.of();
    }
    List<SourceRecord> records = new ArrayList<>();
    try (Connection conn = ConnectionSettings.open(config, "pgcopy-source post-data")) {
      SourceCatalog catalog = new SourceCatalog(conn);
      PostDataCatalog postData = new PostDataCatalog(conn);
      BatchRecords batches = new BatchRecords(config.keyBuckets());
      for (Map.Entry<TableId, Long> e : due.entrySet()) {
        TableId t = e.getKey();
        ColumnLayout layout = catalog.columns(t);
        List<Item> items = postData.items(t);
        int entries = layout.hasKey() ? config.keyBuckets() : 1;
        BatchRecords.Table table =
            new BatchRecords.Table(
                config.topicFor(t),
                t.schema().getBytes(StandardCharsets.UTF_8),
                t.table().getBytes(StandardCharsets.UTF_8),
                layout.encode(),
                false);
        for (int b = 0; b < entries; b++) {
          records.add(
              batches.record(
                  SourceOffsets.postDataPartition(config.slotName(), t),
                  SourceOffsets.postDataOffset(e.getValue()),
                  table,
                  layout.hasKey() ? b : BatchRecords.KEYLESS,
                  RowBatch.POST_DATA,
                  new PostData(e.getValue(), entries, b, items).encode(),
                  0));
        }
        log.info(
            "{}: the snapshot of {} is in Kafka: announcing its {} post-data items (indexes, constraints, defaults, "
                + "sequences) in {} records",
            taskName,
            t,
            items.size(),
            entries);
      }
    }
    due.clear();
    return records;
  }

  /** Whether a record is an announcement (its acknowledgement concerns no reader). */
  public static boolean isAnnouncement(SourceRecord record) {
    return record.sourcePartition().containsKey(SourceOffsets.PARTITION_POST_DATA);
  }
}
