package io.pgcopy.connect.sink.postdata;

import io.pgcopy.connect.common.SqlStates;
import io.pgcopy.connect.format.PostData;
import io.pgcopy.connect.format.PostData.Item;
import io.pgcopy.connect.format.RecordHeaders;
import io.pgcopy.connect.format.RowBatch;
import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.sink.batch.RecordDecoder;
import io.pgcopy.connect.sink.config.PgCopySinkConfig;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.sink.SinkRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A sink task's part in building post-data after the load: takes the announcements the source sends
 * once a table's snapshot is in Kafka, records their arrival with the write that stores the offsets
 * past them, and builds each announcement whose every bucket has arrived ({@link PostDataBarrier})
 * with {@link PostDataBuilder}, at most one task per table at a time (an advisory lock). Builds run
 * between writes, on the task's connection, with {@code maintenance_work_mem} as configured. With
 * {@code post.data=false} announcements are skipped.
 */
public final class PostDataStep {
  private static final Logger log = LoggerFactory.getLogger(PostDataStep.class);

  private final String name;
  private final PgCopySinkConfig config;
  private final PostDataBarrier barrier;

  /** Announcements taken since the last write, recorded with the next one. */
  private final List<Arrival> arrivals = new ArrayList<>();

  /** The latest state of each sequence taken since the last write, by target sequence (quoted). */
  private final Map<String, Item> sequences = new LinkedHashMap<>();

  /** Whether some announcement may be due: after a write that recorded arrivals, and at start. */
  private boolean mayBeDue;

  private record Arrival(String target, PostData postData, byte[] value) {}

  /** A build step that failed for good: the table and the step, for the task's message. */
  public static final class BuildFailed extends Exception {
    BuildFailed(String message, SQLException cause) {
      super(message, cause);
    }
  }

  public PostDataStep(String name, PgCopySinkConfig config) {
    this.name = name;
    this.config = config;
    this.barrier = new PostDataBarrier(config.offsetsTable());
  }

  /** Whether a record is a post-data announcement or a sequence's state rather than rows. */
  public static boolean takes(SinkRecord r) {
    byte op = operation(r);
    return op == RowBatch.POST_DATA || op == RowBatch.SEQUENCES;
  }

  /** The record's one-byte operation header, or 0. */
  private static byte operation(SinkRecord r) {
    Header h = r.headers().lastWithName(RecordHeaders.OPERATION);
    return h != null && h.value() instanceof byte[] op && op.length == 1 ? op[0] : 0;
  }

  /**
   * Takes an announcement for table {@code target}, whose arrival is recorded with the next write,
   * or the state of sequence {@code target}, set with the next write.
   *
   * @throws DataException when its value is not a post-data value
   */
  public void take(SinkRecord r, TableId target) {
    if (!config.postData()) {
      return;
    }
    if (!(r.value() instanceof byte[] value)) {
      throw new DataException("post-data " + RecordDecoder.where(r) + " has no bytes value");
    }
    try {
      PostData postData = PostData.decode(value);
      if (operation(r) == RowBatch.SEQUENCES) {
        postData.items().forEach(i -> sequences.put(target.quoted(), i));
      } else {
        arrivals.add(new Arrival(target.quoted(), postData, value));
      }
    } catch (IllegalArgumentException e) {
      throw new DataException("post-data " + RecordDecoder.where(r) + ": " + e.getMessage(), e);
    }
  }

  /** Creates the arrivals table unless it exists (commits); announcements may be due. */
  public void open(Connection conn) throws SQLException {
    if (config.postData()) {
      barrier.createIfAbsent(conn);
      mayBeDue = true;
    }
  }

  /**
   * In the write's transaction: records the arrivals taken since the last write, and moves the
   * sequences whose states arrived forward (making one the target lacks when no table owns it; a
   * table's own waits for the table's post-data).
   */
  public void inWrite(Connection conn) throws SQLException {
    for (Arrival a : arrivals) {
      barrier.arrive(conn, a.target(), a.postData(), a.value());
    }
    for (Map.Entry<String, Item> e : sequences.entrySet()) {
      Item i = e.getValue();
      if (!SequenceValues.exists(conn, e.getKey())) {
        if (i.column() != null) {
          continue;
        }
        try (Statement st = conn.createStatement()) {
          st.execute("CREATE SEQUENCE IF NOT EXISTS " + e.getKey() + " " + i.definition());
        }
      }
      SequenceValues.advance(conn, e.getKey(), i.value());
    }
  }

