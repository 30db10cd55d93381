package io.pgcopy.connect.sink.target;

import java.sql.SQLException;

/**
 * {@code CREATE .. IF NOT EXISTS} is not atomic against a concurrent identical CREATE: the loser
 * fails with a unique violation on the catalog (23505) or "already exists" (42P07 relation, 42P06
 * schema, 42710 the table's row type, seen when two tasks create the same table). Sink tasks start
 * together and create the same tables, so losing that race is success.
 */
public final class DdlRace {
  private DdlRace() {}

  public static boolean lostToConcurrentCreate(SQLException e) {
    String s = e.getSQLState();
    return "23505".equals(s) || "42P07".equals(s) || "42P06".equals(s) || "42710".equals(s);
  }
}
