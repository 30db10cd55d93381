package io.pgcopy.connect.source;

import io.pgcopy.connect.common.ConnectionSettings;
import io.pgcopy.connect.common.Mbeans;
import io.pgcopy.connect.common.Retries;
import io.pgcopy.connect.common.Version;
import io.pgcopy.connect.source.config.PgCopySourceConfig;
import io.pgcopy.connect.source.offsets.CtidRange;
import io.pgcopy.connect.source.offsets.SourceOffsets;
import io.pgcopy.connect.source.plan.TaskRanges;
import io.pgcopy.connect.source.postdata.PostDataAnnouncer;
import io.pgcopy.connect.source.postdata.PostDataFirst;
import io.pgcopy.connect.source.postdata.SequenceWatch;
import io.pgcopy.connect.source.postgres.SqlErrors;
import io.pgcopy.connect.source.records.SourceReader;
import io.pgcopy.connect.source.records.SourceTaskMetrics;
import io.pgcopy.connect.source.snapshot.SnapshotReader;
import io.pgcopy.connect.source.stream.ChangeStreamReader;
import java.io.IOException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.management.ObjectName;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A source task: reads the CTID ranges in its config ({@link SnapshotReader}) or, for the one
 * stream task, the change stream ({@link ChangeStreamReader}) after announcing the post-data of the
 * tables whose snapshot is done ({@link PostDataFirst}), as the task finishing an {@code
 * initial_only} snapshot does alone; the work is in the reader, the task classifies failures and
 * backs off.
 */
public class PgCopySourceTask extends SourceTask {
  private static final Logger log = LoggerFactory.getLogger(PgCopySourceTask.class);

  private final CountDownLatch stopRequested = new CountDownLatch(1);
  private Retries retries;
  private PgCopySourceConfig config;
  private final SourceTaskMetrics metrics = new SourceTaskMetrics();
  private SourceReader reader;
  private ObjectName metricsName;
  private String name;

  /** What the task does, for messages: reading the snapshot, or streaming changes. */
  private String doing;

  @Override
  public String version() {
    return Version.get();
  }

  @Override
  public void start(Map<String, String> props) {
    config = new PgCopySourceConfig(props);
    retries = Retries.of(config);
    name = props.getOrDefault("name", "pgcopy-source") + "-task";
    metricsName =
        Mbeans.register(
            "source-task",
            props.getOrDefault("name", "pgcopy-source"),
            Mbeans.taskNumber(),
            metrics);
    if (TaskRanges.KIND_FINISH.equals(props.get(TaskRanges.KIND))) {
      name = props.getOrDefault("name", "pgcopy-source") + "-finish";
      metrics.phase = "done";
      reader =
          new PostDataFirst(
              name,
              new PostDataAnnouncer(
                  config, name, context.offsetStorageReader(), TaskRanges.snapshotLsns(props)),
              null,
              null);
      doing = "announcing post-data after ";
      return;
    }
    if (TaskRanges.KIND_STREAM.equals(props.get(TaskRanges.KIND))) {
      name = props.getOrDefault("name", "pgcopy-source") + "-stream";
      Map<String, Object> partition = SourceOffsets.streamPartition(config.slotName());
      Map<String, Object> marker =
          SourceOffsets.read(
              context.offsetStorageReader(),
              SourceOffsets.streamTablesPartition(config.slotName()));
      reader =
          new PostDataFirst(
              name,
              new PostDataAnnouncer(
                  config, name, context.offsetStorageReader(), TaskRanges.snapshotLsns(props)),
              new ChangeStreamReader(
                  config,
                  name,
                  context.offsetStorageReader().offset(partition),
                  SourceOffsets.streamedTables(marker),
                  TaskRanges.streamSkips(props),
                  TaskRanges.snapshotLsns(props),
                  TaskRanges.textTables(props),
                  metrics),
              config.structRecords() ? null : new SequenceWatch(config, name, metrics));
      doing = "streaming changes after ";
      return;
    }
    List<CtidRange> ranges = TaskRanges.decode(props);
    List<Map<String, Object>> partitions = new ArrayList<>();
    for (CtidRange r : ranges) {
      partitions.add(r.partition());
    }
    Map<Map<String, Object>, Map<String, Object>> offsets =
        SourceOffsets.read(context.offsetStorageReader(), partitions);
    reader =
        new SnapshotReader(
            config,
            name,
            TaskRanges.snapshotName(props),
            TaskRanges.snapshotLsn(props),
            TaskRanges.restarted(props),
            TaskRanges.reread(props),
            TaskRanges.textTables(props),
            ranges,
            offsets,
            metrics);
    doing = "reading ";
  }

  @Override
  public List<SourceRecord> poll() throws InterruptedException {
    if (stopRequested.getCount() == 0) {
      return null;
    }
    String where = reader.position();
    try {
      List<SourceRecord> records = reader.poll();
      retries.succeeded();
      if (records == null) {
        // nothing now (every range done, or no change pending): do not spin
        stopRequested.await(reader.idleMillis(), TimeUnit.MILLISECONDS);
      }
      return records;
    } catch (SQLException | IOException e) {
      // the reader starts again from what Kafka has: the range's last row, the stream's last change
      reader.reset();
      if (stopRequested.getCount() == 0) {
        return null;
      }
      throw failure(e, name + ": " + doing + where);
    }
  }

  /**
   * The exception that ends this poll: permanent (the task fails, with the server's message and
   * what to do) or retriable, after a backoff that grows with each failure in a row, until the
   * failures in a row have lasted {@code retry.timeout.ms} (then the task fails). A server error
   * inside an I/O exception (the COPY stream reports errors as I/O errors) is classified by its
   * SQLState like any other.
   */
  private ConnectException failure(Exception e, String doing) throws InterruptedException {
    SQLException sql = SqlErrors.sqlCause(e);
    ConnectException failure =
        sql != null
            ? SqlErrors.translate(sql, doing)
            : new RetriableException(doing + " failed: " + e.getMessage(), e);
    String hint = ConnectionSettings.socketTimeoutHint(e, config);
    if (failure instanceof RetriableException && !hint.isEmpty()) {
      failure = new RetriableException(failure.getMessage() + hint, e);
    }
    if (failure instanceof RetriableException) {
      long delay = retries.nextDelayMs();
      if (delay < 0) {
        return new ConnectException(
            failure.getMessage()
                + "; "
                + retries.givingUp()
                + ". Fix the cause, then restart the task",
            e);
      }
      log.warn(
          "{}; retrying in {} ms (attempt {})",
          failure.getMessage(),
          delay,
          retries.failures() + 1);
      stopRequested.await(delay, TimeUnit.MILLISECONDS);
    } else {
      log.error("{}", failure.getMessage());
    }
    return failure;
  }

  @Override
  public void commitRecord(SourceRecord record, RecordMetadata metadata) {
    if (reader != null) {
      reader.acknowledged(record);
    }
  }

  /**
   * Kafka Connect 4.x calls this on the task thread once polling has stopped; older workers may
   * not.
   */
  @Override
  public void stop() {
    stopRequested.countDown();
    if (reader != null) {
      reader.cancel();
      reader.close();
    }
    Mbeans.unregister(metricsName);
    log.info("{} stopped", name);
  }
}
