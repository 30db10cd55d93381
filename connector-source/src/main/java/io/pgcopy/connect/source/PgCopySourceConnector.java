package io.pgcopy.connect.source;

import io.pgcopy.connect.common.ConnectionSettings;
import io.pgcopy.connect.common.Mbeans;
import io.pgcopy.connect.common.Retries;
import io.pgcopy.connect.common.SqlStates;
import io.pgcopy.connect.common.Version;
import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.source.config.PgCopySourceConfig;
import io.pgcopy.connect.source.config.PgCopySourceConfig.SnapshotMode;
import io.pgcopy.connect.source.offsets.CtidRange;
import io.pgcopy.connect.source.offsets.SourceOffsets;
import io.pgcopy.connect.source.plan.RemainingRanges;
import io.pgcopy.connect.source.plan.SourcePlan;
import io.pgcopy.connect.source.postgres.SourceCatalog;
import io.pgcopy.connect.source.postgres.SqlErrors;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.management.ObjectName;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.ExactlyOnceSupport;
import org.apache.kafka.connect.source.SourceConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies PostgreSQL tables into Kafka with binary COPY, then streams their changes: plans CTID
 * ranges, creates the replication slot with an exported snapshot and holds it while the tasks read
 * the ranges, releases it when the committed offsets show every range done, and reconfigures to one
 * task streaming from the slot ({@code snapshot.mode=initial}). {@code initial_only} exports a
 * snapshot without a slot and ends with zero tasks; {@code never} streams only.
 */
public class PgCopySourceConnector extends SourceConnector {
  private static final Logger log = LoggerFactory.getLogger(PgCopySourceConnector.class);

  private final SourceConnectorMetrics metrics = new SourceConnectorMetrics();
  private Map<String, String> props;
  private PgCopySourceConfig config;
  private String name;

  /** This run's plan: a new one at every start. */
  private volatile SourcePlan run;

  private ScheduledExecutorService monitor;

  /** The monitor thread's connection, on which it asks whether the snapshot's session is alive. */
  private Connection monitorConn;

  /** The monitor thread's retries of failed progress checks, and when it may check again. */
  private Retries monitorRetries;

  private long nextCheckAt;
  private ObjectName metricsName;

  @Override
  public String version() {
    return Version.get();
  }

  @Override
  public void start(Map<String, String> props) {
    this.props = Map.copyOf(props);
    this.config = new PgCopySourceConfig(props);
    name = props.getOrDefault("name", "pgcopy-source");
    run = new SourcePlan(config, name, context().offsetStorageReader());
    monitor = null;
    nextCheckAt = 0;
    boolean streams = config.snapshotMode() != SnapshotMode.INITIAL_ONLY;
    metricsName = Mbeans.register("source-connector", name, metrics);
    Retries retries = Retries.of(config);
    monitorRetries = Retries.of(config);
    boolean streamOnly = withRetries(retries, "planning the snapshot", run::plan);
    if (streamOnly) {
      completeSnapshot();
      log.info("{}: streaming changes from slot {}", name, config.slotName());
      startMonitor();
      return;
    }
    RemainingRanges left = run.planFromOffsets();
    metrics.progress(run.ranges(), left.remaining());
    if (left.remaining().isEmpty() && (!streams || run.slotExists())) {
      completeSnapshot();
      log.info(
          "{}: every snapshot range is already done{}",
          name,
          streams ? "; streaming changes" : "; nothing to read");
      startMonitor();
      return;
    }
    log.info(
        "{}: {} of {} ranges left to read", name, left.remaining().size(), run.ranges().size());
    withRetries(
        retries,
        "exporting a snapshot",
        () -> {
          run.exportSnapshot();
          return null;
        });
    if (run.left().remaining().isEmpty()) {
      completeSnapshot();
      run.closeSnapshot();
    }
    startMonitor();
  }

  /** Every range done: the stream task's skips are planned and the phase moves on. */
  private void completeSnapshot() {
    run.completeSnapshot();
    metrics.phase(config.snapshotMode() == SnapshotMode.INITIAL_ONLY ? "done" : "stream");
  }

