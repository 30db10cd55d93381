package io.pgcopy.connect.source;

import static io.pgcopy.connect.source.config.PgCopySourceConfig.CONNECTION_URL_CONFIG;
import static io.pgcopy.connect.source.config.PgCopySourceConfig.CONNECTION_USER_CONFIG;
import static io.pgcopy.connect.source.config.PgCopySourceConfig.SEQUENCE_INCLUDE_LIST_CONFIG;
import static io.pgcopy.connect.source.config.PgCopySourceConfig.TABLE_INCLUDE_LIST_CONFIG;

import io.pgcopy.connect.common.ConnectionSettings;
import io.pgcopy.connect.common.Converters;
import io.pgcopy.connect.common.Validation;
import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.source.config.PgCopySourceConfig;
import io.pgcopy.connect.source.config.PgCopySourceConfig.SnapshotMode;
import io.pgcopy.connect.source.postgres.SourceCatalog;
import io.pgcopy.connect.source.records.RecordSizeGuard;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.Config;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The checks behind {@code validate()}: what users get wrong first, each reported on the field
 * concerned. Runs only when the fields it needs passed their own validators.
 */
final class SourceValidator {
  private static final Logger log = LoggerFactory.getLogger(SourceValidator.class);

  static final int MIN_SERVER_VERSION = 140000;

  private final Validation result;

  SourceValidator(Config config) {
    this.result = new Validation(config);
  }

  void validate(Map<String, String> props) {
    checkConverters(props);
    if (result.hasAnyErrors()) {
      return;
    }
    PgCopySourceConfig config = new PgCopySourceConfig(props);
    checkBatchSize(config);
    SnapshotMode mode = config.snapshotMode();
    try (Connection conn = ConnectionSettings.open(config, "pgcopy-source validate")) {
      checkServer(conn, mode);
      checkTables(conn, config.tables());
      if (!result.hasErrors(TABLE_INCLUDE_LIST_CONFIG)) {
        // not an error: Connect's validation has no warnings, so the worker log says it
        new SourceCatalog(conn)
            .textTables(config.tables())
            .forEach(
                (t, why) ->
                    log.info(
                        "validate: {} will travel as text (slower than binary; the stream runs in text mode for every table): {}",
                        t,
                        why));
      }
      if (mode != SnapshotMode.INITIAL_ONLY) {
        checkReplicaIdentity(conn, config.tables());
      }
      checkSequences(conn, config.sequences());
    } catch (SQLException e) {
      result.connectionFailure(e, config.user(), "source");
    }
  }

  /**
   * A batch must fit in one producer request, with room for its headers and a last row's overshoot.
   */
  private void checkBatchSize(PgCopySourceConfig config) {
    Integer override = config.producerMaxRequestSize();
    int limit = override == null ? RecordSizeGuard.KAFKA_DEFAULT_MAX_REQUEST_SIZE : override;
    if (!config.structRecords() && config.batchBytes() > limit - 64 * 1024) {
      result.error(
          PgCopySourceConfig.BATCH_BYTES_CONFIG,
          PgCopySourceConfig.BATCH_BYTES_CONFIG
              + "="
              + config.batchBytes()
              + " does not fit in a Kafka request of "
              + limit
              + " bytes (max.request.size"
              + (override == null ? ", Kafka's default" : "")
              + ") with room for headers: lower it, or raise "
              + "producer.override.max.request.size on this connector and message.max.bytes on the broker");
    }
  }

  /**
   * Binary records are bytes that must reach Kafka untouched; struct records need a converter of
   * Structs; both carry binary headers the pgcopy sink reads. Errors go on the converter concerned.
   */
  private void checkConverters(Map<String, String> props) {
    if (result.hasErrors(PgCopySourceConfig.RECORD_FORMAT_CONFIG)) {
      return;
    }
    if (!"struct".equals(props.get(PgCopySourceConfig.RECORD_FORMAT_CONFIG))) {
      Converters.requireByteArray(
          result,
          props,
          List.of(Converters.KEY, Converters.VALUE, Converters.HEADER),
          "record.format=binary writes raw bytes (binary COPY tuples) that must reach Kafka untouched");
      return;
    }
    Converters.requireByteArray(
        result,
        props,
        List.of(Converters.HEADER),
        "pgcopy records carry binary headers (operation, column layout, LSN) that the pgcopy sink reads");
    for (String key : List.of(Converters.KEY, Converters.VALUE)) {
      String converter = props.get(key);
      if (Converters.isRaw(converter)) {
        result.frameworkError(
            key,
            "record.format=struct needs a converter of Structs in "
                + key
                + " (org.apache.kafka.connect.json.JsonConverter, an Avro converter, ...), not "
                + converter.trim());
      }
    }
  }

