package io.pgcopy.connect.source.postdata;

import io.pgcopy.connect.common.ConnectionSettings;
import io.pgcopy.connect.format.ColumnLayout;
import io.pgcopy.connect.format.PostData;
import io.pgcopy.connect.format.PostData.Item;
import io.pgcopy.connect.format.PostData.Kind;
import io.pgcopy.connect.format.RecordHeaders;
import io.pgcopy.connect.format.RowBatch;
import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.source.config.PgCopySourceConfig;
import io.pgcopy.connect.source.offsets.SourceOffsets;
import io.pgcopy.connect.source.records.SourceTaskMetrics;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.header.ConnectHeaders;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the target's sequences ahead while the stream runs: sequences are not transactional and
 * pgoutput does not carry them (before PostgreSQL 19), so every {@code heartbeat.interval.ms} the
 * stream task reads the state of the copied tables' own sequences (serial, identity) and of those
 * in {@code sequence.include.list}, and sends every one to the sequences topic, one record per
 * sequence keyed by its name ({@link RowBatch#SEQUENCES}, a {@link PostData} value of one {@link
 * Kind#SEQUENCE} item). Every one, not only those that moved: a table's own sequence may not exist
 * in the target yet when its state arrives (its post-data is not built), and the next state sets
 * it. The sink only ever moves a sequence forward, so a state sent twice, or late, changes nothing.
 * Has its own connection. Not thread-safe.
 */
public final class SequenceWatch {
  private static final Logger log = LoggerFactory.getLogger(SequenceWatch.class);

  private static final byte[] NO_COLUMNS = new ColumnLayout(List.of()).encode();

  private static final String OWNED =
      "SELECT sn.nspname, sc.relname, a.attname, "
          + PostDataCatalog.SEQUENCE_OPTIONS
          + " FROM pg_depend d JOIN pg_class sc ON sc.oid = d.objid AND sc.relkind = 'S'"
          + " JOIN pg_namespace sn ON sn.oid = sc.relnamespace JOIN pg_sequence q ON q.seqrelid = sc.oid"
          + " JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid"
          + " WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass"
          + "   AND d.refobjid = ?::regclass AND d.deptype IN ('a', 'i')";

  private static final String LISTED =
      "SELECT sn.nspname, sc.relname, NULL, "
          + PostDataCatalog.SEQUENCE_OPTIONS
          + " FROM pg_class sc JOIN pg_namespace sn ON sn.oid = sc.relnamespace"
          + " JOIN pg_sequence q ON q.seqrelid = sc.oid WHERE sc.oid = to_regclass(?)";

  private final PgCopySourceConfig config;
  private final String taskName;
  private final SourceTaskMetrics metrics;

  /** The sequences watched, with their item (state left null); found at the first check. */
  private Map<TableId, Item> sequences;

  private Connection conn;
  private long nextCheckAt;

  public SequenceWatch(PgCopySourceConfig config, String taskName, SourceTaskMetrics metrics) {
    this.config = config;
    this.taskName = taskName;
    this.metrics = metrics;
  }

  /** Whether a check is due ({@code heartbeat.interval.ms} since the last; at once at first). */
  public boolean due() {
    return config.heartbeatIntervalMs() > 0 && System.currentTimeMillis() >= nextCheckAt;
  }

  /** Reads every watched sequence; returns a record of each one's state. */
  public List<SourceRecord> check() throws SQLException {
    nextCheckAt = System.currentTimeMillis() + config.heartbeatIntervalMs();
    if (conn == null || conn.isClosed()) {
      conn = ConnectionSettings.open(config, "pgcopy-source sequences");
      conn.setAutoCommit(true);
    }
    if (sequences == null) {
      sequences = find();
      log.info(
          "{}: keeping {} sequences ahead in the target, read every {} ms: {}",
          taskName,
          sequences.size(),
          config.heartbeatIntervalMs(),
          sequences.keySet());
    }
    List<SourceRecord> records = new ArrayList<>();
    for (Map.Entry<TableId, Item> e : sequences.entrySet()) {
      String state = state(e.getKey());
      if (state != null) {
        Item i = e.getValue();
        records.add(
            record(
                e.getKey(), new Item(Kind.SEQUENCE, i.name(), i.column(), i.definition(), state)));
      }
    }
    metrics.sequencesCheckedEpochMillis = System.currentTimeMillis();
    return records;
  }

  public void close() {
    if (conn != null) {
      try {
        conn.close();
      } catch (SQLException e) {
        log.debug("{}: closing the sequences connection: {}", taskName, e.getMessage());
      }
      conn = null;
    }
  }

  private Map<TableId, Item> find() throws SQLException {
    Map<TableId, Item> found = new LinkedHashMap<>();
    try (PreparedStatement ps = conn.prepareStatement(OWNED)) {
      for (TableId t : config.tables()) {
        ps.setString(1, t.quoted());
        collect(ps, found);
      }
    }
    try (PreparedStatement ps = conn.prepareStatement(LISTED)) {
      for (TableId s : config.sequences()) {
        ps.setString(1, s.quoted());
        if (!collect(ps, found)) {
          log.warn(
              "{}: {} of sequence.include.list is not a sequence on the source: not kept ahead",
              taskName,
              s);
        }
      }
    }
    return found;
  }

  private static boolean collect(PreparedStatement ps, Map<TableId, Item> found)
      throws SQLException {
    boolean any = false;
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        any = true;
        found.put(
            new TableId(rs.getString(1), rs.getString(2)),
            new Item(
                Kind.SEQUENCE,
                rs.getString(2),
                rs.getString(3),
                PostDataCatalog.options(rs, 4),
                null));
      }
    }
    return any;
  }

  /** {@code "<last_value> t|f"}, or null when the sequence is gone or may not be read. */
  private String state(TableId sequence) throws SQLException {
    try (Statement st = conn.createStatement();
        ResultSet rs = st.executeQuery("SELECT last_value, is_called FROM " + sequence.quoted())) {
      rs.next();
      return rs.getLong(1) + (rs.getBoolean(2) ? " t" : " f");
    } catch (SQLException e) {
      String state = String.valueOf(e.getSQLState());
      if (state.equals("42P01") || state.equals("42501")) {
        log.warn(
            "{}: reading sequence {} failed, it is not kept ahead: {}{}",
            taskName,
            sequence,
            e.getMessage(),
            state.equals("42501") ? " (GRANT SELECT ON SEQUENCE " + sequence.quoted() + ")" : "");
        return null;
      }
      throw e;
    }
  }

  private SourceRecord record(TableId sequence, Item item) {
    ConnectHeaders headers = new ConnectHeaders();
    headers.addBytes(RecordHeaders.OPERATION, new byte[] {RowBatch.SEQUENCES});
    headers.addBytes(RecordHeaders.SCHEMA, sequence.schema().getBytes(StandardCharsets.UTF_8));
    headers.addBytes(RecordHeaders.TABLE, sequence.table().getBytes(StandardCharsets.UTF_8));
    headers.addBytes(RecordHeaders.COLUMNS, NO_COLUMNS);
    return new SourceRecord(
        SourceOffsets.sequencesPartition(config.slotName()),
        SourceOffsets.sequencesOffset(),
        config.sequenceTopic(),
        null,
        Schema.OPTIONAL_BYTES_SCHEMA,
        sequence.quoted().getBytes(StandardCharsets.UTF_8),
        Schema.OPTIONAL_BYTES_SCHEMA,
        new PostData(0, 1, 0, List.of(item)).encode(),
        null,
        headers);
  }
}
