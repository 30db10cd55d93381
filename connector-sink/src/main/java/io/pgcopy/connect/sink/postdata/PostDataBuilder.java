package io.pgcopy.connect.sink.postdata;

import io.pgcopy.connect.format.PostData.Item;
import io.pgcopy.connect.format.PostData.Kind;
import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.sink.target.PrimaryKeys;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds a table's post-data in the target, each step in its own committed transaction, and only
 * what the target lacks (by name; a primary key by existence), so running it again, after a crash
 * in the middle or on a target made by {@code pg_dump --section=pre-data}, builds the rest and
 * nothing twice. The order is pg_restore's: identity and sequences, defaults, sequence values, the
 * primary key, constraints, indexes, the replica identity.
 */
final class PostDataBuilder {
  private static final Logger log = LoggerFactory.getLogger(PostDataBuilder.class);

  /** One step failed: the item and the table, for the task's message. */
  static final class StepFailed extends Exception {
    StepFailed(String step, SQLException cause) {
      super(step, cause);
    }

    SQLException sqlCause() {
      return (SQLException) getCause();
    }
  }

  private final Connection conn;
  private final TableId target;

  /**
   * @param conn the task's connection, autocommit off, no transaction open
   */
  PostDataBuilder(Connection conn, TableId target) {
    this.conn = conn;
    this.target = target;
  }

  /** Builds what the target lacks of {@code items}; returns how many statements it ran. */
  int build(List<Item> items) throws StepFailed {
    int ran = 0;
    for (Item i : items) {
      if (i.kind() == Kind.IDENTITY) {
        ran += step("identity column " + i.column(), () -> identity(i));
      }
    }
    for (Item i : items) {
      if (i.kind() == Kind.SEQUENCE) {
        ran += step("sequence " + i.name(), () -> sequence(i, items));
      }
    }
    for (Item i : items) {
      if (i.kind() == Kind.DEFAULT) {
        ran += step("the default of column " + i.column(), () -> columnDefault(i));
      }
    }
    for (Item i : items) {
      if (i.kind() == Kind.SEQUENCE && i.value() != null) {
        ran += step("the value of sequence " + i.name(), () -> sequenceValue(i, items));
      }
    }
    for (Item i : items) {
      if (i.kind() == Kind.PRIMARY_KEY) {
        ran += step("primary key " + i.name(), () -> primaryKey(i));
      }
    }
    for (Item i : items) {
      if (i.kind() == Kind.CONSTRAINT) {
        ran += step("constraint " + i.name() + " " + i.definition(), () -> constraint(i));
      }
    }
    for (Item i : items) {
      if (i.kind() == Kind.INDEX) {
        ran += step("index " + i.name() + " " + i.definition(), () -> index(i));
      }
    }
    for (Item i : items) {
      if (i.kind() == Kind.REPLICA_IDENTITY) {
        ran += step("replica identity " + i.definition(), () -> replicaIdentity(i));
      }
    }
    return ran;
  }

  private interface Step {
    /** Runs what is lacking in the open transaction; returns how many statements that took. */
    int run() throws SQLException;
  }

  private int step(String what, Step step) throws StepFailed {
    try {
      int ran = step.run();
      conn.commit();
      return ran;
    } catch (SQLException e) {
      try {
        conn.rollback();
      } catch (SQLException ignored) {
        // the connection is gone: the task drops it
      }
      throw new StepFailed(what, e);
    }
  }

  private int identity(Item i) throws SQLException {
    String identity = attribute(i.column(), "attidentity");
    if (identity == null || !identity.isEmpty()) {
      return 0; // the column is missing (nothing to make identity) or already identity
    }
    String column = TableId.quoteIdentifier(i.column());
    execute(
        "ALTER TABLE "
            + target.quoted()
            + " ALTER COLUMN "
            + column
            + " SET NOT NULL, ALTER COLUMN "
            + column
            + " ADD GENERATED "
            + i.definition()
            + " AS IDENTITY (SEQUENCE NAME "
            + sequenceName(i)
            + " "
            + withoutType(i.value())
            + ")");
    return 1;
  }

  /** Sequence options without their leading {@code AS <type>}: an identity takes its column's. */
  static String withoutType(String options) {
    int at = options.indexOf(" INCREMENT BY ");
    return options.startsWith("AS ") && at > 0 ? options.substring(at + 1) : options;
  }

  /** A serial's sequence the target lacks: created and owned by its column, as pg_dump does. */
  private int sequence(Item i, List<Item> items) throws SQLException {
    if (isIdentity(i, items) || exists(sequenceName(i))) {
      return 0;
    }
    execute("CREATE SEQUENCE IF NOT EXISTS " + sequenceName(i) + " " + i.definition());
    if (attribute(i.column(), "attname") != null) {
      execute(
          "ALTER SEQUENCE "
              + sequenceName(i)
              + " OWNED BY "
              + target.quoted()
              + "."
              + TableId.quoteIdentifier(i.column()));
    }
    return 1;
  }

