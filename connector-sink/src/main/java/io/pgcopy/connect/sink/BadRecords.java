package io.pgcopy.connect.sink;

import io.pgcopy.connect.sink.batch.SinkBuffer;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTaskContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What becomes of a record the sink cannot read (not from the pgcopy source, truncated, malformed
 * headers): with {@code errors.tolerance=all} it goes to Connect's errant record reporter (and the
 * dead-letter topic, with {@code errors.deadletterqueue.topic.name}) and is skipped; without, the
 * task fails naming the record's topic, partition, offset and what is wrong.
 */
final class BadRecords {
  private static final Logger log = LoggerFactory.getLogger(BadRecords.class);

  private final String name;
  private final SinkTaskContext context;

  BadRecords(String name, SinkTaskContext context) {
    this.name = name;
    this.context = context;
  }

  /**
   * Buffers {@code r} into {@code buffer}, returning the truncate entry it ends with (see {@link
   * SinkBuffer#add}); null also for a bad record reported and skipped, whose offset the caller
   * stores with the next write.
   *
   * @throws DataException for a bad record when the connector does not tolerate errors
   */
  SinkBuffer.BarrierEntry add(SinkBuffer buffer, SinkRecord r) {
    try {
      return buffer.add(r);
    } catch (DataException e) {
      ErrantRecordReporter reporter = context.errantRecordReporter();
      if (reporter == null) {
        throw e;
      }
      try {
        // waited for: the offset past it must not commit in the target before the report is kept
        reporter.report(r, e).get();
      } catch (ExecutionException | RuntimeException failed) {
        // errors.tolerance=none (Connect refuses the report), or the dead-letter topic failed
        throw e;
      } catch (InterruptedException interrupted) {
        Thread.currentThread().interrupt();
        throw e;
      }
      log.warn("{}: skipped a bad record (errors.tolerance=all): {}", name, e.getMessage());
      return null;
    }
  }
}
