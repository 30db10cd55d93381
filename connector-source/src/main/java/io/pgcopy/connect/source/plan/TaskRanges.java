package io.pgcopy.connect.source.plan;

import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.source.offsets.CtidRange;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A task's configuration: builds the snapshot tasks' (their ranges, the snapshot) and the stream
 * task's, and reads them back in the task, one key per field, no splitting of names.
 */
public final class TaskRanges {
  static final String SNAPSHOT_NAME = "task.snapshot.name";

  /**
   * What a task does: absent for snapshot tasks, {@link #KIND_STREAM} for the change stream task,
   * {@link #KIND_FINISH} for the task that ends {@code snapshot.mode=initial_only}.
   */
  public static final String KIND = "task.kind";

  public static final String KIND_STREAM = "stream";

  /** The task that announces every table's post-data once an initial_only snapshot is done. */
  public static final String KIND_FINISH = "finish";

  static final String RANGE_COUNT = "task.range.count";

  /** The snapshot's consistent LSN (0: unknown, a snapshot without a slot). */
  static final String SNAPSHOT_LSN = "task.snapshot.lsn";

  private static final String RANGE = "task.range.";

  /**
   * Tables read again whole: their target rows are removed first (a truncate before their first
   * row).
   */
  private static final String RESTARTED = "task.restarted.";

  /**
   * Stream task: per keyless table, the LSN below which its changes are in its snapshot already.
   */
  private static final String SKIP = "task.stream.skip.";

  /**
   * Stream task: per table, the LSN of the snapshot its rows were read under (re-snapshot requests
   * below it are served).
   */
  private static final String SNAPSHOT_LSNS = "task.stream.snapshot.";

  /**
   * Every task: the configured tables that travel as text (a column without binary I/O). Their
   * snapshot is read as text; the stream runs in text mode when there is one.
   */
  private static final String TEXT = "task.text.";

  /** Snapshot tasks: tables added to a streaming connector, read whole under this snapshot. */
  private static final String REREAD = "task.reread.";

  private TaskRanges() {}

  /**
   * The configurations of the snapshot tasks: {@code left}'s remaining ranges dealt to at most
   * {@code maxTasks} tasks, balanced by size (a table read again whole goes to one task), each with
   * the connector's {@code props}, its ranges, the snapshot, which of its tables are read again
   * whole, and the run's tables that travel as text and are read again for the stream.
   */
  static List<Map<String, String>> snapshotTasks(
      Map<String, String> props,
      String snapshotName,
      long snapshotLsn,
      RemainingRanges left,
      int maxTasks,
      Set<TableId> textTables,
      Set<TableId> reread) {
    List<Map<String, String>> configs = new ArrayList<>();
    for (List<CtidRange> own : TaskAssigner.assign(left.remaining(), maxTasks, left.restarted())) {
      Set<TableId> restarted = new TreeSet<>();
      for (CtidRange r : own) {
        if (left.restarted().contains(r.table())) {
          restarted.add(r.table());
        }
      }
      Map<String, String> task = new HashMap<>(props);
      task.putAll(encode(snapshotName, snapshotLsn, own, restarted));
      task.putAll(encodeTextTables(textTables));
      task.putAll(encodeReread(reread));
      configs.add(task);
    }
    return configs;
  }

  /**
   * The configuration of the one stream task: the connector's {@code props}, what it skips of each
   * table read under a later snapshot, the snapshots' LSNs, and the tables that travel as text.
   */
  static Map<String, String> streamTask(
      Map<String, String> props,
      Map<TableId, Long> skips,
      Map<TableId, Long> snapshotLsns,
      Set<TableId> textTables) {
    Map<String, String> task = new HashMap<>(props);
    task.put(KIND, KIND_STREAM);
    task.putAll(encodeStreamSkips(skips));
    task.putAll(encodeSnapshotLsns(snapshotLsns));
    task.putAll(encodeTextTables(textTables));
    return task;
  }

  /**
   * The configuration of the task that finishes {@code snapshot.mode=initial_only}: the snapshots'
   * LSNs, whose tables it announces the post-data of.
   */
  static Map<String, String> finishTask(
      Map<String, String> props, Map<TableId, Long> snapshotLsns) {
    Map<String, String> task = new HashMap<>(props);
    task.put(KIND, KIND_FINISH);
    task.putAll(encodeSnapshotLsns(snapshotLsns));
    return task;
  }

  static Map<String, String> encode(
      String snapshotName, long snapshotLsn, List<CtidRange> ranges, Set<TableId> restarted) {
    Map<String, String> m = encode(snapshotName, ranges);
    m.put(SNAPSHOT_LSN, Long.toString(snapshotLsn));
    m.put(RESTARTED + "count", String.valueOf(restarted.size()));
    int i = 0;
    for (TableId t : restarted) {
      m.put(RESTARTED + i++, t.quoted());
    }
    return m;
  }