  /** The write committed: what it recorded may complete an announcement. */
  public void written() {
    mayBeDue |= !arrivals.isEmpty();
    arrivals.clear();
    sequences.clear();
  }

  /** The write was dropped: its records are consumed again. */
  public void dropped() {
    arrivals.clear();
    sequences.clear();
  }

  /** Whether {@link #buildDue} has something to look at. */
  public boolean mayBeDue() {
    return mayBeDue;
  }

  /**
   * Builds every due announcement no other task is building. A failure leaves it due: a transient
   * one is thrown as the SQLException (the task retries), a permanent one as {@link BuildFailed}.
   */
  public void buildDue(Connection conn) throws SQLException, BuildFailed {
    for (PostDataBarrier.Due d : barrier.due(conn)) {
      String key = "pgcopy post-data " + d.target();
      if (!lock(conn, "pg_try_advisory_lock", key)) {
        log.info("{}: another task builds the post-data of {}", name, d.target());
        continue;
      }
      try {
        if (!barrier.isBuilt(conn, d)) {
          build(conn, d);
        }
      } catch (SQLException | BuildFailed | RuntimeException e) {
        // the lock goes with the session when the connection is broken: what failed is the news
        quietly(() -> lock(conn, "pg_advisory_unlock", key), e);
        throw e;
      }
      lock(conn, "pg_advisory_unlock", key);
    }
    mayBeDue = false;
  }

  private void build(Connection conn, PostDataBarrier.Due d) throws SQLException, BuildFailed {
    TableId target = TableId.parse(d.target());
    if (!exists(conn, d.target())) {
      log.warn(
          "{}: the post-data of {} arrived but the table is not in the target: nothing built",
          name,
          d.target());
      barrier.built(conn, d);
      return;
    }
    long start = System.nanoTime();
    log.info(
        "{}: building the post-data of {} ({} items: what the target lacks of them)",
        name,
        d.target(),
        d.postData().items().size());
    try (Statement st = conn.createStatement()) {
      if (!config.postDataMaintenanceWorkMem().isEmpty()) {
        st.execute(
            "SET maintenance_work_mem = '"
                + config.postDataMaintenanceWorkMem().replace("'", "''")
                + "'");
      }
      conn.commit();
    }
    int ran;
    try {
      ran = new PostDataBuilder(conn, target).build(d.postData().items());
    } catch (PostDataBuilder.StepFailed e) {
      SQLException cause = e.sqlCause();
      if (SqlStates.isTransient(cause)) {
        throw cause;
      }
      throw new BuildFailed(
          "building "
              + e.getMessage()
              + " of "
              + d.target()
              + " in the target failed: "
              + cause.getMessage()
              + " (SQLState "
              + cause.getSQLState()
              + "). Create what it needs in the target (an extension, a function, an operator class), or fix the "
              + "rows that break it, or set post.data=false and build it yourself; then restart the task",
          cause);
    }
    resetMemory(conn);
    barrier.built(conn, d);
    log.info(
        "{}: built the post-data of {} after its snapshot: {} of {} items were missing, {} ms",
        name,
        d.target(),
        ran,
        d.postData().items().size(),
        (System.nanoTime() - start) / 1_000_000);
  }

  private static boolean resetMemory(Connection conn) throws SQLException {
    try (Statement st = conn.createStatement()) {
      st.execute("RESET maintenance_work_mem");
      conn.commit();
      return true;
    }
  }

  private interface Cleanup {
    Object run() throws SQLException;
  }

  /** Runs a cleanup after {@code failure}; its own failure is attached to it, not thrown. */
  private static void quietly(Cleanup cleanup, Exception failure) {
    try {
      cleanup.run();
    } catch (SQLException e) {
      failure.addSuppressed(e);
    }
  }

  private static boolean lock(Connection conn, String function, String key) throws SQLException {
    return ask(conn, "SELECT " + function + "(hashtextextended(?, 0))", key);
  }

  private static boolean exists(Connection conn, String quoted) throws SQLException {
    return ask(conn, "SELECT to_regclass(?) IS NOT NULL", quoted);
  }

  /** The boolean one query with one text parameter answers; commits. */
  private static boolean ask(Connection conn, String sql, String parameter) throws SQLException {
    try (PreparedStatement ps = conn.prepareStatement(sql)) {
      ps.setString(1, parameter);
      boolean answer;
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        answer = rs.getBoolean(1);
      }
      conn.commit(); // not in a finally: on a broken connection its failure would hide the cause
      return answer;
    }
  }
}
