package io.pgcopy.connect.source.postdata;

import io.pgcopy.connect.source.records.SourceReader;
import java.io.IOException;
import java.sql.SQLException;
import java.util.List;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A reader that first sends the post-data announcements due, then hands over to the reader it
 * wraps: the stream, between whose polls it sends the sequences' states at every heartbeat interval
 * ({@link SequenceWatch}), or none (the task that finishes {@code snapshot.mode=initial_only},
 * which has nothing else to do and then waits to be stopped).
 */
public final class PostDataFirst implements SourceReader {
  private static final Logger log = LoggerFactory.getLogger(PostDataFirst.class);

  /** How long the finishing task sleeps between polls once it has nothing to send. */
  private static final long FINISHED_IDLE_MS = 5_000;

  /**
   * The line the finishing task logs once it has sent everything (runner and tests wait for it).
   */
  public static final String DONE_MESSAGE = "every table's snapshot and post-data are in Kafka";

  private final String taskName;
  private final PostDataAnnouncer announcer;
  private final SourceReader next;
  private final SequenceWatch sequences;
  private boolean saidDone;

  /**
   * @param next the reader after the announcements; null for none
   * @param sequences the sequences to send between the reader's polls; null for none
   */
  public PostDataFirst(
      String taskName, PostDataAnnouncer announcer, SourceReader next, SequenceWatch sequences) {
    this.taskName = taskName;
    this.announcer = announcer;
    this.next = next;
    this.sequences = sequences;
  }

  @Override
  public List<SourceRecord> poll() throws SQLException, IOException {
    if (announcer.pending()) {
      return announcer.records();
    }
    if (sequences != null && sequences.due()) {
      List<SourceRecord> states = sequences.check();
      if (!states.isEmpty()) {
        return states;
      }
    }
    if (next == null && !saidDone) {
      saidDone = true;
      log.info("{}: {}; this task has nothing more to do", taskName, DONE_MESSAGE);
    }
    return next == null ? null : next.poll();
  }

  @Override
  public long idleMillis() {
    return next == null ? FINISHED_IDLE_MS : next.idleMillis();
  }

  @Override
  public String position() {
    if (announcer.pending()) {
      return "announcing post-data";
    }
    return next == null ? "done: every table's snapshot and post-data are sent" : next.position();
  }

  @Override
  public void reset() {
    if (sequences != null) {
      sequences.close();
    }
    if (next != null) {
      next.reset();
    }
  }

  @Override
  public void cancel() {
    if (next != null) {
      next.cancel();
    }
  }

  @Override
  public void acknowledged(SourceRecord record) {
    if (next != null && !PostDataAnnouncer.isAnnouncement(record)) {
      next.acknowledged(record);
    }
  }

  @Override
  public void close() {
    if (sequences != null) {
      sequences.close();
    }
    if (next != null) {
      next.close();
    }
  }
}
