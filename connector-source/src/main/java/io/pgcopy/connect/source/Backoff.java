package io.pgcopy.connect.source;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with full jitter between retries of a failing operation: the n-th failure
 * in a row waits a random time up to {@code min(cap, base * 2^(n-1))}, at least half of it, so
 * retries neither hammer a server nor march in step with other tasks'. Not thread-safe.
 */
final class Backoff {
  private final long baseMs;
  private final long capMs;
  private int failures;

  Backoff(long baseMs, long capMs) {
    this.baseMs = baseMs;
    this.capMs = capMs;
  }

  /** The wait before the next attempt, counting one more failure in a row. */
  long nextDelayMs() {
    long ceiling = Math.min(capMs, baseMs << Math.min(failures, 20));
    failures++;
    return ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1);
  }

  /** The operation succeeded: the next failure waits the base time again. */
  void succeeded() {
    failures = 0;
  }
}
