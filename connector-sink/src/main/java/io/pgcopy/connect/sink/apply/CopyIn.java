package io.pgcopy.connect.sink.apply;

import io.pgcopy.connect.format.CopyBinary;
import io.pgcopy.connect.format.Tuples;
import java.sql.Connection;
import java.sql.SQLException;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/**
 * Streams binary COPY tuples into {@code COPY .. FROM STDIN (FORMAT binary)}, straight from the
 * record bytes, through one reused buffer. A COPY that fails is cancelled, never ended: ending it
 * would commit a partial COPY.
 */
final class CopyIn {
  private static final int BUFFER = 256 * 1024;

  private CopyIn() {}

  static long copy(Connection conn, String sql, Iterable<byte[]> tuples) throws SQLException {
    CopyManager copyApi = conn.unwrap(PGConnection.class).getCopyAPI();
    org.postgresql.copy.CopyIn in = copyApi.copyIn(sql);
    try {
      byte[] buf = new byte[BUFFER];
      byte[] header = CopyBinary.header();
      System.arraycopy(header, 0, buf, 0, header.length);
      int n = header.length;
      for (byte[] t : tuples) {
        if (n + t.length > buf.length) {
          in.writeToCopy(buf, 0, n);
          n = 0;
        }
        if (t.length > buf.length) {
          in.writeToCopy(t, 0, t.length);
        } else {
          System.arraycopy(t, 0, buf, n, t.length);
          n += t.length;
        }
      }
      byte[] trailer = CopyBinary.trailer();
      if (n + trailer.length > buf.length) {
        in.writeToCopy(buf, 0, n);
        n = 0;
      }
      System.arraycopy(trailer, 0, buf, n, trailer.length);
      n += trailer.length;
      in.writeToCopy(buf, 0, n);
      return in.endCopy();
    } finally {
      cancelIfActive(in);
    }
  }

  /**
   * Streams tuples whose fields hold text forms (UTF-8) into {@code COPY .. FROM STDIN (FORMAT
   * text)}: fields separated by tabs, rows by newlines, NULL as {@code \N}, and backslash, tab,
   * newline and carriage return escaped (UTF-8 never has these bytes inside a multi-byte
   * character).
   */
  static long copyText(Connection conn, String sql, Iterable<byte[]> tuples) throws SQLException {
    CopyManager copyApi = conn.unwrap(PGConnection.class).getCopyAPI();
    org.postgresql.copy.CopyIn in = copyApi.copyIn(sql);
    try {
      Line line = new Line(in);
      for (byte[] t : tuples) {
        byte[][] values = Tuples.values(t);
        for (int i = 0; i < values.length; i++) {
          if (i > 0) {
            line.put('\t');
          }
          byte[] v = values[i];
          if (v == null) {
            line.put('\\');
            line.put('N');
            continue;
          }
          for (byte b : v) {
            switch (b) {
              case '\\' -> {
                line.put('\\');
                line.put('\\');
              }
              case '\t' -> {
                line.put('\\');
                line.put('t');
              }
              case '\n' -> {
                line.put('\\');
                line.put('n');
              }
              case '\r' -> {
                line.put('\\');
                line.put('r');
              }
              default -> line.put(b);
            }
          }
        }
        line.put('\n');
      }
      line.flush();
      return in.endCopy();
    } finally {
      cancelIfActive(in);
    }
  }

  /**
   * Cancels a COPY that did not end (a failure is on its way up); never ends it, which would commit
   * it.
   */
  private static void cancelIfActive(org.postgresql.copy.CopyIn in) {
    if (in.isActive()) {
      try {
        in.cancelCopy();
      } catch (SQLException suppressed) {
        // the failure that brought us here is the one to report
      }
    }
  }

  /** A write buffer in front of a COPY. */
  private static final class Line {
    private final org.postgresql.copy.CopyIn in;
    private final byte[] buf = new byte[BUFFER];
    private int n;

    Line(org.postgresql.copy.CopyIn in) {
      this.in = in;
    }

    void put(int b) throws SQLException {
      if (n == buf.length) {
        flush();
      }
      buf[n++] = (byte) b;
    }

    void flush() throws SQLException {
      if (n > 0) {
        in.writeToCopy(buf, 0, n);
        n = 0;
      }
    }
  }
}
