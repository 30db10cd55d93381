package io.pgcopy.connect.source;

import io.pgcopy.connect.format.TableId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Carries a task's snapshot name and ranges in its task config: one key per field, no splitting of names. */
final class TaskRanges {
  static final String SNAPSHOT_NAME = "task.snapshot.name";
  /** What a task does: absent for snapshot tasks, {@link #KIND_STREAM} for the change stream task. */
  static final String KIND = "task.kind";
  static final String KIND_STREAM = "stream";
  static final String RANGE_COUNT = "task.range.count";
  private static final String RANGE = "task.range.";

  private TaskRanges() {}

  static Map<String, String> encode(String snapshotName, List<CtidRange> ranges) {
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

  static String snapshotName(Map<String, String> props) {
    return require(props, SNAPSHOT_NAME);
  }

  static List<CtidRange> decode(Map<String, String> props) {
    int count = Integer.parseInt(require(props, RANGE_COUNT));
    List<CtidRange> ranges = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      String p = RANGE + i + ".";
      ranges.add(new CtidRange(
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
