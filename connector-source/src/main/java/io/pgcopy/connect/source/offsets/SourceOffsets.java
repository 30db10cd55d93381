package io.pgcopy.connect.source.offsets;

import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.source.config.PgCopySourceConfig.SnapshotMode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.connect.storage.OffsetStorageReader;

/**
 * Source partitions and offsets of the snapshot. A range's partition is its physical table and
 * first page; its offset is the last row handed to Kafka ({@code block}, {@code item}) or {@code
 * done}. These keys are public: tools that alter offsets use them.
 */
public final class SourceOffsets {
  /** Partition key: the physical table, quoted ("schema"."table"). */
  public static final String PARTITION_LEAF = "leaf";

  /** Partition key: the range's first page. */
  public static final String PARTITION_PAGE = "page";

  /** Offset key: block of the last row sent. */
  public static final String OFFSET_BLOCK = "block";

  /** Offset key: line pointer of the last row sent. */
  public static final String OFFSET_ITEM = "item";

  /** Offset key: true once the whole range was sent. */
  public static final String OFFSET_DONE = "done";

  /** Offset key: the name of the exported snapshot the range was read under. */
  public static final String OFFSET_SNAPSHOT = "snapshot";

  /**
   * Offset key of a finished range: the consistent LSN of the snapshot it was read under, from
   * which a slot holds every change the snapshot does not (0: a snapshot without a slot).
   */
  public static final String OFFSET_SNAPSHOT_LSN = "snapshot_lsn";

  /** Stream partition key: the replication slot. */
  public static final String PARTITION_SLOT = "slot";

  /** Stream offset key: commit LSN of the transaction of the last change sent (0: none yet). */
  public static final String OFFSET_LSN = "lsn";

  /**
   * Stream offset key: number of that transaction's changes sent (-1: the stream has started,
   * nothing sent).
   */
  public static final String OFFSET_SEQ = "seq";

  /** Partition key of the stream's table marker: always {@code "tables"}, beside the slot. */
  public static final String PARTITION_STREAMED = "streamed";

  /**
   * Offset key of the stream's table marker: the tables it streams, quoted, comma-separated,
   * sorted.
   */
  public static final String OFFSET_TABLES = "tables";

  /** Partition key of a table's post-data announcement: the table, quoted, beside the slot. */
  public static final String PARTITION_POST_DATA = "postdata";

  private SourceOffsets() {}

  /**
   * The partition of a table's post-data announcement: its offset holds the LSN of the snapshot
   * whose rows the last announcement followed.
   */
  public static Map<String, Object> postDataPartition(String slot, TableId table) {
    return partition(PARTITION_SLOT, slot, PARTITION_POST_DATA, table.quoted());
  }

  /** The partition of the sequences' states; its offset means nothing (a state is sent again). */
  public static Map<String, Object> sequencesPartition(String slot) {
    return partition(PARTITION_SLOT, slot, PARTITION_POST_DATA, "sequences");
  }

  public static Map<String, Object> sequencesOffset() {
    return Map.of(OFFSET_DONE, true);
  }

  public static Map<String, Object> postDataOffset(long snapshotLsn) {
    return Map.of(OFFSET_SNAPSHOT_LSN, snapshotLsn);
  }

  /** The snapshot LSN a post-data offset names; null for none. */
  public static Long postDataAnnounced(Map<String, Object> offset) {
    return offset != null && offset.get(OFFSET_SNAPSHOT_LSN) instanceof Number n
        ? n.longValue()
        : null;
  }

  /**
   * The partition of the stream's table marker: which tables the stream task was configured to
   * stream when it last started. A configured table missing from it was added since: its rows have
   * not been read yet.
   */
  public static Map<String, Object> streamTablesPartition(String slot) {
    return partition(PARTITION_SLOT, slot, PARTITION_STREAMED, "tables");
  }

  public static Map<String, Object> streamTablesOffset(Collection<TableId> tables) {
    StringBuilder list = new StringBuilder();
    for (TableId t : new TreeSet<>(tables)) {
      list.append(list.length() == 0 ? "" : ",").append(t.quoted());
    }
    return ordered(OFFSET_TABLES, list.toString());
  }

  /**
   * The tables of a stream table marker's offset, or null when there is none (a stream older than
   * markers).
   */
  public static Set<TableId> streamedTables(Map<String, Object> offset) {
    if (offset == null || !(offset.get(OFFSET_TABLES) instanceof String list)) {
      return null;
    }
    return new TreeSet<>(TableId.parseList(list));
  }

  public static Map<String, Object> streamPartition(String slot) {
    return Map.of(PARTITION_SLOT, slot);
  }

