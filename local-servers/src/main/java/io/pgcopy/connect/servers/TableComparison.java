package io.pgcopy.connect.servers;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Compares a source table with its copy row by row: both sides are streamed as the md5 of each
 * row's text form over the source's columns (so column order on the target does not matter),
 * sorted, and walked together. Duplicates and losses show as differences; memory is constant.
 */
public final class TableComparison {
  private TableComparison() {}

  /** The outcome: rows on each side and the first few differences. */
  public record Result(long sourceRows, long targetRows, List<String> differences) {
    public boolean same() {
      return differences.isEmpty() && sourceRows == targetRows;
    }

    @Override
    public String toString() {
      return "source "
          + sourceRows
          + " rows, target "
          + targetRows
          + " rows"
          + (differences.isEmpty() ? ", identical" : ", differences: " + differences);
    }
  }

  /** The source's columns (not dropped, not generated) in order, quoted. */
  public static List<String> columns(Connection source, String quotedTable) throws SQLException {
    List<String> cols = new ArrayList<>();
    try (PreparedStatement ps =
        source.prepareStatement(
            "SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = ?::regclass"
                + " AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum")) {
      ps.setString(1, quotedTable);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          cols.add(rs.getString(1));
        }
      }
    }
    return cols;
  }

  public static Result compare(
      Connection source, String sourceTable, Connection target, String targetTable)
      throws SQLException {
    List<String> cols = columns(source, sourceTable);
    String row = "md5(ROW(" + String.join(", ", cols) + ")::text)";
    source.setAutoCommit(false);
    target.setAutoCommit(false);
    try (Statement s = source.createStatement();
        Statement t = target.createStatement()) {
      s.setFetchSize(10_000);
      t.setFetchSize(10_000);
      try (ResultSet a = s.executeQuery(sortedHashes(row, sourceTable));
          ResultSet b = t.executeQuery(sortedHashes(row, targetTable))) {
        List<String> diffs = new ArrayList<>();
        long na = 0;
        long nb = 0;
        boolean hasA = a.next();
        boolean hasB = b.next();
        while (hasA || hasB) {
          int c = !hasA ? 1 : !hasB ? -1 : a.getString(1).compareTo(b.getString(1));
          if (c == 0) {
            na++;
            nb++;
            hasA = a.next();
            hasB = b.next();
          } else if (c < 0) {
            note(diffs, "row md5 " + a.getString(1) + " only in source");
            na++;
            hasA = a.next();
          } else {
            note(diffs, "row md5 " + b.getString(1) + " only in target (or duplicated)");
            nb++;
            hasB = b.next();
          }
        }
        return new Result(na, nb, diffs);
      }
    } finally {
      source.rollback();
      target.rollback();
    }
  }

  /** Hex digests sorted bytewise, the order Java's String.compareTo walks them in. */
  private static String sortedHashes(String rowHash, String table) {
    return "SELECT h FROM (SELECT "
        + rowHash
        + " AS h FROM "
        + table
        + ") r ORDER BY h COLLATE \"C\"";
  }

  private static void note(List<String> diffs, String d) {
    if (diffs.size() < 5) {
      diffs.add(d);
    } else if (diffs.size() == 5) {
      diffs.add("...");
    }
  }
}