  /**
   * The monitor thread: checks the snapshot's progress while one is read; afterwards, with a
   * stream, watches the stream's table marker for tables a {@code pgcopy.snapshot} message asked to
   * read again.
   */
  private void startMonitor() {
    if (run.snapshotComplete() && config.snapshotMode() != SnapshotMode.INITIAL) {
      return;
    }
    monitor =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, name + "-monitor");
              t.setDaemon(true);
              return t;
            });
    monitor.scheduleWithFixedDelay(
        () -> {
          if (!run.snapshotComplete()) {
            checkProgress();
          } else if (config.snapshotMode() == SnapshotMode.INITIAL) {
            watchTableMarker();
          }
        },
        config.progressIntervalMs(),
        config.progressIntervalMs(),
        TimeUnit.MILLISECONDS);
  }

  /**
   * Compares the stream's table marker with the last one seen: tables it no longer lists were asked
   * to be read again (the stream task wrote it on a {@code pgcopy.snapshot} message and waits), so
   * they are read under a new snapshot, as added tables are, while the stream waits.
   */
  private void watchTableMarker() {
    Set<TableId> marker =
        SourceOffsets.streamedTables(
            SourceOffsets.read(
                context().offsetStorageReader(),
                SourceOffsets.streamTablesPartition(config.slotName())));
    Set<TableId> before = run.lastMarker();
    if (marker == null || marker.equals(before)) {
      return;
    }
    run.lastMarker(marker);
    Set<TableId> requested = new TreeSet<>(before == null ? Set.of() : before);
    requested.removeAll(marker);
    requested.retainAll(config.tables());
    if (requested.isEmpty()) {
      return;
    }
    log.info(
        "{}: the stream asks to read {} again (a pgcopy.snapshot message): reading them under a new snapshot; "
            + "the stream waits until they are read",
        name,
        requested);
    try {
      run.readAgain(requested);
      metrics.phase("snapshot");
      metrics.progress(run.ranges(), run.left().remaining());
      context.requestTaskReconfiguration();
    } catch (SQLException | SourceCatalog.TableProblem | RuntimeException e) {
      log.warn(
          "{}: starting to read {} again failed, will retry: {}", name, requested, e.toString());
      run.lastMarker(before); // seen again at the next check
    }
  }

  /** Work on the source database that a transient failure should not end. */
  private interface SqlWork<T> {
    T run() throws SQLException, SourceCatalog.TableProblem;
  }

  /**
   * Runs {@code work}, retrying transient failures (by SQLState) with backoff until they have gone
   * on for {@code retry.timeout.ms}; a permanent failure, or the last transient one, fails the
   * connector with the server's message and what to do.
   */
  private <T> T withRetries(Retries retries, String doing, SqlWork<T> work) {
    while (true) {
      try {
        T result = work.run();
        retries.succeeded();
        return result;
      } catch (SourceCatalog.TableProblem e) {
        throw new ConnectException(
            name + ": " + e.getMessage() + "; fix " + PgCopySourceConfig.TABLE_INCLUDE_LIST_CONFIG);
      } catch (SQLException e) {
        String message = name + ": " + SqlStates.failed(doing, e);
        if (!SqlStates.isTransient(e)) {
          throw new ConnectException(
              message
                  + ". Fix the cause (privileges, configuration), then restart the "
                  + "connector",
              e);
        }
        long delay = retries.nextDelayMs();
        if (delay < 0) {
          throw new ConnectException(
              message
                  + "; "
                  + retries.givingUp()
                  + ". Restart the connector once the "
                  + "source database is reachable",
              e);
        }
        log.warn("{}; retrying in {} ms (attempt {})", message, delay, retries.failures() + 1);
        try {
          Thread.sleep(delay);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw new ConnectException(name + ": interrupted while " + doing, e);
        }
      }
    }
  }

  private void checkProgress() {
    if (System.currentTimeMillis() < nextCheckAt) {
      return; // backing off after a failed check
    }
    try {
      List<CtidRange> ranges = run.ranges();
      RemainingRanges left = run.remaining(run.snapshot().name());
      metrics.progress(ranges, left.remaining());
      log.debug("snapshot progress: {} of {} ranges left", left.remaining().size(), ranges.size());
      if (left.remaining().isEmpty()) {
        completeSnapshot();
        log.info(
            "{}: snapshot complete, all {} ranges done; releasing the snapshot{}",
            name,
            ranges.size(),
            config.snapshotMode() == SnapshotMode.INITIAL ? " and starting the stream" : "");
        run.closeSnapshot();
        context.requestTaskReconfiguration();
        if (config.snapshotMode() != SnapshotMode.INITIAL) {
          monitor.shutdown(); // nothing to watch without a stream
        }
      } else if (!snapshotAlive()) {
        log.warn(
            "{}: the session holding snapshot {} is gone (terminated, or the server restarted); exporting a new "
                + "one and reconfiguring the snapshot tasks",
            name,
            run.snapshot().name());
        run.closeSnapshot();
        run.exportSnapshot();
        metrics.progress(ranges, run.left().remaining());
        context.requestTaskReconfiguration();
      }
      monitorRetries.succeeded();
    } catch (SQLException | RuntimeException e) {
      closeMonitorConnection();
      long delay =
          e instanceof SQLException sql && !SqlStates.isTransient(sql)
              ? -1
              : monitorRetries.nextDelayMs();
      if (delay < 0) {
        String message =
            name
                + ": "
                + (e instanceof SQLException sql
                    ? SqlStates.failed("checking snapshot progress", sql)
                    : "checking snapshot progress failed: " + e.getMessage())
                + (monitorRetries.failures() > 0 ? "; " + monitorRetries.givingUp() : "")
                + ". Fix the cause, then restart the connector";
        log.error(message);
        monitor.shutdown();
        context.raiseError(new ConnectException(message, e));
        return;
      }
      nextCheckAt = System.currentTimeMillis() + delay;
      log.warn(
          "{}: checking snapshot progress failed, will retry in {} ms: {}",
          name,
          Math.max(delay, config.progressIntervalMs()),
          e.toString());
    }
  }

  private boolean snapshotAlive() throws SQLException {
    if (monitorConn == null || monitorConn.isClosed()) {
      monitorConn = ConnectionSettings.open(config, "pgcopy-source monitor");
    }
    return run.snapshot().alive(monitorConn);
  }

  private void closeMonitorConnection() {
    Connection c = monitorConn;
    monitorConn = null;
    SqlErrors.closeQuietly(c, name);
  }

  @Override
  public Class<? extends Task> taskClass() {
    return PgCopySourceTask.class;
  }

  @Override
  public List<Map<String, String>> taskConfigs(int maxTasks) {
    return run.taskConfigs(props, maxTasks);
  }

  @Override
  public void stop() {
    if (monitor != null) {
      monitor.shutdownNow();
    }
    Mbeans.unregister(metricsName);
    if (run != null) {
      run.closeSnapshot();
    }
    closeMonitorConnection();
  }

  @Override
  public Config validate(Map<String, String> connectorConfigs) {
    Config config = super.validate(connectorConfigs);
    new SourceValidator(config).validate(connectorConfigs);
    return config;
  }

  @Override
  public ConfigDef config() {
    return PgCopySourceConfig.CONFIG_DEF;
  }

  /**
   * Takes a reset of every offset through the REST API ({@code DELETE /connectors/<name>/offsets}):
   * when resumed, the connector finds its slot but no offsets, clears the keyless tables in the
   * target and reads every table under a new snapshot, then streams on ({@code
   * snapshot.mode=initial} only). Refuses offsets written by hand ({@code PATCH}) with the reason
   * and the ways to what an operator wants.
   */
  @Override
  public boolean alterOffsets(
      Map<String, String> connectorConfig, Map<Map<String, ?>, Map<String, ?>> offsets) {
    PgCopySourceConfig config = new PgCopySourceConfig(connectorConfig);
    String refusal = SourceOffsets.alterRefusal(config.slotName(), config.snapshotMode(), offsets);
    if (refusal != null) {
      throw new ConnectException(
          "the pgcopy source's offsets cannot be altered this way: "
              + refusal
              + ". To read some tables again, run on the source SELECT pg_logical_emit_message(true,"
              + " 'pgcopy.snapshot', '<schema.table,...>'); to read every table again, reset the"
              + " offsets of the stopped connector (DELETE /connectors/<name>/offsets) and resume it"
              + " (docs/operations.md)");
    }
    return true;
  }

  /** Each poll's rows and their offsets can be written in one Kafka transaction. */
  @Override
  public ExactlyOnceSupport exactlyOnceSupport(Map<String, String> connectorConfig) {
    return ExactlyOnceSupport.SUPPORTED;
  }
}