  public static Map<String, Object> streamOffset(long commitLsn, long seq) {
    return ordered(OFFSET_LSN, commitLsn, OFFSET_SEQ, seq);
  }

  /** Where the stream stands: the last change sent, or null when it never started. */
  public static StreamPosition streamPosition(Map<String, Object> offset) {
    if (offset == null || offset.isEmpty()) {
      return null;
    }
    Object lsn = offset.get(OFFSET_LSN);
    Object seq = offset.get(OFFSET_SEQ);
    if (!(lsn instanceof Number) || !(seq instanceof Number)) {
      throw new IllegalArgumentException(
          "stream offset "
              + offset
              + " has no numeric '"
              + OFFSET_LSN
              + "' and '"
              + OFFSET_SEQ
              + "'");
    }
    return new StreamPosition(((Number) lsn).longValue(), ((Number) seq).longValue());
  }

  /**
   * The last change sent: the {@code seq}-th change of the transaction committed at {@code
   * commitLsn}.
   */
  public record StreamPosition(long commitLsn, long seq) {
    /**
     * Whether the change {@code seq} of the transaction committed at {@code lsn} was sent already.
     */
    public boolean covers(long lsn, long changeSeq) {
      int c = Long.compareUnsigned(lsn, commitLsn);
      return c < 0 || (c == 0 && changeSeq <= seq);
    }
  }

  /** A range's partition (see {@link #partition} for its key order). */
  public static Map<String, Object> rangePartition(TableId leaf, long startPage) {
    return partition(PARTITION_LEAF, leaf.quoted(), PARTITION_PAGE, startPage);
  }

  /** The offset of a range read up to {@code ctid} under {@code snapshot}. */
  public static Map<String, Object> rowOffset(Ctid ctid, String snapshot) {
    return ordered(
        OFFSET_BLOCK, ctid.block(), OFFSET_ITEM, (long) ctid.item(), OFFSET_SNAPSHOT, snapshot);
  }

  /**
   * The offset of a range read whole under {@code snapshot}, whose changes the stream holds from
   * {@code lsn}.
   */
  public static Map<String, Object> doneOffset(String snapshot, long lsn) {
    return ordered(OFFSET_DONE, true, OFFSET_SNAPSHOT, snapshot, OFFSET_SNAPSHOT_LSN, lsn);
  }

