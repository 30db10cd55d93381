package io.pgcopy.connect.common;

import java.sql.SQLException;

/**
 * Telling transient server failures from permanent ones by their SQLState, and wording them, for
 * both connectors.
 */
public final class SqlStates {
  private SqlStates() {}

  /**
   * {@code "<doing> failed: <server message> (SQLState <state>)"}, the one way both connectors word
   * a failed statement; the state is empty when the driver gave none (an I/O error).
   */
  public static String failed(String doing, SQLException e) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    return doing + " failed: " + e.getMessage() + " (SQLState " + state + ")";
  }

  /**
   * True when retrying may succeed: connection trouble (08), serialization failure or deadlock
   * (40), resources (53), operator intervention (57), or no SQLState at all (an I/O error in the
   * driver). Authentication (28), privileges and syntax (42) and the rest are permanent.
   */
  public static boolean isTransient(SQLException e) {
    String state = e.getSQLState();
    if (state == null || state.isEmpty()) {
      return true;
    }
    return state.startsWith("08")
        || state.startsWith("40")
        || state.startsWith("53")
        || state.startsWith("57");
  }
}
