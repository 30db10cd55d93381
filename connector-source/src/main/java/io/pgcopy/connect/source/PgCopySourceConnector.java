package io.pgcopy.connect.source;

import io.pgcopy.connect.common.ConnectionSettings;
import io.pgcopy.connect.source.PgCopySourceConfig.SnapshotMode;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.source.ExactlyOnceSupport;
import org.apache.kafka.connect.source.SourceConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies PostgreSQL tables into Kafka with binary COPY, then streams their changes: plans CTID
 * ranges, creates the replication slot with an exported snapshot and holds it while the tasks read
 * the ranges, releases it when the committed offsets show every range done, and reconfigures to
 * one task streaming from the slot ({@code snapshot.mode=initial}). {@code initial_only} exports a
 * snapshot without a slot and ends with zero tasks; {@code never} streams only.
 */
public class PgCopySourceConnector extends SourceConnector {
  private static final Logger log = LoggerFactory.getLogger(PgCopySourceConnector.class);

  private Map<String, String> props;
  private PgCopySourceConfig config;
  private String name;
  private boolean slotExists;
  private List<CtidRange> ranges = List.of();
  private List<CtidRange> remaining = List.of();
  private ExportedSnapshot snapshot;
  private ScheduledExecutorService monitor;
  private volatile boolean snapshotComplete;
  private final SourceConnectorMetrics metrics = new SourceConnectorMetrics();
  private javax.management.ObjectName metricsName;

  @Override
  public String version() {
    return io.pgcopy.connect.common.Version.get();
  }

