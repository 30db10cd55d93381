package io.pgcopy.connect.source.stream;

import io.pgcopy.connect.common.StructRows;
import io.pgcopy.connect.format.Column;
import io.pgcopy.connect.format.ColumnLayout;
import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.format.pgoutput.PgOutputMessage;
import io.pgcopy.connect.source.config.PgCopySourceConfig;
import io.pgcopy.connect.source.postgres.ReplicationSetup;
import io.pgcopy.connect.source.postgres.SourceCatalog;
import io.pgcopy.connect.source.records.BatchRecords;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.connect.errors.ConnectException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tables the change stream describes (pgoutput Relation messages), turned into what records of
 * them need: column layout, key, topic, header bytes. The server sends a Relation again after any
 * cache invalidation (vacuum, analyze): the same description reuses what was built.
 */
final class StreamRelations {
  private static final Logger log = LoggerFactory.getLogger(StreamRelations.class);

  private final PgCopySourceConfig config;
  private final String taskName;
  private final Set<TableId> tables;
  private final Map<TableId, Long> skipBefore;
  private final boolean textForms;
  private final Map<Integer, Relation> relations = new HashMap<>();
  private final Map<Integer, PgOutputMessage.Relation> messages = new HashMap<>();
  private final Map<Long, String> typeNames = new HashMap<>();

  /**
   * A published table as the stream describes it.
   *
   * @param skip not in table.include.list: its changes are dropped
   * @param skipBefore changes committed below this LSN are in the snapshot the table was read under
   */
  record Relation(
      TableId table,
      boolean skip,
      ColumnLayout layout,
      int[] keyFields,
      boolean keyless,
      StructRows structs,
      long skipBefore,
      BatchRecords.Table records) {}

  /**
   * @param skipBefore per table, the LSN below which its changes are in its snapshot
   * @param textForms whether the stream runs in text mode (struct records, or a table travels as
   *     text): binary records of every table then carry text forms
   */
  StreamRelations(
      PgCopySourceConfig config,
      String taskName,
      Map<TableId, Long> skipBefore,
      boolean textForms) {
    this.config = config;
    this.textForms = textForms;
    this.taskName = taskName;
    this.tables = Set.copyOf(config.tables());
    this.skipBefore = Map.copyOf(skipBefore);
  }

  /** A Relation message; the catalog is read through {@code conn} when the description is new. */
  void described(PgOutputMessage.Relation m, Connection conn) throws SQLException, IOException {
    PgOutputMessage.Relation before = messages.put(m.relationId(), m);
    if (before == null || !sameDescription(before, m) || !relations.containsKey(m.relationId())) {
      relations.put(m.relationId(), relation(m, conn));
    }
  }

  /** The relation a change names; it must have been described first. */
  Relation get(int relationId) {
    Relation r = relations.get(relationId);
    if (r == null) {
      throw new ConnectException(
          taskName + ": change for relation " + relationId + " before its Relation message");
    }
    return r;
  }

  /** Forgets every description (a new connection describes them again). */
  void clear() {
    relations.clear();
    messages.clear();
  }

  private static boolean sameDescription(PgOutputMessage.Relation a, PgOutputMessage.Relation b) {
    return a.namespace().equals(b.namespace())
        && a.name().equals(b.name())
        && a.replicaIdentity() == b.replicaIdentity()
        && a.columns().equals(b.columns());
  }

  private Relation relation(PgOutputMessage.Relation m, Connection conn)
      throws SQLException, IOException {
    TableId table = new TableId(m.namespace(), m.name());
    if (!tables.contains(table)
        && config.publicationAutoCreate()
        && ReplicationSetup.listsTable(conn, config.publicationName(), table)) {
      // the connector owns the publication and has just added the table (a removed one it drops
      // from the publication): its snapshot must come before its changes, and the connector will
      // reconfigure this task; going past its changes would lose them
      throw new IOException(
          "publication "
              + config.publicationName()
              + " publishes "
              + table
              + ", which this task "
              + "does not stream: the connector added it to table.include.list and reads its rows first; this task "
              + "stops here until it is reconfigured");
    }
    if (!tables.contains(table)) {
      log.info(
          "{}: publication {} publishes {}, which is not in table.include.list: its changes are skipped",
          taskName,
          config.publicationName(),
          table);
      return new Relation(table, true, null, null, false, null, 0, null);
    }
    ColumnLayout layout = layout(table, m, conn);
    boolean keyless = !layout.hasKey();
    if (keyless && m.replicaIdentity() != 'f') {
      log.warn(
          "{}: {} has no key and REPLICA IDENTITY {}: its updates and deletes cannot be published; set REPLICA "
              + "IDENTITY FULL",
          taskName,
          table,
          m.replicaIdentity());
    }
    log.info(
        "{}: {} streams with {} columns{}",
        taskName,
        table,
        layout.size(),
        keyless ? ", keyless" : "");
    String topic = config.topicFor(table);
    return new Relation(
        table,
        false,
        layout,
        layout.keyFieldIndexes(),
        keyless,
        config.structRecords() ? new StructRows(topic, layout, config.temporalMode()) : null,
        skipBefore.getOrDefault(table, 0L),
        new BatchRecords.Table(
            topic,
            table.schema().getBytes(StandardCharsets.UTF_8),
            table.table().getBytes(StandardCharsets.UTF_8),
            layout.encode(),
            textForms && !config.structRecords()));
  }

  /**
   * The record layout of a relation: the catalog's when its columns are the ones the stream
   * describes; otherwise (the table changed again since) built from the message, with exact type
   * names from format_type and key and NOT NULL from the catalog by column name.
   */
  private ColumnLayout layout(TableId table, PgOutputMessage.Relation m, Connection conn)
      throws SQLException {
    ColumnLayout catalog = new SourceCatalog(conn).columns(table);
    List<PgOutputMessage.RelationColumn> cols = m.columns();
    boolean same = catalog.size() == cols.size();
    for (int i = 0; same && i < cols.size(); i++) {
      Column c = catalog.columns().get(i);
      same =
          c.name().equals(cols.get(i).name())
              && c.typeOid() == cols.get(i).typeOid()
              && c.typeModifier() == cols.get(i).typeModifier();
    }
    if (same) {
      return catalog;
    }
    Map<String, Column> byName = new HashMap<>();
    catalog.columns().forEach(c -> byName.put(c.name(), c));
    List<Column> columns = new ArrayList<>();
    for (PgOutputMessage.RelationColumn rc : cols) {
      Column known = byName.get(rc.name());
      columns.add(
          new Column(
              rc.name(),
              rc.typeOid(),
              rc.typeModifier(),
              typeName(rc.typeOid(), rc.typeModifier(), conn),
              known != null && known.notNull(),
              known == null ? 0 : known.keyPosition(),
              known == null ? null : known.missingValue()));
    }
    return new ColumnLayout(columns, catalog.generated());
  }

  private String typeName(int oid, int typmod, Connection conn) throws SQLException {
    long k = ((long) oid << 32) | (typmod & 0xffffffffL);
    String name = typeNames.get(k);
    if (name == null) {
      try (PreparedStatement ps = conn.prepareStatement("SELECT format_type(?::oid, ?)")) {
        ps.setLong(1, oid & 0xffffffffL);
        ps.setInt(2, typmod);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          name = rs.getString(1);
        }
      }
      typeNames.put(k, name);
    }
    return name;
  }
}