  /**
   * A partition whose keys iterate in the order Connect gives them after a JSON round trip (a
   * {@code HashMap}'s). Connect's offset store finds an offset by the serialized bytes of its
   * partition, and its JSON converter writes a map's keys in iteration order; its REST offsets API
   * ({@code GET}, {@code PATCH}, {@code DELETE /connectors/<name>/offsets}) rebuilds partitions
   * from JSON as {@code HashMap}s, so only partitions in that order are found there. ({@code
   * Map.of} iterates in an order salted per JVM: a restarted worker would find nothing.)
   */
  private static Map<String, Object> partition(Object... keysAndValues) {
    Map<String, Object> m = new HashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      m.put((String) keysAndValues[i], keysAndValues[i + 1]);
    }
    return Collections.unmodifiableMap(m);
  }

  /**
   * A partition with its keys in the order of versions up to 0.1.0 ({@code slot}, {@code streamed},
   * {@code leaf}, {@code page}), under which their offsets were committed.
   */
  public static Map<String, Object> legacyPartition(Map<String, Object> partition) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (String key : List.of(PARTITION_SLOT, PARTITION_STREAMED, PARTITION_LEAF, PARTITION_PAGE)) {
      if (partition.containsKey(key)) {
        m.put(key, partition.get(key));
      }
    }
    partition.forEach(m::putIfAbsent);
    return Collections.unmodifiableMap(m);
  }

  /**
   * The committed offsets of {@code partitions}, keyed by them: under the partitions as written
   * now, or else under their legacy key order ({@link #legacyPartition}), so a connector upgraded
   * mid-snapshot keeps its progress.
   */
  public static Map<Map<String, Object>, Map<String, Object>> read(
      OffsetStorageReader reader, Collection<Map<String, Object>> partitions) {
    Map<Map<String, Object>, Map<String, Object>> found = new HashMap<>();
    List<Map<String, Object>> missing = new ArrayList<>();
    Map<Map<String, Object>, Map<String, Object>> current = reader.offsets(partitions);
    for (Map<String, Object> p : partitions) {
      Map<String, Object> offset = current == null ? null : current.get(p);
      if (offset != null) {
        found.put(p, offset);
      } else if (p.size() > 1) {
        missing.add(legacyPartition(p));
      }
    }
    if (!missing.isEmpty()) {
      Map<Map<String, Object>, Map<String, Object>> legacy = reader.offsets(missing);
      for (Map<String, Object> p : missing) {
        Map<String, Object> offset = legacy == null ? null : legacy.get(p);
        if (offset != null) {
          found.put(p, offset); // equal to the partition asked for: maps compare by content
        }
      }
    }
    return found;
  }

  /**
   * Why a change of offsets through Connect's REST API ({@code PATCH} or {@code DELETE
   * /connectors/<name>/offsets}) cannot be taken, or null when it can. Only resets are taken (every
   * offset null, as {@code DELETE} writes them): offsets written by hand would lose or double rows.
   * A reset of the stream's position must reset snapshot ranges too, so the connector reads the
   * tables again rather than streaming on from the slot without knowing what it already sent; and
   * only {@code snapshot.mode=initial} can read them again exactly (its slot tells a reset from a
   * first run, so keyless tables are cleared in the target first).
   */
  public static String alterRefusal(
      String slot, SnapshotMode mode, Map<Map<String, ?>, Map<String, ?>> offsets) {
    if (mode != SnapshotMode.INITIAL && !offsets.isEmpty()) {
      return "with snapshot.mode="
          + mode.configValue()
          + " a reset would "
          + (mode == SnapshotMode.NEVER
              ? "stream again from the slot's confirmed position, sending changes the target"
                  + " already holds again"
              : "read every table again on top of the rows in the target, doubling the keyless"
                  + " ones; truncate the target tables and create the connector again under a new"
                  + " name");
    }
    boolean stream = false;
    boolean ranges = false;
    for (Map.Entry<Map<String, ?>, Map<String, ?>> e : offsets.entrySet()) {
      if (e.getValue() != null) {
        return "offsets written by hand ("
            + e.getKey()
            + " -> "
            + e.getValue()
            + ") would lose or double rows: they are snapshot ranges read under one exported"
            + " snapshot and stream positions tied to the replication slot; only a reset of every"
            + " offset (DELETE) is taken, and it reads every table again";
      }
      stream |= e.getKey().equals(streamPartition(slot));
      ranges |= e.getKey().containsKey(PARTITION_LEAF);
    }
    if (stream && !ranges) {
      return "resetting the stream's position of slot "
          + slot
          + " alone would send changes the target already holds again; reset every offset"
          + " (DELETE), which reads every table again";
    }
    return null;
  }

  /** The committed offset of one partition, as {@link #read(OffsetStorageReader, Collection)}. */
  public static Map<String, Object> read(
      OffsetStorageReader reader, Map<String, Object> partition) {
    return read(reader, List.of(partition)).get(partition);
  }

  private static Map<String, Object> ordered(Object... keysAndValues) {
    Map<String, Object> m = new LinkedHashMap<>(keysAndValues.length);
    for (int i = 0; i < keysAndValues.length; i += 2) {
      m.put((String) keysAndValues[i], keysAndValues[i + 1]);
    }
    return Collections.unmodifiableMap(m);
  }

  /** Where a range stands, from its committed offset (null: never started). */
  public static RangeProgress progress(Map<String, Object> offset) {
    if (offset == null || offset.isEmpty()) {
      return RangeProgress.NOT_STARTED;
    }
    Object snapshot = offset.get(OFFSET_SNAPSHOT);
    String snapshotName = snapshot == null ? null : snapshot.toString();
    if (Boolean.TRUE.equals(offset.get(OFFSET_DONE))) {
      Object lsn = offset.get(OFFSET_SNAPSHOT_LSN);
      return new RangeProgress(
          true, null, snapshotName, lsn instanceof Number n ? n.longValue() : 0);
    }
    Object block = offset.get(OFFSET_BLOCK);
    Object item = offset.get(OFFSET_ITEM);
    if (!(block instanceof Number) || !(item instanceof Number)) {
      throw new IllegalArgumentException(
          "snapshot offset "
              + offset
              + " has no numeric '"
              + OFFSET_BLOCK
              + "' and '"
              + OFFSET_ITEM
              + "', nor '"
              + OFFSET_DONE
              + "': true");
    }
    return new RangeProgress(
        false, new Ctid(((Number) block).longValue(), ((Number) item).intValue()), snapshotName, 0);
  }

  /**
   * Not started, done, or resumed after a row; with the snapshot it was read under (null: not
   * recorded) and, when done, the LSN from which the stream holds what that snapshot does not.
   */
  public record RangeProgress(boolean done, Ctid after, String snapshot, long snapshotLsn) {
    public static final RangeProgress NOT_STARTED = new RangeProgress(false, null, null, 0);

    /** Whether any row of the range was sent. */
    public boolean started() {
      return done || after != null;
    }
  }
}
