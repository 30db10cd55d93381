package io.pgcopy.connect.source.stream;

import io.pgcopy.connect.format.RecordHeaders;
import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.source.config.PgCopySourceConfig;
import io.pgcopy.connect.source.offsets.SourceOffsets;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.header.ConnectHeaders;
import org.apache.kafka.connect.source.SourceRecord;
import org.postgresql.replication.LogSequenceNumber;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stream task's side of changing what is copied: the table marker (a control record whose
 * offset says which tables the task streams; the connector compares it with its list to find added
 * tables) and re-snapshot requests ({@code pgcopy.snapshot} logical messages), after which the task
 * waits for the connector to read the tables again. Not thread-safe.
 */
final class StreamTableMarker {
  private static final Logger log = LoggerFactory.getLogger(StreamTableMarker.class);

  /** The prefix of a logical message asking to read tables again; its content lists them. */
  static final String RESNAPSHOT_PREFIX = "pgcopy.snapshot";

  private final PgCopySourceConfig config;
  private final String taskName;

  /** Per table, the LSN of the snapshot its rows were read under: a request below it is served. */
  private final Map<TableId, Long> snapshotLsns;

  /** Whether the marker must be written (the committed one lists other tables). */
  private boolean needed;

  /** Tables a request asked to read again: the task sends nothing more until reconfigured. */
  private Set<TableId> requested;

  private SourceRecord requestMarker;

  /**
   * @param streamedBefore the tables of the committed marker (null: none)
   * @param snapshotLsns per table, the LSN of the snapshot its rows were last read under
   */
  StreamTableMarker(
      PgCopySourceConfig config,
      String taskName,
      Set<TableId> streamedBefore,
      Map<TableId, Long> snapshotLsns) {
    this.config = config;
    this.taskName = taskName;
    this.snapshotLsns = Map.copyOf(snapshotLsns);
    this.needed = !new TreeSet<>(config.tables()).equals(streamedBefore);
  }

  /**
   * The marker listing this task's tables, when the committed one lists others; else null. Call
   * once per poll.
   */
  SourceRecord markerIfNeeded() {
    if (!needed) {
      return null;
    }
    needed = false;
    return marker(config.tables());
  }

  /**
   * A marker this object made was never handed to Connect (the poll failed): it is made again, and
   * a request it carried is forgotten (the stream reads its message again after reconnecting).
   */
  void unsent(SourceRecord marker) {
    if (marker == requestMarker) {
      requested = null;
      requestMarker = null;
    } else {
      needed = true;
    }
  }

  /** Whether a request is pending: the task must read nothing more. */
  boolean waiting() {
    return requested != null;
  }

  /** Why the task waits, for the exception its polls end with meanwhile. */
  String waitingFor() {
    return "a pgcopy.snapshot message asked to read "
        + requested
        + " again: this task waits for the connector to "
        + "read them and reconfigure it";
  }

  /**
   * A request to read tables again ({@code SELECT pg_logical_emit_message(true, 'pgcopy.snapshot',
   * 'schema.table,...')}), committed at {@code at}: unless their rows were read under a snapshot
   * taken after it, returns a marker without them, which tells the connector to read them under a
   * new snapshot, and the task waits from here; the stream resumes from this point once they are
   * read. Returns null when there is nothing to do.
   */
  SourceRecord request(byte[] content, long at) {
    String text = new String(content, StandardCharsets.UTF_8);
    Set<TableId> tables = new TreeSet<>();
    try {
      for (TableId t : TableId.parseList(text)) {
        if (!config.tables().contains(t)) {
          log.warn(
              "{}: a pgcopy.snapshot message at {} names {}, which is not in table.include.list: ignored",
              taskName,
              lsn(at),
              t);
        } else if (Long.compareUnsigned(snapshotLsns.getOrDefault(t, 0L), at) < 0) {
          tables.add(t);
        }
      }
    } catch (IllegalArgumentException e) {
      log.warn(
          "{}: a pgcopy.snapshot message at {} is not a list of tables ('{}'): {}; ignored",
          taskName,
          lsn(at),
          text,
          e.getMessage());
      return null;
    }
    if (tables.isEmpty()) {
      return null; // read since, or nothing this connector copies
    }
    log.info(
        "{}: a pgcopy.snapshot message at {} asks to read {} again: handing over to the connector",
        taskName,
        lsn(at),
        tables);
    Set<TableId> streaming = new TreeSet<>(config.tables());
    streaming.removeAll(tables);
    requested = tables;
    requestMarker = marker(streaming);
    return requestMarker;
  }

  private SourceRecord marker(Collection<TableId> tables) {
    ConnectHeaders headers = new ConnectHeaders();
    headers.addBytes(RecordHeaders.CONTROL, "stream-tables".getBytes(StandardCharsets.UTF_8));
    byte[] slot = config.slotName().getBytes(StandardCharsets.UTF_8);
    Map<String, Object> offset = SourceOffsets.streamTablesOffset(tables);
    log.info("{}: streaming {}", taskName, offset.get(SourceOffsets.OFFSET_TABLES));
    return new SourceRecord(
        SourceOffsets.streamTablesPartition(config.slotName()),
        offset,
        config.progressTopic(),
        null,
        Schema.OPTIONAL_BYTES_SCHEMA,
        slot,
        Schema.OPTIONAL_BYTES_SCHEMA,
        offset.get(SourceOffsets.OFFSET_TABLES).toString().getBytes(StandardCharsets.UTF_8),
        null,
        headers);
  }

  private static String lsn(long lsn) {
    return LogSequenceNumber.valueOf(lsn).asString();
  }
}
