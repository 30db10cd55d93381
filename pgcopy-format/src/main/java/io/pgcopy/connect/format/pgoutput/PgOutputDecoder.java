package io.pgcopy.connect.format.pgoutput;

import io.pgcopy.connect.format.pgoutput.PgOutputMessage.Begin;
import io.pgcopy.connect.format.pgoutput.PgOutputMessage.Commit;
import io.pgcopy.connect.format.pgoutput.PgOutputMessage.Delete;
import io.pgcopy.connect.format.pgoutput.PgOutputMessage.Insert;
import io.pgcopy.connect.format.pgoutput.PgOutputMessage.LogicalMessage;
import io.pgcopy.connect.format.pgoutput.PgOutputMessage.Origin;
import io.pgcopy.connect.format.pgoutput.PgOutputMessage.Relation;
import io.pgcopy.connect.format.pgoutput.PgOutputMessage.RelationColumn;
import io.pgcopy.connect.format.pgoutput.PgOutputMessage.StreamAbort;
import io.pgcopy.connect.format.pgoutput.PgOutputMessage.StreamCommit;
import io.pgcopy.connect.format.pgoutput.PgOutputMessage.StreamStart;
import io.pgcopy.connect.format.pgoutput.PgOutputMessage.StreamStop;
import io.pgcopy.connect.format.pgoutput.PgOutputMessage.Truncate;
import io.pgcopy.connect.format.pgoutput.PgOutputMessage.Type;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes pgoutput messages: bytes in, {@link PgOutputMessage}s out, no I/O. It keeps one bit of
 * state, whether it is between Stream Start and Stream Stop, because messages there carry the
 * transaction id. Not thread-safe.
 */
public final class PgOutputDecoder {
  /** The highest protocol version this decoder reads (PostgreSQL 16 and later offer 4). */
  public static final int MAX_PROTOCOL_VERSION = 4;

  private final int protocolVersion;
  private boolean inStream;

  public PgOutputDecoder(int protocolVersion) {
    if (protocolVersion < 1 || protocolVersion > MAX_PROTOCOL_VERSION) {
      throw new IllegalArgumentException(
          "pgoutput protocol version "
              + protocolVersion
              + " is not supported (1 to "
              + MAX_PROTOCOL_VERSION
              + ")");
    }
    this.protocolVersion = protocolVersion;
  }

  /** The protocol version to ask a server for: the highest both support. */
  public static int protocolVersionFor(int serverVersionNum) {
    if (serverVersionNum >= 160000) {
      return Math.min(4, MAX_PROTOCOL_VERSION);
    }
    if (serverVersionNum >= 150000) {
      return 3;
    }
    if (serverVersionNum >= 140000) {
      return 2;
    }
    return 1;
  }

  public int protocolVersion() {
    return protocolVersion;
  }

  /** Whether the last message decoded left the stream inside a streamed transaction block. */
  public boolean inStream() {
    return inStream;
  }

  /** Decodes the message in {@code bytes}. */
  public PgOutputMessage decode(byte[] bytes) {
    return decode(ByteBuffer.wrap(bytes));
  }

