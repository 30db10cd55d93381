package io.pgcopy.connect.runner;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgcopy.connect.servers.ConnectRest;
import java.util.ArrayList;
import java.util.List;

/**
 * A connector or task of the embedded worker is FAILED: the command ends at once with its message
 * (from its trace: the pgcopy message naming the table, column or range and the way out) instead of
 * waiting for rows that will not come.
 */
final class TaskFailed extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private TaskFailed(String message) {
    super(message);
  }

  /**
   * Throws when one of {@code connectors} or one of their tasks is FAILED; a connector the worker
   * does not know yet counts as not failed.
   */
  static void check(ConnectRest rest, String... connectors) {
    for (String connector : connectors) {
      try {
        check(connector, rest.status(connector));
      } catch (IllegalStateException notCreatedYet) {
        // GET /connectors/<name>/status answers 404 until the connector exists
      }
    }
  }

  /** Throws when {@code status} (the connector's REST status) says it or a task FAILED. */
  static void check(String connector, JsonNode status) {
    JsonNode c = status.path("connector");
    if ("FAILED".equals(c.path("state").asText())) {
      throw new TaskFailed(connector + " failed: " + message(c.path("trace").asText()));
    }
    for (JsonNode task : status.path("tasks")) {
      if ("FAILED".equals(task.path("state").asText())) {
        throw new TaskFailed(
            connector
                + " task "
                + task.path("id").asInt()
                + " failed: "
                + message(task.path("trace").asText()));
      }
    }
  }

  /**
   * The message that says what went wrong: the trace's first line or, when that is Connect's
   * generic "Exiting WorkerSinkTask ..." or "Tolerance exceeded ...", the first cause's; without
   * the exception class's name.
   */
  static String message(String trace) {
    List<String> candidates = new ArrayList<>();
    trace.lines().findFirst().ifPresent(candidates::add);
    trace
        .lines()
        .map(String::trim)
        .filter(l -> l.startsWith("Caused by: "))
        .map(l -> l.substring("Caused by: ".length()))
        .forEach(candidates::add);
    for (String line : candidates) {
      String m = withoutClassName(line.trim());
      if (!m.startsWith("Exiting WorkerSinkTask") && !m.startsWith("Tolerance exceeded")) {
        return m;
      }
    }
    return candidates.isEmpty() ? "(no message)" : withoutClassName(candidates.get(0).trim());
  }

  private static String withoutClassName(String line) {
    int colon = line.indexOf(": ");
    String head = colon > 0 ? line.substring(0, colon) : line;
    return colon > 0 && head.contains(".") && !head.contains(" ")
        ? line.substring(colon + 2)
        : line;
  }
}
