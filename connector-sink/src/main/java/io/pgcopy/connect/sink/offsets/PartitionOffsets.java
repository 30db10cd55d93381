package io.pgcopy.connect.sink.offsets;

import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;

/**
 * The sink task's offsets, per partition: the offset after the last record taken (buffered or
 * applied; records below it are skipped), the offsets taken since the last write (stored with the
 * next one), the offsets stored in the target, and the first offset taken since the last write
 * (where to go back to if the buffer is dropped). Likewise the stream position of the last change
 * of a keyless table taken from each partition, so a change the source sent again (it resumed from
 * an older offset) is skipped rather than applied twice. Bookkeeping only: the task reads and
 * writes the target and rewinds the consumer.
 */
public final class PartitionOffsets {
  private final Map<TopicPartition, Long> next = new HashMap<>();
  private final Map<TopicPartition, Long> pending = new HashMap<>();
  private final Map<TopicPartition, Long> committed = new HashMap<>();
  private final Map<TopicPartition, Long> firstPending = new HashMap<>();
  private final Map<TopicPartition, ChangePosition> appliedAt = new HashMap<>();
  private final Map<TopicPartition, ChangePosition> pendingAt = new HashMap<>();

  /** Partitions opened with the offsets the target holds for them: taking resumes there. */
  public void opened(Map<TopicPartition, Long> stored) {
    next.putAll(stored);
    committed.putAll(stored);
  }

  /**
   * The stream positions the target holds for partitions (the last change of a keyless table
   * applied from each): a change at or below one was applied already.
   */
  public void appliedAt(Map<TopicPartition, ChangePosition> stored) {
    appliedAt.putAll(stored);
  }

  /**
   * Takes the change at {@code at} from {@code tp} unless a change at or after it was taken
   * (buffered or applied) already: returns false for a change the source sent again. The position
   * is stored with the next write.
   */
  public boolean takeChange(TopicPartition tp, ChangePosition at) {
    ChangePosition last = pendingAt.getOrDefault(tp, appliedAt.get(tp));
    if (!at.after(last)) {
      return false;
    }
    pendingAt.put(tp, at);
    return true;
  }

  /** The stream positions to store with the next write. */
  public Map<TopicPartition, ChangePosition> pendingPositions() {
    return Collections.unmodifiableMap(pendingAt);
  }

  /** Whether the record at {@code offset} of {@code tp} was taken already (buffered or applied). */
  public boolean taken(TopicPartition tp, long offset) {
    Long n = next.get(tp);
    return n != null && offset < n;
  }

  /** Takes the record at {@code offset} of {@code tp}: its offset is stored with the next write. */
  public void take(TopicPartition tp, long offset) {
    next.put(tp, offset + 1);
    pending.put(tp, offset + 1);
    firstPending.putIfAbsent(tp, offset);
  }

  /** Whether nothing was taken since the last write. */
  public boolean nonePending() {
    return pending.isEmpty();
  }

  /** The offset after the last record taken from {@code tp}; null if none was. */
  public Long next(TopicPartition tp) {
    return next.get(tp);
  }

  /** The offsets to store with the next write. */
  public Map<TopicPartition, Long> pending() {
    return Collections.unmodifiableMap(pending);
  }

  /** The offsets stored in the target, as this task last wrote or read them. */
  public Map<TopicPartition, Long> committed() {
    return Collections.unmodifiableMap(committed);
  }

  /** The pending offsets were stored in the target, with the rows. */
  public void written() {
    committed.putAll(pending);
    pending.clear();
    firstPending.clear();
    appliedAt.putAll(pendingAt);
    pendingAt.clear();
  }

  /** {@code tp} is no longer this task's. */
  public void forget(TopicPartition tp) {
    next.remove(tp);
    committed.remove(tp);
    firstPending.remove(tp);
    appliedAt.remove(tp);
    pendingAt.remove(tp);
  }

  /**
   * The partitions this task has taken records from, or read offsets of, since they were opened.
   */
  public Set<TopicPartition> held() {
    Set<TopicPartition> held = new HashSet<>(next.keySet());
    held.addAll(committed.keySet());
    return held;
  }

  /**
   * Forgets everything taken since the last write and goes back, for each of {@code partitions}, to
   * its offset in {@code stored} (what the target holds) or, with none stored, to the first record
   * taken since the last write. Returns the offsets to rewind the consumer to.
   */
  public Map<TopicPartition, Long> restartFrom(
      Map<TopicPartition, Long> stored, Set<TopicPartition> partitions) {
    Map<TopicPartition, Long> rewind = new HashMap<>();
    for (TopicPartition tp : partitions) {
      Long offset = stored.containsKey(tp) ? stored.get(tp) : firstPending.get(tp);
      if (stored.containsKey(tp)) {
        committed.put(tp, offset);
        next.put(tp, offset);
      } else {
        committed.remove(tp);
        next.remove(tp);
      }
      if (offset != null) {
        rewind.put(tp, offset);
      }
    }
    pending.clear();
    firstPending.clear();
    pendingAt.clear();
    return rewind;
  }
}
