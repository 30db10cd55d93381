package io.pgcopy.connect.sink;

import io.pgcopy.connect.format.CopyBinary;
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
      if (in.isActive()) {
        try {
          in.cancelCopy();
        } catch (SQLException suppressed) {
          // the failure that brought us here is the one to report
        }
      }
    }
  }
}