  private void checkServer(Connection conn, SnapshotMode mode) throws SQLException {
    try (Statement st = conn.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT current_setting('server_version_num')::int, current_setting('wal_level'),"
                    + " (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user), current_user")) {
      rs.next();
      int version = rs.getInt(1);
      String walLevel = rs.getString(2);
      boolean replication = rs.getBoolean(3);
      String user = rs.getString(4);
      if (version < MIN_SERVER_VERSION) {
        error(
            CONNECTION_URL_CONFIG,
            "the server runs PostgreSQL "
                + version
                + "; pgcopy needs 14 or later "
                + "(TID range scans make each CTID range read only its own pages)");
      }
      if (mode != SnapshotMode.INITIAL_ONLY) {
        if (!"logical".equals(walLevel)) {
          error(
              CONNECTION_URL_CONFIG,
              "the server has wal_level="
                  + walLevel
                  + "; change data capture needs "
                  + "wal_level=logical (set it in postgresql.conf and restart), or use snapshot.mode=initial_only");
        }
        if (!replication) {
          error(
              CONNECTION_USER_CONFIG,
              "user "
                  + user
                  + " lacks the REPLICATION attribute needed to create and "
                  + "read the replication slot: ALTER ROLE "
                  + TableId.quoteIdentifier(user)
                  + " REPLICATION, "
                  + "or use snapshot.mode=initial_only");
        }
      }
    }
  }

  private void checkTables(Connection conn, List<TableId> tables) throws SQLException {
    SourceCatalog catalog = new SourceCatalog(conn);
    for (TableId table : tables) {
      try {
        catalog.extents(List.of(table));
        if (!catalog.canSelect(table)) {
          error(
              TABLE_INCLUDE_LIST_CONFIG,
              "no SELECT privilege on "
                  + table
                  + ": GRANT SELECT ON "
                  + table.quoted()
                  + " TO the connector's user");
        }
      } catch (SourceCatalog.TableProblem e) {
        error(TABLE_INCLUDE_LIST_CONFIG, e.getMessage());
      }
    }
  }

  /**
   * A published table without a usable replica identity makes UPDATE and DELETE fail on the source
   * itself: say so before the publication is created.
   */
  private void checkReplicaIdentity(Connection conn, List<TableId> tables) throws SQLException {
    for (TableId table : tables) {
      try (PreparedStatement ps =
          conn.prepareStatement(
              "SELECT c.relreplident, EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid"
                  + " AND (i.indisprimary OR i.indisreplident)) FROM pg_class c WHERE c.oid = to_regclass(?)")) {
        ps.setString(1, table.quoted());
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            continue; // reported by checkTables
          }
          String identity = rs.getString(1);
          boolean hasIndex = rs.getBoolean(2);
          if ("n".equals(identity) || ("d".equals(identity) && !hasIndex)) {
            error(
                TABLE_INCLUDE_LIST_CONFIG,
                table
                    + " has "
                    + ("n".equals(identity) ? "REPLICA IDENTITY NOTHING" : "no primary key")
                    + ": once published, UPDATE and DELETE on it fail on the source and only inserts "
                    + "could be streamed. ALTER TABLE "
                    + table.quoted()
                    + " REPLICA IDENTITY FULL (or add a primary key), "
                    + "or use snapshot.mode=initial_only");
          }
        }
      }
    }
  }

  /** Each sequence of sequence.include.list must be a sequence the user may read. */
  private void checkSequences(Connection conn, List<TableId> sequences) throws SQLException {
    try (PreparedStatement ps =
        conn.prepareStatement(
            "SELECT c.relkind, CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(c.oid, 'SELECT') END"
                + " FROM pg_class c WHERE c.oid = to_regclass(?)")) {
      for (TableId s : sequences) {
        ps.setString(1, s.quoted());
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            error(SEQUENCE_INCLUDE_LIST_CONFIG, s + " does not exist on the source");
          } else if (!"S".equals(rs.getString(1))) {
            error(SEQUENCE_INCLUDE_LIST_CONFIG, s + " is not a sequence");
          } else if (!rs.getBoolean(2)) {
            error(
                SEQUENCE_INCLUDE_LIST_CONFIG,
                "no SELECT privilege on sequence "
                    + s
                    + ": GRANT SELECT ON SEQUENCE "
                    + s.quoted()
                    + " TO the connector's user");
          }
        }
      }
    }
  }

  private void error(String key, String message) {
    result.error(key, message);
  }
}
