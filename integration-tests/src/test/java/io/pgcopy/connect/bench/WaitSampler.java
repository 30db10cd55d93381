package io.pgcopy.connect.bench;

import java.sql.Connection;
import java.sql.ResultSet;
import java.util.Map;
import java.util.TreeMap;

/**
 * What PostgreSQL's processes of one kind are doing, sampled from {@code pg_stat_activity} every 50
 * ms while a phase runs: per process kind (walsender, apply worker, the sink's sessions in a
 * database), how often each was on the CPU ({@code wait_event} null) or waiting, and on what
 * ({@code WalSenderWriteData}: the client does not read; {@code WalSenderWaitForWAL}: nothing new
 * to decode; {@code ClientRead}: the session waits for its client's next statement).
 */
final class WaitSampler implements AutoCloseable {
  private static final String QUERY =
      "SELECT CASE WHEN backend_type = 'walsender' THEN 'walsender'"
          + " WHEN backend_type = 'logical replication worker' THEN 'apply worker'"
          + " ELSE 'sessions of ' || datname END,"
          + " coalesce(wait_event_type || ':' || wait_event, 'on CPU')"
          + " FROM pg_stat_activity"
          + " WHERE pid <> pg_backend_pid() AND (backend_type IN ('walsender', 'logical replication worker')"
          + " OR (backend_type = 'client backend' AND datname = ? AND application_name LIKE 'pgcopy%'))";

  private final Map<String, Map<String, Integer>> counts = new TreeMap<>();
  private final Thread thread;
  private volatile boolean running = true;

  /**
   * Starts sampling through {@code connections} (one per server), the client sessions of database
   * {@code db} among them.
   */
  WaitSampler(String db, Connection... connections) {
    thread =
        new Thread(
            () -> {
              while (running) {
                for (Connection c : connections) {
                  sample(c, db);
                }
                try {
                  Thread.sleep(50);
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "wait-sampler");
    thread.setDaemon(true);
    thread.start();
  }

  private void sample(Connection c, String db) {
    try (var st = c.prepareStatement(QUERY)) {
      st.setString(1, db);
      try (ResultSet rs = st.executeQuery()) {
        synchronized (counts) {
          while (rs.next()) {
            counts
                .computeIfAbsent(rs.getString(1), k -> new TreeMap<>())
                .merge(rs.getString(2), 1, Integer::sum);
          }
        }
      }
    } catch (Exception e) {
      // a sample lost: the next one counts
    }
  }

  /** Stops sampling. */
  @Override
  public void close() throws InterruptedException {
    running = false;
    thread.join(5000);
  }

  /** Per kind of process, the share of samples in each state, largest first. */
  String summary() {
    StringBuilder out = new StringBuilder();
    synchronized (counts) {
      counts.forEach(
          (kind, states) -> {
            int total = states.values().stream().mapToInt(Integer::intValue).sum();
            out.append(kind).append(": ");
            states.entrySet().stream()
                .sorted((a, b) -> b.getValue() - a.getValue())
                .limit(4)
                .forEach(
                    e ->
                        out.append(
                            String.format(
                                "%s %.0f%%, ", e.getKey(), 100.0 * e.getValue() / total)));
            out.setLength(out.length() - 2);
            out.append("; ");
          });
    }
    return out.length() > 2 ? out.substring(0, out.length() - 2) : "";
  }
}
