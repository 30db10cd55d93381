package io.pgcopy.connect.runner;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgcopy.connect.servers.ConnectRest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What the user gave cannot work (a server that does not answer, a missing table, a wrong or
 * missing password, ...): the command ends with one line per problem, as the connectors' own {@code
 * validate()} words it on the setting concerned, before anything is copied.
 */
final class BadInput extends RuntimeException {
  private static final long serialVersionUID = 1L;

  BadInput(String message) {
    super(message);
  }

  /**
   * The errors the connector's {@code validate()} finds in {@code config}, through the worker's
   * REST API (as {@code PUT .../config/validate}), each as "{@code what} setting: message".
   */
  static List<String> problems(
      ConnectRest rest, String connectorClass, Map<String, String> config, String what) {
    JsonNode answer = rest.validate(connectorClass, config);
    List<String> problems = new ArrayList<>();
    for (JsonNode c : answer.path("configs")) {
      JsonNode value = c.path("value");
      for (JsonNode error : value.path("errors")) {
        problems.add(what + " " + value.path("name").asText() + ": " + error.asText());
      }
    }
    return problems;
  }

  /** Throws with every problem, one line each, when there is any. */
  static void throwIfAny(List<String> problems) {
    if (!problems.isEmpty()) {
      throw new BadInput(String.join(System.lineSeparator() + "pgcopy: ", problems));
    }
  }
}
