package io.pgcopy.connect.source.postgres;

import io.pgcopy.connect.format.TableId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.kafka.connect.errors.ConnectException;
import org.postgresql.replication.LogSequenceNumber;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The publication and the logical replication slot change data capture reads from. */
public final class ReplicationSetup {
  private static final Logger log = LoggerFactory.getLogger(ReplicationSetup.class);

  private ReplicationSetup() {}

  /** A row of pg_replication_slots. */
  public record SlotState(
      String plugin,
      String database,
      String walStatus,
      long confirmedFlushLsn,
      long retainedWalBytes,
      long unconfirmedWalBytes,
      int activePid) {
    boolean lost() {
      return "lost".equals(walStatus);
    }
  }

  /** The slot's state, or null when it does not exist. */
  public static SlotState slot(Connection conn, String slot) throws SQLException {
    try (PreparedStatement ps =
        conn.prepareStatement(
            "SELECT plugin, database, wal_status, confirmed_flush_lsn::text,"
                + " coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0)::bigint,"
                + " coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn), 0)::bigint,"
                + " coalesce(active_pid, 0)"
                + " FROM pg_replication_slots WHERE slot_name = ?")) {
      ps.setString(1, slot);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        String flushed = rs.getString(4);
        return new SlotState(
            rs.getString(1),
            rs.getString(2),
            rs.getString(3),
            flushed == null ? 0 : LogSequenceNumber.valueOf(flushed).asLong(),
            rs.getLong(5),
            rs.getLong(6),
            rs.getInt(7));
      }
    }
  }

  /** Checks that an existing slot can be streamed from; throws with what to do otherwise. */
  public static void requireUsable(SlotState state, String slot, String database) {
    if (state == null) {
      throw new ConnectException(
          "replication slot \""
              + slot
              + "\" does not exist (dropped by hand?). Changes made "
              + "since it was lost cannot be recovered from it: delete this connector, truncate its target tables "
              + "and create it again under a new name (its offsets stay with the old one) to take a new snapshot");
    }
    if (state.lost()) {
      throw new ConnectException(
          "replication slot \""
              + slot
              + "\" was invalidated by the server (wal_status=lost, "
              + "max_slot_wal_keep_size exceeded): the WAL it needed is gone. Drop the slot, delete this connector, "
              + "truncate its target tables and create it again under a new name (its offsets stay with the old "
              + "one) to take a new snapshot");
    }
    if (!"pgoutput".equals(state.plugin())) {
      throw new ConnectException(
          "replication slot \""
              + slot
              + "\" uses output plugin "
              + state.plugin()
              + ", not pgoutput: choose another slot.name");
    }
    if (database != null && !database.equals(state.database())) {
      throw new ConnectException(
          "replication slot \""
              + slot
              + "\" belongs to database "
              + state.database()
              + ", not "
              + database
              + ": choose another slot.name");
    }
  }

  /**
   * Makes sure the publication exists and publishes every table (changes of partitions published as
   * their root table). Creates it, or adds missing tables, when allowed.
   */
  public static void ensurePublication(
      Connection conn, String publication, List<TableId> tables, boolean autoCreate)
      throws SQLException {
    String quotedPub = TableId.quoteIdentifier(publication);
    boolean exists;
    try (PreparedStatement ps =
        conn.prepareStatement("SELECT 1 FROM pg_publication WHERE pubname = ?")) {
      ps.setString(1, publication);
      try (ResultSet rs = ps.executeQuery()) {
        exists = rs.next();
      }
    }
    if (!exists) {
      if (!autoCreate) {
        throw new ConnectException(
            "publication \""
                + publication
                + "\" does not exist: create it (CREATE PUBLICATION "
                + quotedPub
                + " FOR TABLE ... WITH (publish_via_partition_root = true)) or set publication.autocreate=true");
      }
      try (Statement st = conn.createStatement()) {
        st.execute(
            "CREATE PUBLICATION "
                + quotedPub
                + " FOR TABLE "
                + tableList(tables)
                + " WITH (publish_via_partition_root = true)");
      }
      log.info("Created publication {} for {}", publication, tables);
      return;
    }
    Set<TableId> published = new HashSet<>();
    try (PreparedStatement ps =
        conn.prepareStatement(
            "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = ?")) {
      ps.setString(1, publication);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          published.add(new TableId(rs.getString(1), rs.getString(2)));
        }
      }
    }
    List<TableId> missing = new ArrayList<>();
    for (TableId t : tables) {
      if (!published.contains(t)) {
        missing.add(t);
      }
    }
    if (autoCreate) {
      dropRemoved(conn, publication, published, tables);
    }
    if (missing.isEmpty()) {
      return;
    }
    if (!autoCreate) {
      throw new ConnectException(
          "publication \""
              + publication
              + "\" does not publish "
              + missing
              + ": ALTER PUBLICATION "
              + quotedPub
              + " ADD TABLE "
              + tableList(missing)
              + ", or set publication.autocreate=true");
    }
    try (Statement st = conn.createStatement()) {
      st.execute("ALTER PUBLICATION " + quotedPub + " ADD TABLE " + tableList(missing));
    }
    log.info("Added {} to publication {}", missing, publication);
  }

  /**
   * Takes the tables no longer configured out of a publication the connector owns ({@code
   * publication.autocreate=true}), so the server stops decoding their changes for it. A publication
   * FOR ALL TABLES (or FOR TABLES IN SCHEMA) is left as it is.
   */
  private static void dropRemoved(
      Connection conn, String publication, Set<TableId> published, List<TableId> tables)
      throws SQLException {
    List<TableId> removed = new ArrayList<>(published);
    removed.removeAll(tables);
    if (removed.isEmpty()) {
      return;
    }
    try (PreparedStatement ps =
        conn.prepareStatement(
            "SELECT p.puballtables OR EXISTS (SELECT 1 FROM pg_publication_namespace n WHERE n.pnpubid = p.oid)"
                + " FROM pg_publication p WHERE p.pubname = ?")) {
      ps.setString(1, publication);
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next() && rs.getBoolean(1)) {
          return;
        }
      }
    }
    try (Statement st = conn.createStatement()) {
      st.execute(
          "ALTER PUBLICATION "
              + TableId.quoteIdentifier(publication)
              + " DROP TABLE "
              + tableList(removed));
    }
    log.info(
        "Took {} out of publication {}: no longer in table.include.list", removed, publication);
  }

  /**
   * Whether the publication lists the table by name now (FOR TABLE, as the connector creates it); a
   * table published through FOR ALL TABLES or FOR TABLES IN SCHEMA is not listed.
   */
  public static boolean listsTable(Connection conn, String publication, TableId table)
      throws SQLException {
    try (PreparedStatement ps =
        conn.prepareStatement(
            "SELECT 1 FROM pg_publication_rel r JOIN pg_publication p ON p.oid = r.prpubid"
                + " WHERE p.pubname = ? AND r.prrelid = to_regclass(?)")) {
      ps.setString(1, publication);
      ps.setString(2, table.quoted());
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  private static String tableList(List<TableId> tables) {
    StringBuilder sb = new StringBuilder();
    for (TableId t : tables) {
      sb.append(sb.length() == 0 ? "" : ", ").append(t.quoted());
    }
    return sb.toString();
  }

  /**
   * Creates the slot on a replication connection. With {@code exportSnapshot} the result names the
   * snapshot the slot starts from, valid while the connection stays open and idle.
   */
  public static CreatedSlot createSlot(Connection replication, String slot, boolean exportSnapshot)
      throws SQLException {
    return create(replication, slot, false, exportSnapshot);
  }

  /** Creates a temporary slot (gone with the connection) that exports its snapshot. */
  public static CreatedSlot createTemporarySlot(Connection replication, String slot)
      throws SQLException {
    return create(replication, slot, true, true);
  }

  private static CreatedSlot create(
      Connection replication, String slot, boolean temporary, boolean exportSnapshot)
      throws SQLException {
    try (Statement st = replication.createStatement();
        ResultSet rs =
            st.executeQuery(
                "CREATE_REPLICATION_SLOT "
                    + TableId.quoteIdentifier(slot)
                    + (temporary ? " TEMPORARY" : "")
                    + " LOGICAL pgoutput "
                    + (exportSnapshot ? "EXPORT_SNAPSHOT" : "NOEXPORT_SNAPSHOT"))) {
      rs.next();
      CreatedSlot created =
          new CreatedSlot(
              LogSequenceNumber.valueOf(rs.getString("consistent_point")).asLong(),
              rs.getString("snapshot_name"));
      log.info(
          "Created {}replication slot {} at consistent point {}{}",
          temporary ? "temporary " : "",
          slot,
          LogSequenceNumber.valueOf(created.consistentLsn()).asString(),
          created.snapshotName() == null ? "" : " with snapshot " + created.snapshotName());
      return created;
    }
  }

  public record CreatedSlot(long consistentLsn, String snapshotName) {}
}
