package io.pgcopy.connect.source.plan;

import io.pgcopy.connect.common.ConnectionSettings;
import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.source.config.PgCopySourceConfig;
import io.pgcopy.connect.source.config.PgCopySourceConfig.SnapshotMode;
import io.pgcopy.connect.source.offsets.CtidRange;
import io.pgcopy.connect.source.offsets.SourceOffsets;
import io.pgcopy.connect.source.offsets.SourceOffsets.RangeProgress;
import io.pgcopy.connect.source.postgres.ReplicationSetup;
import io.pgcopy.connect.source.postgres.SourceCatalog;
import io.pgcopy.connect.source.postgres.TableExtent;
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
import org.apache.kafka.connect.storage.OffsetStorageReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run of the source connector, from {@code start} to {@code stop}: what it reads and streams,
 * planned from the source's catalog and the committed offsets: the CTID ranges, the tables added
 * since the stream started or asked to be read again, the snapshot they are read under, and, once
 * every range is done, what the stream skips. It hands out the task configurations of each moment.
 * A new one for every run: Connect starts the same connector instance again after a pause or a
 * stop, and nothing a run learned may outlive it (a snapshot completed before an offsets reset
 * would hand out the stream task before the new snapshot is read).
 */
public final class SourcePlan {
  private static final Logger log = LoggerFactory.getLogger(SourcePlan.class);

  private final PgCopySourceConfig config;
  private final String name;
  private final OffsetStorageReader offsets;
  private boolean slotExists;

  /** The ranges to read: of every table, or of the tables added to a streaming connector only. */
  private List<CtidRange> ranges = List.of();

  /** The ranges of every configured table, whose progress tells the stream what to skip. */
  private List<CtidRange> allRanges = List.of();

  /**
   * Tables added since the stream started, or asked to be read again: read whole under a new
   * snapshot while the stream waits.
   */
  private Set<TableId> added = Set.of();

  private Set<TableId> keyless = Set.of();

  /**
   * Tables whose ranges must all be read under one snapshot, else read again whole under the
   * current one after their target rows are removed: keyless tables (a row changed between two
   * snapshots would be kept twice or lost); with {@code initial_only} and binary records, every
   * table, since no stream replays what changed between the snapshots (a keyed table's truncate
   * then goes into every key bucket). Struct records carry a truncate in partition 0 only, so a
   * keyed table in struct format is not read again (docs/guarantees.md).
   */
  private Set<TableId> readWhole = Set.of();

  /**
   * The slot exists but the connector has no offsets at all (a new connector given an old slot, or
   * its offsets reset): the target may hold rows of an earlier run, so keyless tables are cleared
   * before they are read.
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
  private volatile boolean snapshotComplete;

  /** The last stream table marker seen: when the run started, then by the connector's monitor. */
  private volatile Set<TableId> lastMarker;

  public SourcePlan(PgCopySourceConfig config, String name, OffsetStorageReader offsets) {
    this.config = config;
    this.name = name;
    this.offsets = offsets;
  }

  /** Whether the slot exists (as the plan found it, or created by the export). */
  public boolean slotExists() {
    return slotExists;
  }

  /** The ranges this run reads. */
  public List<CtidRange> ranges() {
    return ranges;
  }

  /** What is left to read as the last plan or export found it. */
  public RemainingRanges left() {
    return plan;
  }

  /** The snapshot the ranges are read under; null before it is exported. */
  public ExportedSnapshot snapshot() {
    return snapshot;
  }

  /** Whether every range is done and the stream (if any) takes over. */
  public boolean snapshotComplete() {
    return snapshotComplete;
  }

  /** The stream's table marker as last seen (null: none yet). */
  public Set<TableId> lastMarker() {
    return lastMarker;
  }

  /** Remembers the marker the connector's monitor saw, or puts back the one before it. */
  public void lastMarker(Set<TableId> marker) {
    lastMarker = marker;
  }

  /** Plans from committed progress before any snapshot is exported; returns what is left. */
  public RemainingRanges planFromOffsets() {
    plan = remaining(null);
    return plan;
  }

