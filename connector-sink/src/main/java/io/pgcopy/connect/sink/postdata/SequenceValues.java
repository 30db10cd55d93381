package io.pgcopy.connect.sink.postdata;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/** Moves a target sequence to a source sequence's state, forward only. */
final class SequenceValues {
  private SequenceValues() {}

  /**
   * Sets {@code sequence} (qualified, quoted) to the source's state {@code "<last_value> t|f"} when
   * that is ahead of the target's in the direction of the sequence's increment; returns whether it
   * moved. {@code setval} is not transactional: it holds even if the caller's transaction rolls
   * back, which is harmless since it only ever moves forward.
   */
  static boolean advance(Connection conn, String sequence, String state) throws SQLException {
    String[] parts = state.split(" ");
    long value = Long.parseLong(parts[0]);
    boolean called = "t".equals(parts[1]);
    try (PreparedStatement ps =
        conn.prepareStatement(
            "SELECT s.last_value, s.is_called, q.seqincrement FROM "
                + sequence
                + " s, pg_sequence q WHERE q.seqrelid = ?::regclass")) {
      ps.setString(1, sequence);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        long increment = rs.getLong(3);
        long targetNext = rs.getLong(1) + (rs.getBoolean(2) ? increment : 0);
        long sourceNext = value + (called ? increment : 0);
        if (increment > 0 ? sourceNext <= targetNext : sourceNext >= targetNext) {
          return false;
        }
      }
    }
    try (PreparedStatement ps = conn.prepareStatement("SELECT setval(?::regclass, ?, ?)")) {
      ps.setString(1, sequence);
      ps.setLong(2, value);
      ps.setBoolean(3, called);
      ps.execute();
    }
    return true;
  }

  /** Whether a relation of that qualified, quoted name exists. */
  static boolean exists(Connection conn, String qualified) throws SQLException {
    try (PreparedStatement ps = conn.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
      ps.setString(1, qualified);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }
}
