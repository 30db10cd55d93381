package io.pgcopy.connect.source.stream;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The exactly-once core of the change stream: which source transactions were seen, how many of
 * their records Kafka has yet to acknowledge, and so up to which LSN the slot may be confirmed.
 * Pure: no I/O. {@link #acknowledged(long)} may be called from any thread (Connect's {@code
 * commitRecord}); every other method from the task's thread.
 *
 * <p>A transaction is confirmable once its commit was seen and every record built from it was
 * acknowledged, and only after every transaction committed before it. After a reconnect the server
 * sends every unconfirmed transaction again: a commit seen before it counts only once it is seen
 * again ({@link #reconnected()}), so a transaction whose records were dropped with a failed poll
 * cannot be confirmed before they are sent again.
 */
final class PendingTransactions {
  /** Transactions seen, in commit order, until confirmed. */
  private final ArrayDeque<Tx> inOrder = new ArrayDeque<>();

  private final Map<Long, Tx> byCommitLsn = new ConcurrentHashMap<>();

  /** A source transaction: its records in flight and whether its commit was seen. */
  static final class Tx {
    final long commitLsn;
    private final AtomicInteger outstanding = new AtomicInteger();
    private volatile long endLsn;
    private volatile boolean committed;

    /** Changes of this transaction numbered so far in the current pass over it. */
    long seq;

    long commitTimeMicros;

    private Tx(long commitLsn) {
      this.commitLsn = commitLsn;
    }

    /** A record of this transaction was handed to Connect. */
    void sent() {
      outstanding.incrementAndGet();
    }

    /**
     * Its commit was seen; the slot may move to {@code endLsn} once every record is acknowledged.
     */
    void committed(long endLsn) {
      this.endLsn = endLsn;
      this.committed = true;
    }

    int outstanding() {
      return outstanding.get();
    }

    boolean commitSeen() {
      return committed;
    }
  }

  /**
   * The transaction committed at {@code commitLsn} begins (again): the same object when it is sent
   * again after a reconnect, with its numbering of changes restarted.
   */
  Tx begin(long commitLsn) {
    Tx tx = byCommitLsn.get(commitLsn);
    if (tx == null) {
      tx = new Tx(commitLsn);
      byCommitLsn.put(commitLsn, tx);
      inOrder.add(tx);
    }
    tx.seq = 0;
    return tx;
  }

  /**
   * A record holding changes of the transaction committed at {@code commitLsn} was handed to
   * Connect.
   */
  void sent(long commitLsn) {
    Tx tx = byCommitLsn.get(commitLsn);
    if (tx != null) {
      tx.sent();
    }
  }

  /**
   * Kafka acknowledged (or will never get) one record of the transaction committed at {@code
   * commitLsn}.
   */
  void acknowledged(long commitLsn) {
    Tx tx = byCommitLsn.get(commitLsn);
    if (tx != null) {
      tx.outstanding.decrementAndGet();
    }
  }

  /**
   * Forgets the transactions that are done and returns the LSN the slot may be confirmed up to: the
   * end of the last done transaction, at least {@code confirmed}.
   */
  long confirmable(long confirmed) {
    long to = confirmed;
    while (!inOrder.isEmpty()) {
      Tx head = inOrder.peek();
      if (!head.committed || head.outstanding.get() > 0) {
        break;
      }
      if (Long.compareUnsigned(head.endLsn, to) > 0) {
        to = head.endLsn;
      }
      inOrder.poll();
      byCommitLsn.remove(head.commitLsn);
    }
    return to;
  }

  /**
   * The connection was lost: commits seen so far count again only when the server sends them again.
   */
  void reconnected() {
    inOrder.forEach(tx -> tx.committed = false);
  }

  boolean isEmpty() {
    return inOrder.isEmpty();
  }

  /** The oldest transaction not yet confirmable, or null. */
  Tx oldest() {
    return inOrder.peek();
  }
}
