package io.pgcopy.connect.source.stream;

import io.pgcopy.connect.format.pgoutput.PgOutputDecoder;
import io.pgcopy.connect.format.pgoutput.PgOutputMessage;
import io.pgcopy.connect.source.stream.PendingTransactions.Tx;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Transactions larger than {@code logical_decoding_work_mem}, which the server streams in pieces
 * before they commit (pgoutput protocol 2 and later): each piece is spooled to a temporary file per
 * transaction, a transaction or subtransaction that aborts is dropped, and a committed one is
 * replayed from its file, a poll's worth at a time. Memory stays bounded by one message.
 */
final class StreamedTransactions {
  private static final Logger log = LoggerFactory.getLogger(StreamedTransactions.class);

  private final String taskName;
  private final Map<Integer, Spool> spools = new HashMap<>();
  private Spool inBlock;
  private Replay replay;

  /** Turns one replayed change of a committed transaction into records or batch entries. */
  interface Changes {
    void apply(PgOutputMessage m, Tx tx) throws SQLException, IOException;
  }

  StreamedTransactions(String taskName) {
    this.taskName = taskName;
  }

  /**
   * A stream block of transaction {@code xid} starts: what follows until its stop goes to its
   * spool.
   */
  void start(int xid) throws IOException {
    inBlock = spools.get(xid);
    if (inBlock == null) {
      inBlock = new Spool(xid);
      spools.put(xid, inBlock);
    }
  }

  /** A message inside a stream block, decoded as {@code m} from {@code raw}. */
  void inBlock(PgOutputMessage m, byte[] raw) throws IOException {
    if (m instanceof PgOutputMessage.StreamStop) {
      inBlock = null;
    } else {
      inBlock.append(xidOf(m), raw);
    }
  }

  /**
   * Transaction {@code xid} committed as {@code tx}: its spool is replayed by the next {@link
   * #drain}s.
   */
  void commit(int xid, Tx tx, long endLsn, int protocolVersion) throws IOException {
    Spool spool = spools.remove(xid);
    if (spool == null) {
      tx.committed(endLsn);
    } else {
      replay = new Replay(spool, tx, endLsn, protocolVersion);
    }
  }

  /** Transaction {@code xid}, or its subtransaction {@code subXid}, aborted. */
  void abort(int xid, int subXid) {
    Spool spool = spools.get(xid);
    if (spool != null) {
      if (subXid == xid) {
        spools.remove(xid).close();
        log.debug("{}: streamed transaction {} aborted", taskName, xid);
      } else {
        spool.aborted.add(subXid);
      }
    }
  }

  /** Whether a committed transaction is being replayed. */
  boolean replaying() {
    return replay != null;
  }

  /**
   * Replays changes of the committed transaction until {@code full} says so or it ends (then it
   * counts as committed).
   */
  void drain(Changes changes, BooleanSupplier full) throws SQLException, IOException {
    if (replay != null) {
      replay.drain(changes, full);
    }
  }

  /** Drops every spool (the connection was lost: the server sends the transactions again). */
  void clear() {
    inBlock = null;
    spools.values().forEach(Spool::close);
    spools.clear();
    if (replay != null) {
      replay.spool.close();
      replay = null;
    }
  }

  private static int xidOf(PgOutputMessage m) {
    if (m instanceof PgOutputMessage.Insert i) {
      return i.xid();
    } else if (m instanceof PgOutputMessage.Update u) {
      return u.xid();
    } else if (m instanceof PgOutputMessage.Delete d) {
      return d.xid();
    } else if (m instanceof PgOutputMessage.Truncate t) {
      return t.xid();
    } else if (m instanceof PgOutputMessage.Relation r) {
      return r.xid();
    } else if (m instanceof PgOutputMessage.LogicalMessage l) {
      return l.xid();
    } else if (m instanceof PgOutputMessage.Type t) {
      return t.xid();
    }
    return 0;
  }

  /** The pieces of one streamed transaction, on disk until it commits or aborts. */
  private final class Spool {
    final int xid;
    final Set<Integer> aborted = new HashSet<>();
    final Path file;
    DataOutputStream out;

    Spool(int xid) throws IOException {
      this.xid = xid;
      this.file = Files.createTempFile("pgcopy-xid-" + xid + "-", ".spool");
      this.out =
          new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file), 1 << 16));
    }

    void append(int subXid, byte[] message) throws IOException {
      out.writeInt(subXid);
      out.writeInt(message.length);
      out.write(message);
    }

    DataInputStream reader() throws IOException {
      out.close();
      return new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16));
    }

    void close() {
      try {
        out.close();
      } catch (IOException e) {
        log.debug("{}: closing spool of {}: {}", taskName, xid, e.getMessage());
      }
      try {
        Files.deleteIfExists(file);
      } catch (IOException e) {
        log.warn("{}: could not delete {}: {}", taskName, file, e.getMessage());
      }
    }
  }

  /** A committed streamed transaction being turned into records, a poll's worth at a time. */
  private final class Replay {
    final Spool spool;
    final Tx tx;
    final long endLsn;
    final DataInputStream in;
    final PgOutputDecoder decoder;

    Replay(Spool spool, Tx tx, long endLsn, int protocolVersion) throws IOException {
      this.spool = spool;
      this.tx = tx;
      this.endLsn = endLsn;
      this.in = spool.reader();
      this.decoder = new PgOutputDecoder(protocolVersion);
      // the spooled messages were sent inside stream blocks: they carry their transaction id
      decoder.decode(
          ByteBuffer.allocate(6).put((byte) 'S').putInt(spool.xid).put((byte) 0).array());
    }

    void drain(Changes changes, BooleanSupplier full) throws SQLException, IOException {
      while (!full.getAsBoolean()) {
        int subXid;
        try {
          subXid = in.readInt();
        } catch (EOFException e) {
          in.close();
          spool.close();
          tx.committed(endLsn);
          replay = null;
          return;
        }
        byte[] message = new byte[in.readInt()];
        in.readFully(message);
        if (!spool.aborted.contains(subXid)) {
          changes.apply(decoder.decode(message), tx);
        }
      }
    }
  }
}
