package io.pgcopy.connect.it;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;
import org.awaitility.core.ConditionEvaluationListener;
import org.awaitility.core.EvaluatedCondition;
import org.awaitility.core.TimeoutEvent;

/**
 * Where a test class's time goes while it waits: every Awaitility wait that ends (met or timed out)
 * adds its duration under its alias. {@link PipelineExtension} installs one per class and prints
 * the total and the longest waits when the class ends, next to its server start and its whole
 * duration; what is neither is the scenario's own work (SQL, pgbench, REST calls, fixed sleeps).
 */
final class WaitClock implements ConditionEvaluationListener<Object> {
  private final Map<String, Long> millisByAlias = new LinkedHashMap<>();

  @Override
  public synchronized void conditionEvaluated(EvaluatedCondition<Object> condition) {
    if (condition.isSatisfied()) {
      add(condition.getAlias(), condition.getElapsedTimeInMS());
    }
  }

  @Override
  public synchronized void onTimeout(TimeoutEvent timeout) {
    add(timeout.getAlias(), timeout.getElapsedTimeInMS());
  }

  private void add(String alias, long millis) {
    millisByAlias.merge(alias == null ? "(unnamed wait)" : alias, millis, Long::sum);
  }

  /** Seconds spent waiting in total. */
  synchronized double totalSeconds() {
    return millisByAlias.values().stream().mapToLong(Long::longValue).sum() / 1000.0;
  }

  /** The {@code n} longest waits, "alias 12.3 s" joined by commas. */
  synchronized String longest(int n) {
    return millisByAlias.entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .limit(n)
        .map(e -> e.getKey() + " " + String.format("%.1f s", e.getValue() / 1000.0))
        .collect(Collectors.joining(", "));
  }
}