  /**
   * Plans reading the given tables again, whole, under a new snapshot exported now, after which the
   * stream starts again (as for added tables). If the export fails the run stays as it was.
   */
  public synchronized void readAgain(Set<TableId> tables)
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
    exportSnapshot();
    snapshotComplete = false;
  }

  /**
   * Reads what the connector needs from the source: publication and slot state, the tables that
   * travel as text, and the ranges to read. Returns whether the connector only streams.
   */
  public boolean plan() throws SQLException, SourceCatalog.TableProblem {
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
                      offsets, SourceOffsets.streamTablesPartition(config.slotName())))
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
        readWhole =
            mode == SnapshotMode.INITIAL_ONLY && !config.structRecords()
                ? Set.copyOf(config.tables())
                : keyless;
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
  public synchronized void exportSnapshot() throws SQLException {
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
      Set<TableId> mixed = streams ? Set.of() : plan.mixed(ranges);
      log.warn(
          "{}: resuming under a new snapshot {}: {} of {} ranges left; ranges finished under the old one"
              + " stay as they are{}{}{}",
          name,
          snapshot.name(),
          plan.remaining().size(),
          ranges.size(),
          streams
              ? " and converge through the stream, which replays from the slot's consistent point"
              : "",
          plan.restarted().isEmpty()
              ? ""
              : "; "
                  + plan.restarted()
                  + " are read again whole (their target rows removed first): "
                  + (streams
                      ? "they have no key"
                      : "no stream replays what changed between the snapshots"),
          mixed.isEmpty()
              ? ""
              : "; the keyed tables "
                  + mixed
                  + " in struct format keep ranges read under the old snapshot and may hold rows as"
                  + " they were then (a struct truncate travels in partition 0 only): if the source"
                  + " was written to meanwhile, truncate them in the target and create the connector"
                  + " again under a new name");
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
  public void completeSnapshot() {
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
  }

  /**
   * The configured tables the stream task did not stream when it last started (its table marker),
   * so the stream never had their rows. Empty without a marker (a stream started by a version
   * without markers).
   */
  private Set<TableId> addedSinceTheStreamStarted() {
    Set<TableId> streamed =
        SourceOffsets.streamedTables(
            SourceOffsets.read(offsets, SourceOffsets.streamTablesPartition(config.slotName())));
    if (streamed == null) {
      return Set.of();
    }
    Set<TableId> tables = new TreeSet<>(config.tables());
    tables.removeAll(streamed);
    return Collections.unmodifiableSet(tables);
  }

  /** Whether the stream task has started before: its offset exists. */
  private boolean streamStarted() {
    Map<String, Object> offset = offsets.offset(SourceOffsets.streamPartition(config.slotName()));
    return SourceOffsets.streamPosition(offset) != null;
  }

  /** What is left to read under {@code snapshotName} (null: none yet), from committed progress. */
  public RemainingRanges remaining(String snapshotName) {
    Map<Map<String, Object>, RangeProgress> progress = progress(ranges);
    RemainingRanges left = RemainingRanges.of(ranges, progress, readWhole, added, snapshotName);
    return slotWithoutOffsets ? left.clearingUnstarted(keyless, ranges, progress) : left;
  }

  private Map<Map<String, Object>, RangeProgress> progress(List<CtidRange> ranges) {
    List<Map<String, Object>> partitions = new ArrayList<>();
    ranges.forEach(r -> partitions.add(r.partition()));
    Map<Map<String, Object>, Map<String, Object>> committed =
        SourceOffsets.read(offsets, partitions);
    Map<Map<String, Object>, RangeProgress> progress = new HashMap<>();
    for (CtidRange r : ranges) {
      progress.put(r.partition(), SourceOffsets.progress(committed.get(r.partition())));
    }
    return progress;
  }

  public synchronized void closeSnapshot() {
    if (snapshot != null) {
      snapshot.close();
    }
  }

  /**
   * The task configurations for this moment of the run: the snapshot tasks, each with its share of
   * the remaining ranges; once the snapshot is complete the one stream task ({@code initial},
   * {@code never}) or ({@code initial_only}) the one that announces the tables' post-data, none
   * with struct records; none while no snapshot is exported yet.
   */
  public List<Map<String, String>> taskConfigs(Map<String, String> props, int maxTasks) {
    if (snapshotComplete) {
      if (config.snapshotMode() != SnapshotMode.INITIAL_ONLY) {
        return List.of(TaskRanges.streamTask(props, streamSkips, snapshotLsns, textTables));
      }
      return config.structRecords()
          ? List.of()
          : List.of(TaskRanges.finishTask(props, snapshotLsns));
    }
    synchronized (this) {
      return snapshot == null
          ? List.of()
          : TaskRanges.snapshotTasks(
              props, snapshot.name(), snapshot.lsn(), plan, maxTasks, textTables, added);
    }
  }
}
