package io.pgcopy.connect.sink.truncate;

import io.pgcopy.connect.sink.offsets.PartitionOffsets;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkTaskContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A sink task's partitions stopped at a keyed table's truncate until every bucket's entry of it has
 * arrived ({@link TruncateBarrier} records the arrivals): which partition waits at which truncate,
 * which of them this task paused, and the rewind that lets them flow again once it is done.
 */
public final class TruncateWaits {
  private static final Logger log = LoggerFactory.getLogger(TruncateWaits.class);

  /** How often partitions waiting at a truncate look whether it is done. */
  public static final long CHECK_EVERY_MS = 200;

  private final String name;
  private final SinkTaskContext context;
  private final Map<TopicPartition, TruncateBarrier.Truncate> waiting = new HashMap<>();

  /** Partitions waiting at a truncate that this task paused (see pauseAfterEntries). */
  private final Set<TopicPartition> paused = new HashSet<>();

  private long lastCheck;

  public TruncateWaits(String name, SinkTaskContext context) {
    this.name = name;
    this.context = context;
  }

  /** Whether any partition waits. */
  public boolean any() {
    return !waiting.isEmpty();
  }

  /** The truncate {@code tp} waits at, or null. */
  public TruncateBarrier.Truncate stoppedAt(TopicPartition tp) {
    return waiting.get(tp);
  }

  /** Partitions found waiting when they were assigned (their arrivals stored in the target). */
  public void found(Map<TopicPartition, TruncateBarrier.Truncate> stopped) {
    if (!stopped.isEmpty()) {
      log.info(
          "{}: {} wait for truncates whose other buckets have not arrived yet: {}",
          name,
          stopped.keySet(),
          stopped.values());
      waiting.putAll(stopped);
    }
  }

  /** {@code tp} brought its entry of {@code truncate}, whose other buckets have not all arrived. */
  public void waitAt(TopicPartition tp, TruncateBarrier.Truncate truncate) {
    if (waiting.put(tp, truncate) == null) {
      log.info(
          "{}: {} waits at a truncate of {} for the entries of other buckets",
          name,
          tp,
          truncate.target());
    }
  }

  /**
   * Pauses a partition waiting at a truncate once a record past that truncate's entries shows up:
   * not at its first entry, since more entries of the same truncate (other buckets) may follow in
   * the partition, in a later poll, and the barrier needs them all. Records past the entries are
   * skipped until the truncate is done, then consumed again from where the partition stopped.
   */
  public void pauseAfterEntries(TopicPartition tp) {
    if (paused.add(tp)) {
      context.pause(tp);
    }
  }

  /**
   * The truncates waited at, when {@link #CHECK_EVERY_MS} has passed since the last look; none
   * otherwise.
   */
  public Collection<TruncateBarrier.Truncate> due() {
    long now = System.currentTimeMillis();
    if (waiting.isEmpty() || now - lastCheck < CHECK_EVERY_MS) {
      return List.of();
    }
    lastCheck = now;
    return List.copyOf(waiting.values());
  }

  /**
   * The partitions waiting at {@code truncate}, which is done, are consumed again from the record
   * after their entry ({@code offsets} knows the next offset of each).
   */
  public void release(TruncateBarrier.Truncate truncate, PartitionOffsets offsets) {
    Map<TopicPartition, Long> rewind = new HashMap<>();
    waiting
        .entrySet()
        .removeIf(
            e -> {
              if (e.getValue().equals(truncate)) {
                rewind.put(e.getKey(), offsets.next(e.getKey()));
                return true;
              }
              return false;
            });
    rewind.values().removeIf(Objects::isNull);
    if (!rewind.isEmpty()) {
      log.info(
          "{}: truncate of {} done; consuming {} again", name, truncate.target(), rewind.keySet());
      context.offset(rewind);
      paused.removeAll(rewind.keySet());
      context.resume(rewind.keySet().toArray(new TopicPartition[0]));
    }
  }

  /** {@code tp} is no longer this task's. */
  public void forget(TopicPartition tp) {
    paused.remove(tp);
    waiting.remove(tp);
  }
}