  @Override
  public void start(Map<String, String> props) {
    this.props = Map.copyOf(props);
    this.config = new PgCopySourceConfig(props);
    name = props.getOrDefault("name", "pgcopy-source");
    SnapshotMode mode = config.snapshotMode();
    boolean streams = mode != SnapshotMode.INITIAL_ONLY;
    metricsName = io.pgcopy.connect.common.Mbeans.register("source-connector", name, metrics);
    try (Connection conn = ConnectionSettings.open(config, "pgcopy-source planner")) {
      if (streams) {
        ReplicationSetup.ensurePublication(conn, config.publicationName(), config.tables(), config.publicationAutoCreate());
        slotExists = ReplicationSetup.slot(conn, config.slotName()) != null;
      }
      if (streams && (mode == SnapshotMode.NEVER || streamStarted())) {
        if (!slotExists && mode == SnapshotMode.NEVER && !streamStarted()) {
          try (Connection repl = ConnectionSettings.openReplication(config, "pgcopy-source slot")) {
            ReplicationSetup.createSlot(repl, config.slotName(), false);
          }
        }
        snapshotComplete = true;
        metrics.phase("stream");
        log.info("{}: streaming changes from slot {}", name, config.slotName());
        return;
      }
      List<TableExtent> extents = new SourceCatalog(conn).extents(config.tables());
      ranges = new RangePlanner(config.rangePages()).plan(extents);
      log.info("{}: planned {} ranges of at most {} pages over {} tables ({} physical)", name, ranges.size(),
          config.rangePages(), config.tables().size(), extents.size());
    } catch (SQLException e) {
      throw new RetriableException(name + ": planning the snapshot failed: " + e.getMessage(), e);
    } catch (SourceCatalog.TableProblem e) {
      throw new ConnectException(name + ": " + e.getMessage() + "; fix " + PgCopySourceConfig.TABLE_INCLUDE_LIST_CONFIG);
    }
    remaining = notDone(ranges);
    metrics.progress(ranges, remaining);
    if (remaining.isEmpty() && (!streams || slotExists)) {
      snapshotComplete = true;
      metrics.phase(streams ? "stream" : "done");
      log.info("{}: every snapshot range is already done{}", name, streams ? "; streaming changes" : "; nothing to read");
      return;
    }
    log.info("{}: {} of {} ranges left to read", name, remaining.size(), ranges.size());
    try {
      if (streams && !slotExists) {
        // the slot's own snapshot: the stream starts exactly where it ends
        snapshot = ExportedSnapshot.createSlot(ConnectionSettings.openReplication(config, "pgcopy-source snapshot"),
            config.slotName());
        slotExists = true;
      } else {
        snapshot = ExportedSnapshot.export(ConnectionSettings.open(config, "pgcopy-source snapshot"));
      }
    } catch (SQLException e) {
      throw new RetriableException(name + ": exporting a snapshot failed: " + e.getMessage(), e);
    }
    if (remaining.size() < ranges.size() || (streams && !snapshotFromSlot())) {
      log.warn("{}: resuming under a new snapshot {}: ranges finished before the restart were read under the "
          + "old one, so rows changed in between may differ until change data capture catches up{}", name,
          snapshot.name(), streams ? " (the stream replays from the slot's consistent point)" : "");
    } else {
      log.info("{}: exported snapshot {}", name, snapshot.name());
    }
    if (remaining.isEmpty()) {
      snapshotComplete = true;
      metrics.phase(streams ? "stream" : "done");
      closeSnapshot();
      return;
    }
    monitor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, name + "-snapshot-progress");
      t.setDaemon(true);
      return t;
    });
    monitor.scheduleWithFixedDelay(this::checkProgress, config.progressIntervalMs(), config.progressIntervalMs(),
        TimeUnit.MILLISECONDS);
  }

  private boolean snapshotFromSlot() {
    return snapshot != null && snapshot.fromSlot();
  }

  /** Whether the stream task has started before: its offset exists. */
  private boolean streamStarted() {
    Map<String, Object> offset = context().offsetStorageReader().offset(SourceOffsets.streamPartition(config.slotName()));
    return SourceOffsets.streamPosition(offset) != null;
  }

  private List<CtidRange> notDone(List<CtidRange> ranges) {
    List<Map<String, Object>> partitions = new ArrayList<>();
    ranges.forEach(r -> partitions.add(r.partition()));
    Map<Map<String, Object>, Map<String, Object>> offsets = context().offsetStorageReader().offsets(partitions);
    List<CtidRange> left = new ArrayList<>();
    for (CtidRange r : ranges) {
      if (!SourceOffsets.progress(offsets.get(r.partition())).done()) {
        left.add(r);
      }
    }
    return left;
  }

  private void checkProgress() {
    try {
      List<CtidRange> left = notDone(remaining);
      metrics.progress(ranges, left);
      log.debug("snapshot progress: {} of {} ranges left", left.size(), remaining.size());
      if (left.isEmpty()) {
        snapshotComplete = true;
        metrics.phase(config.snapshotMode() == SnapshotMode.INITIAL_ONLY ? "done" : "stream");
        log.info("{}: snapshot complete, all {} ranges done; releasing the snapshot{}", name, remaining.size(),
            config.snapshotMode() == SnapshotMode.INITIAL ? " and starting the stream" : "");
        closeSnapshot();
        context.requestTaskReconfiguration();
        monitor.shutdown();
      }
    } catch (RuntimeException e) {
      log.warn("Reading snapshot progress failed, will retry: {}", e.toString());
    }
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
      return List.of(task);
    }
    if (snapshot == null) {
      return List.of();
    }
    List<Map<String, String>> configs = new ArrayList<>();
    for (List<CtidRange> ranges : TaskAssigner.assign(remaining, maxTasks)) {
      Map<String, String> task = new HashMap<>(props);
      task.putAll(TaskRanges.encode(snapshot.name(), ranges));
      configs.add(task);
    }
    return configs;
  }

  @Override
  public void stop() {
    if (monitor != null) {
      monitor.shutdownNow();
    }
    io.pgcopy.connect.common.Mbeans.unregister(metricsName);
    closeSnapshot();
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

  /** Each poll's rows and their offsets can be written in one Kafka transaction. */
  @Override
  public ExactlyOnceSupport exactlyOnceSupport(Map<String, String> connectorConfig) {
    return ExactlyOnceSupport.SUPPORTED;
  }
}