  public static long snapshotLsn(Map<String, String> props) {
    return Long.parseLong(props.getOrDefault(SNAPSHOT_LSN, "0"));
  }

  public static Set<TableId> restarted(Map<String, String> props) {
    Set<TableId> tables = new LinkedHashSet<>();
    int count = Integer.parseInt(props.getOrDefault(RESTARTED + "count", "0"));
    for (int i = 0; i < count; i++) {
      tables.add(TableId.parse(require(props, RESTARTED + i)));
    }
    return tables;
  }

  static Map<String, String> encodeTextTables(Set<TableId> tables) {
    return encodeTables(TEXT, tables);
  }

  public static Set<TableId> textTables(Map<String, String> props) {
    return decodeTables(TEXT, props);
  }

  static Map<String, String> encodeReread(Set<TableId> tables) {
    return encodeTables(REREAD, tables);
  }

  public static Set<TableId> reread(Map<String, String> props) {
    return decodeTables(REREAD, props);
  }

  private static Map<String, String> encodeTables(String prefix, Set<TableId> tables) {
    Map<String, String> m = new HashMap<>();
    m.put(prefix + "count", String.valueOf(tables.size()));
    int i = 0;
    for (TableId t : new TreeSet<>(tables)) {
      m.put(prefix + i++, t.quoted());
    }
    return m;
  }

  private static Set<TableId> decodeTables(String prefix, Map<String, String> props) {
    Set<TableId> tables = new LinkedHashSet<>();
    int count = Integer.parseInt(props.getOrDefault(prefix + "count", "0"));
    for (int i = 0; i < count; i++) {
      tables.add(TableId.parse(require(props, prefix + i)));
    }
    return tables;
  }

  static Map<String, String> encodeStreamSkips(Map<TableId, Long> skips) {
    return encodeLsns(SKIP, skips);
  }

  public static Map<TableId, Long> streamSkips(Map<String, String> props) {
    return decodeLsns(SKIP, props);
  }

  /**
   * Stream task: per table, the consistent LSN of the snapshot its rows were last read under (0:
   * unknown).
   */
  static Map<String, String> encodeSnapshotLsns(Map<TableId, Long> lsns) {
    return encodeLsns(SNAPSHOT_LSNS, lsns);
  }

  public static Map<TableId, Long> snapshotLsns(Map<String, String> props) {
    return decodeLsns(SNAPSHOT_LSNS, props);
  }

  private static Map<String, String> encodeLsns(String prefix, Map<TableId, Long> lsns) {
    Map<String, String> m = new HashMap<>();
    m.put(prefix + "count", String.valueOf(lsns.size()));
    int i = 0;
    for (Map.Entry<TableId, Long> e : new TreeMap<>(lsns).entrySet()) {
      m.put(prefix + i + ".table", e.getKey().quoted());
      m.put(prefix + i + ".lsn", Long.toString(e.getValue()));
      i++;
    }
    return m;
  }

  private static Map<TableId, Long> decodeLsns(String prefix, Map<String, String> props) {
    Map<TableId, Long> lsns = new HashMap<>();
    int count = Integer.parseInt(props.getOrDefault(prefix + "count", "0"));
    for (int i = 0; i < count; i++) {
      lsns.put(
          TableId.parse(require(props, prefix + i + ".table")),
          Long.parseLong(require(props, prefix + i + ".lsn")));
    }
    return lsns;
  }

  private static Map<String, String> encode(String snapshotName, List<CtidRange> ranges) {
    Map<String, String> m = new HashMap<>();
    m.put(SNAPSHOT_NAME, snapshotName);
    m.put(RANGE_COUNT, String.valueOf(ranges.size()));
    for (int i = 0; i < ranges.size(); i++) {
      CtidRange r = ranges.get(i);
      String p = RANGE + i + ".";
      m.put(p + "table", r.table().quoted());
      m.put(p + "leaf", r.leaf().quoted());
      m.put(p + "start", String.valueOf(r.startPage()));
      m.put(p + "end", String.valueOf(r.endPage()));
      m.put(p + "pages", String.valueOf(r.estimatedPages()));
    }
    return m;
  }

  public static String snapshotName(Map<String, String> props) {
    return require(props, SNAPSHOT_NAME);
  }

  public static List<CtidRange> decode(Map<String, String> props) {
    int count = Integer.parseInt(require(props, RANGE_COUNT));
    List<CtidRange> ranges = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      String p = RANGE + i + ".";
      ranges.add(
          new CtidRange(
              TableId.parse(require(props, p + "table")),
              TableId.parse(require(props, p + "leaf")),
              Long.parseLong(require(props, p + "start")),
              Long.parseLong(require(props, p + "end")),
              Long.parseLong(require(props, p + "pages"))));
    }
    return ranges;
  }

  private static String require(Map<String, String> props, String key) {
    String v = props.get(key);
    if (v == null) {
      throw new IllegalArgumentException("task config lacks " + key);
    }
    return v;
  }
}
