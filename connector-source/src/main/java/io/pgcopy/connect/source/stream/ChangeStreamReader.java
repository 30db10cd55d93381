package io.pgcopy.connect.source.stream;

import io.pgcopy.connect.format.RecordHeaders;
import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.format.pgoutput.PgOutputDecoder;
import io.pgcopy.connect.format.pgoutput.PgOutputMessage;
import io.pgcopy.connect.source.config.PgCopySourceConfig;
import io.pgcopy.connect.source.offsets.SourceOffsets;
import io.pgcopy.connect.source.offsets.SourceOffsets.StreamPosition;
import io.pgcopy.connect.source.records.SourceReader;
import io.pgcopy.connect.source.records.SourceTaskMetrics;
import io.pgcopy.connect.source.stream.PendingTransactions.Tx;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.header.ConnectHeaders;
import org.apache.kafka.connect.source.SourceRecord;
import org.postgresql.replication.LogSequenceNumber;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The change data capture task's engine: streams pgoutput from the slot and turns each change into
 * a record of the same shape as a snapshot row. Call {@link #poll()} from one thread and {@link
 * #acknowledged(SourceRecord)} from any.
 *
 * <p><b>Positions.</b> Every change is numbered within its transaction; its source offset is the
 * transaction's commit LSN and that number. On (re)start the stream begins at the slot's confirmed
 * position and changes at or below the committed offset are skipped, so Kafka receives each change
 * once (exactly once with an exactly-once worker).
 *
 * <p><b>Confirmation.</b> An LSN is confirmed to PostgreSQL only when every record of every
 * transaction committed up to it was acknowledged by Kafka. With nothing in flight, the position of
 * the server's keepalives is confirmed, so the slot keeps moving on an idle or filtered database; a
 * heartbeat message written at {@code heartbeat.interval.ms} makes sure there is WAL to move to.
 *
 * <p><b>Streamed transactions</b> (larger than {@code logical_decoding_work_mem}) arrive in pieces
 * before they commit: the pieces are spooled to a temporary file, discarded on abort (of the
 * transaction or of a subtransaction), and turned into records only at commit. Memory stays bounded
 * by one message.
 */
public final class ChangeStreamReader implements SourceReader {
  private static final Logger log = LoggerFactory.getLogger(ChangeStreamReader.class);

  /** Transactions waiting this long for Kafka's acknowledgement are reported, once per interval. */
  private static final long STALL_WARN_MS = 120_000;

  private final PgCopySourceConfig config;
  private final String taskName;
  private final Map<String, Object> partition;

  private boolean startMarkerNeeded;

  /** Which tables this task streams, and requests to read some again. */
  private final StreamTableMarker marker;

  /** The connections while streaming; null before the first poll and after a failure. */
  private volatile StreamConnection conn;

  private PgOutputDecoder decoder;
  private final StreamRelations relations;

  private Tx current;
  private final StreamedTransactions streamed;

  private final PendingTransactions pending = new PendingTransactions();
  private long confirmed;
  private long lastConfirmProgress = System.currentTimeMillis();
  private long lastStallWarning;

  private final SourceTaskMetrics metrics;
  private final SlotUpkeep upkeep;

  /** This poll's changes as batches (record.format=binary). */
  private final ChangeBatches batches;

  /** Row messages to changes; the position of the last change sent. */
  private final ChangeEmitter emitter;

  /**
   * Whether the stream sends text forms (no binary option): for struct records, which StructRows
   * reads, and when a table travels as text (pgoutput's binary mode fails on a column whose type,
   * or an element of it, has no binary send function).
   */
  private final boolean textForms;

  /**
   * @param streamedBefore the tables of the committed table marker (null: none)
   * @param skipBefore per table, the LSN below which its changes are skipped: they are in the
   *     snapshot its rows were read under (a keyless table read again under a later snapshot)
   * @param snapshotLsns per table, the LSN of the snapshot its rows were last read under
   */
  public ChangeStreamReader(
      PgCopySourceConfig config,
      String taskName,
      Map<String, Object> committedOffset,
      Set<TableId> streamedBefore,
      Map<TableId, Long> skipBefore,
      Map<TableId, Long> snapshotLsns,
      Set<TableId> textTables,
      SourceTaskMetrics metrics) {
    this.marker = new StreamTableMarker(config, taskName, streamedBefore, snapshotLsns);
    this.textForms = config.structRecords() || !textTables.isEmpty();
    this.relations = new StreamRelations(config, taskName, skipBefore, textForms);
    this.streamed = new StreamedTransactions(taskName);
    this.metrics = metrics;
    this.upkeep = new SlotUpkeep(config, taskName, metrics);
    metrics.phase = "stream";
    this.config = config;
    this.taskName = taskName;
    this.partition = SourceOffsets.streamPartition(config.slotName());
    this.batches = new ChangeBatches(config, partition);
    StreamPosition sentUpTo = SourceOffsets.streamPosition(committedOffset);
    this.emitter =
        new ChangeEmitter(
            config, taskName, partition, relations, batches, metrics, textForms, sentUpTo);
    this.startMarkerNeeded = sentUpTo == null;
    if (sentUpTo != null) {
      log.info(
          "{}: resuming the stream after change {} of the transaction committed at {}",
          taskName,
          sentUpTo.seq(),
          lsn(sentUpTo.commitLsn()));
    }
  }

  @Override
  public long idleMillis() {
    return 20;
  }

  @Override
  public String position() {
    StreamPosition sentUpTo = emitter.sentUpTo();
    return sentUpTo == null
        ? "the start of slot " + config.slotName()
        : "change "
            + sentUpTo.seq()
            + " of the transaction committed at "
            + lsn(sentUpTo.commitLsn());
  }

  /**
   * The next records; null when nothing arrived. When it throws, nothing of this call counts as
   * sent: the changes it had turned into records are sent again after the reconnect, and no
   * transaction waits for an acknowledgement of a record Connect never got.
   */
  @Override
  public List<SourceRecord> poll() throws SQLException, IOException {
    if (marker.waiting()) {
      throw new IOException(marker.waitingFor());
    }
    StreamPosition sentBefore = emitter.sentUpTo();
    boolean markerBefore = startMarkerNeeded;
    List<SourceRecord> out = new ArrayList<>();
    emitter.startPoll();
    batches.start(sentBefore);
    try {
      fill(out);
      batches.complete(out, pending);
      return out.isEmpty() ? null : out;
    } catch (SQLException | IOException | RuntimeException e) {
      emitter.rewind(sentBefore);
      startMarkerNeeded = markerBefore;
      out.stream()
          .filter(
              r ->
                  SourceOffsets.streamTablesPartition(config.slotName())
                      .equals(r.sourcePartition()))
          .forEach(marker::unsent);
      batches.drop();
      for (SourceRecord r : out) {
        acknowledged(r); // never sent: it must not hold up the confirmation of its transaction
      }
      throw e;
    }
  }

  private void fill(List<SourceRecord> out) throws SQLException, IOException {
    if (conn == null) {
      open();
    }
    if (startMarkerNeeded) {
      out.add(startMarker());
      startMarkerNeeded = false;
    }
    SourceRecord tables = marker.markerIfNeeded();
    if (tables != null) {
      out.add(tables);
    }
    confirm();
    int limit = config.batchMaxRows();
    StreamedTransactions.Changes changes = (m, tx) -> apply(m, tx, out);
    streamed.drain(changes, () -> emitter.polled() >= limit || marker.waiting());
    while (emitter.polled() < limit && !streamed.replaying() && !marker.waiting()) {
      ByteBuffer message = conn.readPending();
      if (message == null) {
        break;
      }
      handle(message, out);
      streamed.drain(changes, () -> emitter.polled() >= limit || marker.waiting());
    }
    if (emitter.polled() == 0 && out.isEmpty()) {
      upkeep.heartbeatIfDue(conn.sql());
    }
    upkeep.metricsIfDue(conn.sql(), conn.walsenderPid());
  }

  private void open() throws SQLException {
    conn = StreamConnection.open(config, taskName, textForms);
    decoder = new PgOutputDecoder(conn.protocolVersion());
    confirmed = conn.slot().confirmedFlushLsn();
    metrics.confirmedLsn = lsn(confirmed);
    log.info(
        "{}: streaming slot {} (pgoutput protocol {}, {}) from {}",
        taskName,
        config.slotName(),
        decoder.protocolVersion(),
        textForms ? "text" : "binary",
        lsn(confirmed));
    upkeep.report(conn.slot());
  }

  private void handle(ByteBuffer message, List<SourceRecord> out) throws SQLException, IOException {
    if (decoder.inStream()) {
      byte[] raw = new byte[message.remaining()];
      message.duplicate().get(raw);
      streamed.inBlock(decoder.decode(message), raw);
      return;
    }
    PgOutputMessage m = decoder.decode(message);
    if (m instanceof PgOutputMessage.Begin b) {
      current = pending.begin(b.finalLsn());
      current.commitTimeMicros = b.commitTimeMicros();
    } else if (m instanceof PgOutputMessage.Commit c) {
      if (current == null) {
        throw new ConnectException(taskName + ": Commit without Begin at " + lsn(c.commitLsn()));
      }
      current.committed(c.endLsn());
      current = null;
    } else if (m instanceof PgOutputMessage.StreamStart s) {
      streamed.start(s.xid());
    } else if (m instanceof PgOutputMessage.StreamCommit c) {
      Tx tx = pending.begin(c.commitLsn());
      tx.commitTimeMicros = c.commitTimeMicros();
      streamed.commit(c.xid(), tx, c.endLsn(), decoder.protocolVersion());
    } else if (m instanceof PgOutputMessage.StreamAbort a) {
      streamed.abort(a.xid(), a.subXid());
    } else {
      apply(m, current, out);
    }
  }

  /**
   * Relation, Insert, Update, Delete, Truncate (and what needs no record) of transaction {@code
   * tx}.
   */
  private void apply(PgOutputMessage m, Tx tx, List<SourceRecord> out)
      throws SQLException, IOException {
    if (m instanceof PgOutputMessage.Relation r) {
      relations.described(r, conn.sql());
    } else if (m instanceof PgOutputMessage.LogicalMessage lm
        && StreamTableMarker.RESNAPSHOT_PREFIX.equals(lm.prefix())) {
      SourceRecord request = marker.request(lm.content(), tx != null ? tx.commitLsn : lm.lsn());
      if (request != null) {
        out.add(request);
      }
    } else {
      // Insert, Update, Delete, Truncate; Begin/Commit are handled by the caller, and Origin, Type
      // and other logical messages (heartbeats) carry no row
      emitter.rowChange(m, tx, out);
    }
  }

  private SourceRecord startMarker() {
    ConnectHeaders headers = new ConnectHeaders();
    headers.addBytes(RecordHeaders.CONTROL, "stream-started".getBytes(StandardCharsets.UTF_8));
    byte[] slot = config.slotName().getBytes(StandardCharsets.UTF_8);
    return new SourceRecord(
        partition,
        SourceOffsets.streamOffset(0, -1),
        config.progressTopic(),
        null,
        Schema.OPTIONAL_BYTES_SCHEMA,
        slot,
        Schema.OPTIONAL_BYTES_SCHEMA,
        slot,
        null,
        headers);
  }

  /** Kafka acknowledged a record (Connect's commitRecord). */
  @Override
  public void acknowledged(SourceRecord record) {
    if (record instanceof ChangeBatchRecord batch) {
      for (long commitLsn : batch.transactions()) {
        pending.acknowledged(commitLsn);
      }
      return;
    }
    if (!partition.equals(record.sourcePartition())) {
      return;
    }
    Object lsn = record.sourceOffset().get(SourceOffsets.OFFSET_LSN);
    if (lsn instanceof Number n) {
      pending.acknowledged(n.longValue());
    }
  }

  /**
   * Confirms to the server every transaction whose records are all acknowledged, in commit order.
   */
  private void confirm() {
    long to = pending.confirmable(confirmed);
    if (pending.isEmpty() && current == null && !streamed.replaying()) {
      // nothing in flight: everything up to what the server last reported was sent and acknowledged
      long received = conn.lastReceived();
      to = Long.compareUnsigned(received, to) > 0 ? received : to;
    }
    long now = System.currentTimeMillis();
    if (Long.compareUnsigned(to, confirmed) > 0 || pending.isEmpty()) {
      lastConfirmProgress = now;
    } else if (now - lastConfirmProgress >= STALL_WARN_MS
        && now - lastStallWarning >= STALL_WARN_MS) {
      lastStallWarning = now;
      Tx head = pending.oldest();
      log.warn(
          "{}: the slot's confirmed position has not moved for {} s: the transaction committed at {} waits for "
              + "{} records to be acknowledged (its commit {}); WAL is retained meanwhile. If this repeats, restart the "
              + "task",
          taskName,
          (now - lastConfirmProgress) / 1000,
          lsn(head.commitLsn),
          head.outstanding(),
          head.commitSeen() ? "was seen" : "was not seen yet");
    }
    if (Long.compareUnsigned(to, confirmed) > 0) {
      confirmed = to;
      metrics.confirmedLsn = lsn(to);
      conn.confirm(to);
    }
  }

  /**
   * Drops the connections after a failure, abruptly (a graceful end of the replication stream waits
   * for the server's answer, which a dead link never brings); the next poll reconnects and skips
   * what was sent.
   */
  @Override
  public void reset() {
    StreamConnection c = conn;
    conn = null;
    if (c != null) {
      c.abort();
    }
    forgetUnconfirmed();
  }

  /**
   * The server sends every unconfirmed transaction again after a reconnect: a commit seen before
   * counts only once it is seen again, with whatever records the new pass adds.
   */
  private void forgetUnconfirmed() {
    pending.reconnected();
    current = null;
    streamed.clear();
    relations.clear();
  }

  /** Cancels a blocked call from another thread. */
  @Override
  public void cancel() {
    StreamConnection c = conn;
    if (c != null) {
      c.cancel();
    }
  }

  /**
   * Ends the stream and closes both connections, telling the server. From another thread (the task
   * stopped), a poll still running fails on the closed connections instead of reconnecting.
   */
  @Override
  public void close() {
    StreamConnection c = conn;
    if (c != null) {
      c.close();
    }
    forgetUnconfirmed();
  }

  static String lsn(long lsn) {
    return LogSequenceNumber.valueOf(lsn).asString();
  }
}
