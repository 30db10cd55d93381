package io.pgcopy.connect.common;

import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;

/**
 * How a task retries transient failures (connection lost, server shutting down, too many
 * connections, serialization failure): exponential backoff with jitter, the n-th failure in a row
 * waiting a random time between half and all of {@code min(retry.backoff.max.ms, base * 2^(n-1))},
 * so retries neither hammer a server nor march in step with other tasks'; and a budget: once
 * failures in a row have gone on for {@code retry.timeout.ms}, the task gives up and fails. Not
 * thread-safe.
 */
public final class Retries {
  public static final String RETRY_TIMEOUT_MS_CONFIG = "retry.timeout.ms";
  public static final String RETRY_BACKOFF_MAX_MS_CONFIG = "retry.backoff.max.ms";
  public static final String GROUP = "Retries";

  /** The first wait; each failure in a row doubles it, up to the cap. */
  public static final long BASE_MS = 500;

  private static final String TIMEOUT_DOC =
      "How long a task retries transient failures in a row (connection lost, "
          + "server restarting or shutting down, too many connections, serialization failure) before it fails with the "
          + "last error, which the REST status then shows. -1 retries for ever. Permanent failures (privileges, missing "
          + "tables or types, bad data) fail the task at once.";
  private static final String BACKOFF_DOC =
      "The longest wait between two attempts; waits start at 500 ms and "
          + "double with each failure in a row, with random jitter.";

  private final long baseMs;
  private final long capMs;
  private final long timeoutMs;
  private final LongSupplier clock;
  private int failures;
  private long firstFailureAt;

  public Retries(long baseMs, long capMs, long timeoutMs, LongSupplier clock) {
    this.baseMs = baseMs;
    this.capMs = Math.max(capMs, 1);
    this.timeoutMs = timeoutMs;
    this.clock = clock;
  }

  /** The retries a connector's config asks for. */
  public static Retries of(AbstractConfig config) {
    return new Retries(
        BASE_MS,
        config.getLong(RETRY_BACKOFF_MAX_MS_CONFIG),
        config.getLong(RETRY_TIMEOUT_MS_CONFIG),
        System::currentTimeMillis);
  }

  /** Adds the two settings to {@code def}. */
  public static void define(ConfigDef def) {
    int order = 0;
    def.define(
            RETRY_TIMEOUT_MS_CONFIG,
            Type.LONG,
            600_000L,
            ConfigDef.Range.atLeast(-1),
            Importance.LOW,
            TIMEOUT_DOC,
            GROUP,
            ++order,
            Width.SHORT,
            "Retry timeout (ms)")
        .define(
            RETRY_BACKOFF_MAX_MS_CONFIG,
            Type.LONG,
            30_000L,
            ConfigDef.Range.atLeast(1),
            Importance.LOW,
            BACKOFF_DOC,
            GROUP,
            ++order,
            Width.SHORT,
            "Longest backoff (ms)");
  }

  /**
   * Counts one more failure in a row and returns the wait before the next attempt, or -1 when the
   * failures in a row have lasted {@code retry.timeout.ms}: give up.
   */
  public long nextDelayMs() {
    long now = clock.getAsLong();
    if (failures == 0) {
      firstFailureAt = now;
    } else if (timeoutMs >= 0 && now - firstFailureAt >= timeoutMs) {
      return -1;
    }
    long ceiling = Math.min(capMs, baseMs << Math.min(failures, 20));
    failures++;
    return ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1);
  }

  /** The attempt succeeded: the next failure starts a new run, waiting the base time again. */
  public void succeeded() {
    failures = 0;
  }

  /** Failures in the current run. */
  public int failures() {
    return failures;
  }

  /** What giving up says: how many attempts over how long, and the setting that decides it. */
  public String givingUp() {
    return "gave up after "
        + (failures + 1)
        + " attempts over "
        + (clock.getAsLong() - firstFailureAt) / 1000
        + " s ("
        + RETRY_TIMEOUT_MS_CONFIG
        + "="
        + timeoutMs
        + ")";
  }
}