  private int columnDefault(Item i) throws SQLException {
    String hasDefault = attribute(i.column(), "atthasdef::text");
    String identity = attribute(i.column(), "attidentity");
    if (hasDefault == null || "true".equals(hasDefault) || !identity.isEmpty()) {
      return 0;
    }
    execute(
        "ALTER TABLE "
            + target.quoted()
            + " ALTER COLUMN "
            + TableId.quoteIdentifier(i.column())
            + " SET DEFAULT "
            + i.definition());
    return 1;
  }

  /** Moves the target's sequence to the source's state when that is ahead, never back. */
  private int sequenceValue(Item i, List<Item> items) throws SQLException {
    String sequence =
        isIdentity(i, items)
            ? serialSequence(i.column())
            : (exists(sequenceName(i)) ? sequenceName(i) : null);
    return sequence != null && SequenceValues.advance(conn, sequence, i.value()) ? 1 : 0;
  }

  /**
   * The target's primary key: added when there is none; renamed to the source's name when it was
   * made under another (the sink makes a bare table's key before its first rows).
   */
  private int primaryKey(Item i) throws SQLException {
    try (PreparedStatement ps =
        conn.prepareStatement(
            "SELECT conname FROM pg_constraint WHERE conrelid = ?::regclass AND contype = 'p'")) {
      ps.setString(1, target.quoted());
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          if (rs.getString(1).equals(i.name())) {
            return 0;
          }
          execute(
              "ALTER TABLE "
                  + target.quoted()
                  + " RENAME CONSTRAINT "
                  + TableId.quoteIdentifier(rs.getString(1))
                  + " TO "
                  + TableId.quoteIdentifier(i.name()));
          return 1;
        }
      }
    }
    if (i.value() == null) {
      return constraint(i);
    }
    PrimaryKeys.add(conn, target, i.name(), i.value());
    return 1;
  }

  private int constraint(Item i) throws SQLException {
    try (PreparedStatement ps =
        conn.prepareStatement(
            "SELECT 1 FROM pg_constraint WHERE conrelid = ?::regclass AND conname = ?")) {
      ps.setString(1, target.quoted());
      ps.setString(2, i.name());
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          return 0;
        }
      }
    }
    execute(
        "ALTER TABLE "
            + target.quoted()
            + " ADD CONSTRAINT "
            + TableId.quoteIdentifier(i.name())
            + " "
            + i.definition());
    return 1;
  }

  private int index(Item i) throws SQLException {
    if (exists(
        TableId.quoteIdentifier(target.schema()) + "." + TableId.quoteIdentifier(i.name()))) {
      return 0;
    }
    execute(
        "CREATE "
            + ("UNIQUE".equals(i.value()) ? "UNIQUE " : "")
            + "INDEX "
            + TableId.quoteIdentifier(i.name())
            + " ON "
            + target.quoted()
            + " "
            + i.definition());
    return 1;
  }

  private int replicaIdentity(Item i) throws SQLException {
    String wanted =
        switch (i.definition()) {
          case "FULL" -> "f";
          case "NOTHING" -> "n";
          default -> "i";
        };
    try (PreparedStatement ps =
        conn.prepareStatement(
            "SELECT c.relreplident, (SELECT ic.relname FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid"
                + "   WHERE x.indrelid = c.oid AND x.indisreplident) FROM pg_class c WHERE c.oid = ?::regclass")) {
      ps.setString(1, target.quoted());
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        if (wanted.equals(rs.getString(1))
            && (!wanted.equals("i") || i.name().equals(rs.getString(2)))) {
          return 0;
        }
      }
    }
    execute(
        "ALTER TABLE "
            + target.quoted()
            + " REPLICA IDENTITY "
            + i.definition()
            + (wanted.equals("i") ? " " + TableId.quoteIdentifier(i.name()) : ""));
    return 1;
  }

  private static boolean isIdentity(Item sequence, List<Item> items) {
    for (Item i : items) {
      if (i.kind() == Kind.IDENTITY && i.column().equals(sequence.column())) {
        return true;
      }
    }
    return false;
  }

  /** The target's copy of a source sequence: its name, in the target table's schema. */
  private String sequenceName(Item i) {
    return TableId.quoteIdentifier(target.schema()) + "." + TableId.quoteIdentifier(i.name());
  }

  /** The sequence behind a column's identity or serial default in the target, or null. */
  private String serialSequence(String column) throws SQLException {
    try (PreparedStatement ps = conn.prepareStatement("SELECT pg_get_serial_sequence(?, ?)")) {
      ps.setString(1, target.quoted());
      ps.setString(2, column);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getString(1);
      }
    }
  }

  private boolean exists(String qualified) throws SQLException {
    return SequenceValues.exists(conn, qualified);
  }

  /** One pg_attribute field of a target column as text; null when there is no such column. */
  private String attribute(String column, String field) throws SQLException {
    try (PreparedStatement ps =
        conn.prepareStatement(
            "SELECT "
                + field
                + " FROM pg_attribute WHERE attrelid = ?::regclass AND attname = ? AND NOT attisdropped")) {
      ps.setString(1, target.quoted());
      ps.setString(2, column);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? String.valueOf(rs.getString(1)) : null;
      }
    }
  }

  private void execute(String sql) throws SQLException {
    log.debug("{}: {}", target, sql);
    try (Statement st = conn.createStatement()) {
      st.execute(sql);
    }
  }
}