  /**
   * Decodes the message between the buffer's position and limit; the buffer must be backed by an
   * array.
   */
  public PgOutputMessage decode(ByteBuffer in) {
    if (!in.hasArray()) {
      ByteBuffer copy = ByteBuffer.allocate(in.remaining());
      copy.put(in).flip();
      in = copy;
    }
    char tag = (char) in.get();
    try {
      return switch (tag) {
        case 'B' -> new Begin(in.getLong(), in.getLong(), in.getInt());
        case 'C' -> {
          in.get(); // flags, unused
          yield new Commit(in.getLong(), in.getLong(), in.getLong());
        }
        case 'O' -> new Origin(in.getLong(), string(in));
        case 'R' -> relation(in);
        case 'Y' -> new Type(xid(in), in.getInt(), string(in), string(in));
        case 'I' -> {
          int xid = xid(in);
          int rel = in.getInt();
          expect(in, 'N');
          yield new Insert(xid, rel, TupleData.read(in));
        }
        case 'U' -> update(in);
        case 'D' -> {
          int xid = xid(in);
          int rel = in.getInt();
          char kind = (char) in.get();
          if (kind != 'K' && kind != 'O') {
            throw new IllegalArgumentException("delete: expected 'K' or 'O', got '" + kind + "'");
          }
          yield new Delete(xid, rel, kind, TupleData.read(in));
        }
        case 'T' -> {
          int xid = xid(in);
          int n = in.getInt();
          int options = in.get();
          int[] rels = new int[n];
          for (int i = 0; i < n; i++) {
            rels[i] = in.getInt();
          }
          yield new Truncate(xid, options, rels);
        }
        case 'M' -> {
          int xid = xid(in);
          boolean transactional = (in.get() & 1) != 0;
          long lsn = in.getLong();
          String prefix = string(in);
          byte[] content = new byte[in.getInt()];
          in.get(content);
          yield new LogicalMessage(xid, transactional, lsn, prefix, content);
        }
        case 'S' -> {
          inStream = true;
          yield new StreamStart(in.getInt(), in.get() == 1);
        }
        case 'E' -> {
          inStream = false;
          yield new StreamStop();
        }
        case 'c' -> {
          int xid = in.getInt();
          in.get(); // flags, unused
          yield new StreamCommit(xid, in.getLong(), in.getLong(), in.getLong());
        }
        case 'A' -> {
          // protocol 4 with streaming = parallel adds the abort LSN and time; not requested here
          StreamAbort a = new StreamAbort(in.getInt(), in.getInt());
          in.position(in.limit());
          yield a;
        }
        default ->
            throw new IllegalArgumentException(
                "unknown or unrequested pgoutput message '" + tag + "'");
      };
    } catch (java.nio.BufferUnderflowException e) {
      throw new IllegalArgumentException("pgoutput message '" + tag + "' is truncated", e);
    }
  }

  private Relation relation(ByteBuffer in) {
    int xid = xid(in);
    int id = in.getInt();
    String namespace = string(in);
    String name = string(in);
    char identity = (char) in.get();
    int n = in.getShort() & 0xffff;
    List<RelationColumn> columns = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      boolean key = (in.get() & 1) != 0;
      columns.add(new RelationColumn(string(in), key, in.getInt(), in.getInt()));
    }
    return new Relation(xid, id, namespace, name, identity, List.copyOf(columns));
  }

  private PgOutputMessage update(ByteBuffer in) {
    int xid = xid(in);
    int rel = in.getInt();
    char kind = (char) in.get();
    TupleData old = null;
    char oldKind = 0;
    if (kind == 'K' || kind == 'O') {
      oldKind = kind;
      old = TupleData.read(in);
      kind = (char) in.get();
    }
    if (kind != 'N') {
      throw new IllegalArgumentException("update: expected 'N', got '" + kind + "'");
    }
    return new PgOutputMessage.Update(xid, rel, oldKind, old, TupleData.read(in));
  }

  /** The transaction id that messages inside a streamed block carry (protocol 2 and later). */
  private int xid(ByteBuffer in) {
    return inStream && protocolVersion >= 2 ? in.getInt() : 0;
  }

  private static void expect(ByteBuffer in, char expected) {
    char got = (char) in.get();
    if (got != expected) {
      throw new IllegalArgumentException("expected '" + expected + "', got '" + got + "'");
    }
  }

  private static String string(ByteBuffer in) {
    int start = in.position();
    int end = start;
    while (in.get(end) != 0) {
      end++;
    }
    String s =
        new String(in.array(), in.arrayOffset() + start, end - start, StandardCharsets.UTF_8);
    in.position(end + 1);
    return s;
  }
}
