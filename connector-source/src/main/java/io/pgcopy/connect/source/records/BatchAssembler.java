package io.pgcopy.connect.source.records;

import io.pgcopy.connect.format.RowBatchWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Groups rows read in source order into batches, one open batch per group (a table's key bucket),
 * each completed when the next row would take it past the target size. Pure: no I/O.
 *
 * <p><b>Positions.</b> Rows arrive in source order, each with a position (a ctid, or a change's
 * commit LSN and number). A completed batch is given the position up to which <em>every</em> row
 * read is in a batch completed so far: the position of the row read just before the oldest row
 * still waiting in an open batch, or the last row read when none waits. So the positions of
 * completed batches never go down, and a task restarted from the position of the last batch Kafka
 * acknowledged loses nothing; rows of other groups completed past it are read again (a keyed row
 * sent twice is harmless; a keyless table has one group, so never meets this).
 *
 * @param <K> the group of a batch
 * @param <P> a row's position
 */
public final class BatchAssembler<K, P> {
  private final int targetBytes;
  private final Map<K, Open<P>> open = new LinkedHashMap<>();
  private P last;
  private long rowsRead;

  /**
   * A batch completed: its group, value, rows, position, and the distinct tags of its rows in
   * order.
   */
  public record Completed<K, P>(K group, byte[] value, int rows, P coveredUpTo, long[] tags) {}

  private static final class Open<P> {
    final RowBatchWriter writer;
    P before;
    long firstRow;
    long[] tags = new long[4];
    int tagCount;

    Open(int capacity) {
      writer = new RowBatchWriter(capacity);
    }
  }

  /**
   * @param targetBytes a batch is completed before a row would take it past this size (a single
   *     larger row makes a batch of its own)
   * @param start the position before the first row (null: the very start)
   */
  public BatchAssembler(int targetBytes, P start) {
    this.targetBytes = targetBytes;
    this.last = start;
  }

  /**
   * The writer to append the next row, of {@code rowBytes}, of {@code group} to; a batch of the
   * group that the row would take past the target is completed first, into {@code out}. Call {@link
   * #appended} once the row is written.
   */
  public RowBatchWriter writer(K group, int rowBytes, List<Completed<K, P>> out) {
    Open<P> o = open.get(group);
    if (o == null) {
      o = new Open<>(Math.min(targetBytes, 64 * 1024));
      open.put(group, o);
    }
    if (!o.writer.isEmpty() && o.writer.size() + rowBytes > targetBytes) {
      out.add(complete(group, o));
    }
    if (o.writer.isEmpty()) {
      o.before = last;
      o.firstRow = rowsRead;
      o.tagCount = 0;
    }
    return o.writer;
  }

  /**
   * The row just written to {@code group}'s writer is at {@code position}; {@code tag} (e.g. its
   * transaction) is kept with the batch.
   */
  public void appended(K group, P position, long tag) {
    last = position;
    rowsRead++;
    Open<P> o = open.get(group);
    if (o.tagCount == 0 || o.tags[o.tagCount - 1] != tag) {
      if (o.tagCount == o.tags.length) {
        o.tags = Arrays.copyOf(o.tags, o.tagCount * 2);
      }
      o.tags[o.tagCount++] = tag;
    }
  }

  /** Completes every open batch, oldest first, into {@code out}. */
  public void completeAll(List<Completed<K, P>> out) {
    while (true) {
      K oldest = null;
      long first = Long.MAX_VALUE;
      for (Map.Entry<K, Open<P>> e : open.entrySet()) {
        if (!e.getValue().writer.isEmpty() && e.getValue().firstRow < first) {
          first = e.getValue().firstRow;
          oldest = e.getKey();
        }
      }
      if (oldest == null) {
        return;
      }
      out.add(complete(oldest, open.get(oldest)));
    }
  }

  /**
   * Completes the open batches of the groups {@code which} accepts, oldest first, into {@code out}.
   */
  public void completeGroups(Predicate<K> which, List<Completed<K, P>> out) {
    List<Map.Entry<K, Open<P>>> chosen = new ArrayList<>();
    for (Map.Entry<K, Open<P>> e : open.entrySet()) {
      if (!e.getValue().writer.isEmpty() && which.test(e.getKey())) {
        chosen.add(e);
      }
    }
    chosen.sort((a, b) -> Long.compare(a.getValue().firstRow, b.getValue().firstRow));
    for (Map.Entry<K, Open<P>> e : chosen) {
      out.add(complete(e.getKey(), e.getValue()));
    }
  }

  /** Whether no row waits in an open batch. */
  boolean isEmpty() {
    for (Open<P> o : open.values()) {
      if (!o.writer.isEmpty()) {
        return false;
      }
    }
    return true;
  }

  /** The position of the last row read. */
  P last() {
    return last;
  }

  private Completed<K, P> complete(K group, Open<P> o) {
    byte[] value = o.writer.toByteArray();
    int rows = o.writer.rows();
    long[] tags = Arrays.copyOf(o.tags, o.tagCount);
    o.writer.clear();
    P covered = last;
    long oldest = Long.MAX_VALUE;
    for (Open<P> other : open.values()) {
      if (!other.writer.isEmpty() && other.firstRow < oldest) {
        oldest = other.firstRow;
        covered = other.before;
      }
    }
    return new Completed<>(group, value, rows, covered, tags);
  }
}
