package io.pgcopy.connect.source;

import io.pgcopy.connect.common.ConnectionSettings;
import io.pgcopy.connect.common.Mbeans;
import io.pgcopy.connect.common.Retries;
import io.pgcopy.connect.common.SqlStates;
import io.pgcopy.connect.common.Version;
import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.source.PgCopySourceConfig.SnapshotMode;
import io.pgcopy.connect.source.SourceOffsets.RangeProgress;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
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
  private boolean slotExists;

  /** The ranges to read: of every table, or of the tables added to a streaming connector only. */
  private List<CtidRange> ranges = List.of();

  /** The ranges of every configured table, whose progress tells the stream what to skip. */
  private List<CtidRange> allRanges = List.of();

  /**
   * Tables added since the stream started: read whole under a new snapshot while the stream waits.
   */
  private Set<TableId> added = Set.of();

  private Set<TableId> keyless = Set.of();

  /**
   * The slot exists but the connector has no offsets at all (a new connector given an old slot, for
   * example one re-created under a new name): the target may hold rows of an earlier run, so
   * keyless tables are cleared before they are read.
   */
  private boolean slotWithoutOffsets;

  /**
   * Tables with a column without binary I/O: they travel as text, and the stream runs in text mode.
   */
  private Set<TableId> textTables = Set.of();

  private volatile RemainingRanges plan = new RemainingRanges(List.of(), Set.of());
  private volatile Map<TableId, Long> streamSkips = Map.of();

  /**
   * Per table, the LSN of the snapshot its rows were read under, for the stream's re-snapshot
   * requests.
   */
  private volatile Map<TableId, Long> snapshotLsns = Map.of();

  private volatile ExportedSnapshot snapshot;
  private ScheduledExecutorService monitor;

  /** The monitor thread's connection, on which it asks whether the snapshot's session is alive. */
  private Connection monitorConn;

  private volatile boolean snapshotComplete;

  /** The last stream table marker the monitor saw. */
  private Set<TableId> lastMarker;

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
    forgetLastRun();
    this.props = Map.copyOf(props);
    this.config = new PgCopySourceConfig(props);
    name = props.getOrDefault("name", "pgcopy-source");
    boolean streams = config.snapshotMode() != SnapshotMode.INITIAL_ONLY;
    metricsName = Mbeans.register("source-connector", name, metrics);
    Retries retries = Retries.of(config);
    monitorRetries = Retries.of(config);
    boolean streamOnly = withRetries(retries, "planning the snapshot", this::plan);
    if (streamOnly) {
      completeSnapshot();
      log.info("{}: streaming changes from slot {}", name, config.slotName());
      startMonitor();
      return;
    }
    plan = remaining(null);
    metrics.progress(ranges, plan.remaining());
    if (plan.remaining().isEmpty() && (!streams || slotExists)) {
      completeSnapshot();
      log.info(
          "{}: every snapshot range is already done{}",
          name,
          streams ? "; streaming changes" : "; nothing to read");
      startMonitor();
      return;
    }
    log.info("{}: {} of {} ranges left to read", name, plan.remaining().size(), ranges.size());
    withRetries(
        retries,
        "exporting a snapshot",
        () -> {
          exportSnapshot();
          return null;
        });
    if (plan.remaining().isEmpty()) {
      completeSnapshot();
      closeSnapshot();
    }
    startMonitor();
  }

  /**
   * Connect starts the same instance again when a paused or stopped connector is resumed: nothing
   * the last run learned may stay (a snapshot completed then, before an offsets reset, would hand
   * out the stream task before the new snapshot is read).
   */
  private void forgetLastRun() {
    slotExists = false;
    slotWithoutOffsets = false;
    ranges = List.of();
    allRanges = List.of();
    added = Set.of();
    keyless = Set.of();
    textTables = Set.of();
    plan = new RemainingRanges(List.of(), Set.of());
    streamSkips = Map.of();
    snapshotLsns = Map.of();
    snapshot = null;
    monitor = null;
    snapshotComplete = false;
    lastMarker = null;
    nextCheckAt = 0;
  }

  /**
   * The monitor thread: checks the snapshot's progress while one is read; afterwards, with a
   * stream, watches the stream's table marker for tables a {@code pgcopy.snapshot} message asked to
   * read again.
   */
  private void startMonitor() {
    if (snapshotComplete && config.snapshotMode() != SnapshotMode.INITIAL) {
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
          if (!snapshotComplete) {
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
    Set<TableId> before = lastMarker;
    if (marker == null || marker.equals(before)) {
      return;
    }
    lastMarker = marker;
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
      snapshotAgain(requested);
    } catch (SQLException | SourceCatalog.TableProblem | RuntimeException e) {
      log.warn(
          "{}: starting to read {} again failed, will retry: {}", name, requested, e.toString());
      lastMarker = before; // seen again at the next check
    }
  }

  /**
   * Reads the given tables again, whole, under a new snapshot, then streams again (as for added
   * tables).
   */
  private synchronized void snapshotAgain(Set<TableId> tables)
      throws SQLException, SourceCatalog.TableProblem {
    List<CtidRange> planned;
    try (Connection conn = ConnectionSettings.open(config, "pgcopy-source planner")) {
      planned =
          new RangePlanner(config.rangePages())
              .plan(new SourceCatalog(conn).extents(List.copyOf(tables)));
    }
    List<CtidRange> all = new ArrayList<>();
    allRanges.stream().filter(r -> !tables.contains(r.table())).forEach(all::add);
    all.addAll(planned);
    allRanges = all;
    ranges = planned;
    added = Collections.unmodifiableSet(new TreeSet<>(tables));
    exportSnapshot(); // if this fails the stream stays as it is, and the next check tries again
    snapshotComplete = false;
    metrics.phase("snapshot");
    metrics.progress(ranges, plan.remaining());
    context.requestTaskReconfiguration();
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
        String message =
            name
                + ": "
                + doing
                + " failed: "
                + e.getMessage()
                + " (SQLState "
                + e.getSQLState()
                + ")";
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

  /**
   * Reads what the connector needs from the source: publication and slot state, the tables that
   * travel as text, and the ranges to read. Returns whether the connector only streams.
   */
  private boolean plan() throws SQLException, SourceCatalog.TableProblem {
    SnapshotMode mode = config.snapshotMode();
    boolean streams = mode != SnapshotMode.INITIAL_ONLY;
    try (Connection conn = ConnectionSettings.open(config, "pgcopy-source planner")) {
      if (streams) {
        ReplicationSetup.ensurePublication(
            conn, config.publicationName(), config.tables(), config.publicationAutoCreate());
        slotExists = ReplicationSetup.slot(conn, config.slotName()) != null;
      }
      Map<TableId, String> text = new SourceCatalog(conn).textTables(config.tables());
      text.forEach((t, why) -> log.info("{}: {} travels as text: {}", name, t, why));
      if (!text.isEmpty() && streams && !config.structRecords()) {
        log.info(
            "{}: the change stream runs in pgoutput's text mode for every table, since {} must",
            name,
            text.keySet());
      }
      textTables = Set.copyOf(text.keySet());
      boolean streamOnly = streams && (mode == SnapshotMode.NEVER || streamStarted());
      lastMarker =
          streams
              ? SourceOffsets.streamedTables(
                  SourceOffsets.read(
                      context().offsetStorageReader(),
                      SourceOffsets.streamTablesPartition(config.slotName())))
              : null;
      added = mode == SnapshotMode.INITIAL && streamOnly ? addedSinceTheStreamStarted() : Set.of();
      if (!added.isEmpty()) {
        streamOnly = false;
        log.info(
            "{}: {} added since the stream started: reading them under a new snapshot; the stream waits until "
                + "they are read (the slot retains WAL meanwhile)",
            name,
            added);
      }
      if (streamOnly && !slotExists && mode == SnapshotMode.NEVER && !streamStarted()) {
        try (Connection repl = ConnectionSettings.openReplication(config, "pgcopy-source slot")) {
          ReplicationSetup.createSlot(repl, config.slotName(), false);
        }
      }
      if (mode != SnapshotMode.NEVER) {
        SourceCatalog catalog = new SourceCatalog(conn);
        List<TableExtent> extents = catalog.extents(config.tables());
        allRanges = new RangePlanner(config.rangePages()).plan(extents);
        ranges =
            added.isEmpty()
                ? allRanges
                : allRanges.stream().filter(r -> added.contains(r.table())).toList();
        Set<TableId> noKey = new HashSet<>();
        for (TableId t : config.tables()) {
          if (!catalog.columns(t).hasKey()) {
            noKey.add(t);
          }
        }
        keyless = noKey;
        slotWithoutOffsets =
            mode == SnapshotMode.INITIAL
                && slotExists
                && lastMarker == null
                && !streamStarted()
                && progress(allRanges).values().stream().noneMatch(RangeProgress::started);
        if (slotWithoutOffsets && !noKey.isEmpty()) {
          log.warn(
              "{}: slot {} exists but this connector has no offsets (a new connector on an old slot):"
                  + " every table is read under a new snapshot, and the keyless ones {} are cleared in the"
                  + " target first, so no row is kept twice",
              name,
              config.slotName(),
              noKey);
        }
        if (!streamOnly) {
          log.info(
              "{}: planned {} ranges of at most {} pages over {} tables ({} physical)",
              name,
              ranges.size(),
              config.rangePages(),
              added.isEmpty() ? config.tables().size() : added.size(),
              extents.size());
        }
      }
      return streamOnly;
    }
  }

  /**
   * Exports the snapshot the remaining ranges are read under: the new slot's own when the slot is
   * created now (the stream starts exactly where it ends); otherwise, with a stream, a temporary
   * slot's, whose consistent LSN tells the stream which changes it holds; without one, {@code
   * pg_export_snapshot()}. Keyless tables begun under an older snapshot are read again.
   */
  private synchronized void exportSnapshot() throws SQLException {
    boolean streams = config.snapshotMode() != SnapshotMode.INITIAL_ONLY;
    boolean ownSlot = streams && !slotExists;
    if (ownSlot) {
      snapshot =
          ExportedSnapshot.createSlot(
              ConnectionSettings.openReplication(config, "pgcopy-source snapshot"),
              config.slotName());
      slotExists = true;
    } else if (streams) {
      snapshot =
          ExportedSnapshot.createTemporarySlot(
              ConnectionSettings.openReplication(config, "pgcopy-source snapshot"),
              temporarySlotName());
    } else {
      snapshot = ExportedSnapshot.export(ConnectionSettings.open(config, "pgcopy-source snapshot"));
    }
    plan = remaining(snapshot.name());
    if (!ownSlot && (plan.remaining().size() < ranges.size() || !plan.restarted().isEmpty())) {
      log.warn(
          "{}: resuming under a new snapshot {}: {} of {} ranges left; ranges finished under the old one"
              + " stay as they are{}{}",
          name,
          snapshot.name(),
          plan.remaining().size(),
          ranges.size(),
          streams
              ? " and converge through the stream, which replays from the slot's consistent point"
              : "",
          plan.restarted().isEmpty()
              ? ""
              : "; keyless tables "
                  + plan.restarted()
                  + " are read again whole (their target rows removed first): they have no key");
    } else {
      log.info("{}: exported snapshot {}", name, snapshot.name());
    }
  }

  private String temporarySlotName() {
    String suffix = "_snap_" + Long.toString(System.currentTimeMillis() % 1_000_000_000L, 36);
    String base = config.slotName();
    return (base.length() + suffix.length() > 63 ? base.substring(0, 63 - suffix.length()) : base)
        + suffix;
  }

  /** Every range done: the stream task's skips come from the ranges' committed offsets. */
  private void completeSnapshot() {
    Map<Map<String, Object>, RangeProgress> progress = progress(allRanges);
    streamSkips = RemainingRanges.streamSkips(allRanges, progress, keyless);
    snapshotLsns = RemainingRanges.snapshotLsns(allRanges, progress);
    if (!streamSkips.isEmpty()) {
      log.info(
          "{}: the stream skips changes of {} below these LSNs: their snapshot holds them",
          name,
          streamSkips);
    }
    snapshotComplete = true;
    metrics.phase(config.snapshotMode() == SnapshotMode.INITIAL_ONLY ? "done" : "stream");
  }

  /**
   * The configured tables the stream task did not stream when it last started (its table marker),
   * so the stream never had their rows. Empty without a marker (a stream started by a version
   * without markers).
   */
  private Set<TableId> addedSinceTheStreamStarted() {
    Set<TableId> streamed =
        SourceOffsets.streamedTables(
            SourceOffsets.read(
                context().offsetStorageReader(),
                SourceOffsets.streamTablesPartition(config.slotName())));
    if (streamed == null) {
      return Set.of();
    }
    Set<TableId> tables = new TreeSet<>(config.tables());
    tables.removeAll(streamed);
    return Collections.unmodifiableSet(tables);
  }

  /** Whether the stream task has started before: its offset exists. */
  private boolean streamStarted() {
    Map<String, Object> offset =
        context().offsetStorageReader().offset(SourceOffsets.streamPartition(config.slotName()));
    return SourceOffsets.streamPosition(offset) != null;
  }

  /** What is left to read under {@code snapshotName} (null: none yet), from committed progress. */
  private RemainingRanges remaining(String snapshotName) {
    Map<Map<String, Object>, RangeProgress> progress = progress(ranges);
    RemainingRanges left = RemainingRanges.of(ranges, progress, keyless, added, snapshotName);
    return slotWithoutOffsets ? left.clearingUnstarted(keyless, ranges, progress) : left;
  }

  private Map<Map<String, Object>, RangeProgress> progress(List<CtidRange> ranges) {
    List<Map<String, Object>> partitions = new ArrayList<>();
    ranges.forEach(r -> partitions.add(r.partition()));
    Map<Map<String, Object>, Map<String, Object>> offsets =
        SourceOffsets.read(context().offsetStorageReader(), partitions);
    Map<Map<String, Object>, RangeProgress> progress = new HashMap<>();
    for (CtidRange r : ranges) {
      progress.put(r.partition(), SourceOffsets.progress(offsets.get(r.partition())));
    }
    return progress;
  }

  private void checkProgress() {
    if (System.currentTimeMillis() < nextCheckAt) {
      return; // backing off after a failed check
    }
    try {
      RemainingRanges left = remaining(snapshot.name());
      metrics.progress(ranges, left.remaining());
      log.debug("snapshot progress: {} of {} ranges left", left.remaining().size(), ranges.size());
      if (left.remaining().isEmpty()) {
        completeSnapshot();
        log.info(
            "{}: snapshot complete, all {} ranges done; releasing the snapshot{}",
            name,
            ranges.size(),
            config.snapshotMode() == SnapshotMode.INITIAL ? " and starting the stream" : "");
        closeSnapshot();
        context.requestTaskReconfiguration();
        if (config.snapshotMode() != SnapshotMode.INITIAL) {
          monitor.shutdown(); // nothing to watch without a stream
        }
      } else if (!snapshotAlive()) {
        log.warn(
            "{}: the session holding snapshot {} is gone (terminated, or the server restarted); exporting a new "
                + "one and reconfiguring the snapshot tasks",
            name,
            snapshot.name());
        closeSnapshot();
        exportSnapshot();
        metrics.progress(ranges, plan.remaining());
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
                + ": checking snapshot progress failed: "
                + e.getMessage()
                + (e instanceof SQLException sql ? " (SQLState " + sql.getSQLState() + ")" : "")
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
    return snapshot.alive(monitorConn);
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
    if (snapshotComplete) {
      if (config.snapshotMode() == SnapshotMode.INITIAL_ONLY) {
        return List.of();
      }
      Map<String, String> task = new HashMap<>(props);
      task.put(TaskRanges.KIND, TaskRanges.KIND_STREAM);
      task.putAll(TaskRanges.encodeStreamSkips(streamSkips));
      task.putAll(TaskRanges.encodeSnapshotLsns(snapshotLsns));
      task.putAll(TaskRanges.encodeTextTables(textTables));
      return List.of(task);
    }
    synchronized (this) {
      if (snapshot == null) {
        return List.of();
      }
      List<Map<String, String>> configs = new ArrayList<>();
      for (List<CtidRange> own :
          TaskAssigner.assign(plan.remaining(), maxTasks, plan.restarted())) {
        Set<TableId> restarted = new TreeSet<>();
        own.forEach(
            r -> {
              if (plan.restarted().contains(r.table())) {
                restarted.add(r.table());
              }
            });
        Map<String, String> task = new HashMap<>(props);
        task.putAll(TaskRanges.encode(snapshot.name(), snapshot.lsn(), own, restarted));
        task.putAll(TaskRanges.encodeTextTables(textTables));
        task.putAll(TaskRanges.encodeReread(added));
        configs.add(task);
      }
      return configs;
    }
  }

  @Override
  public void stop() {
    if (monitor != null) {
      monitor.shutdownNow();
    }
    Mbeans.unregister(metricsName);
    closeSnapshot();
    closeMonitorConnection();
  }

  private synchronized void closeSnapshot() {
    if (snapshot != null) {
      snapshot.close();
    }
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
