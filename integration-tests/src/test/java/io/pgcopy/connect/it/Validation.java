package io.pgcopy.connect.it;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** Reads the answer of PUT /connector-plugins/{class}/config/validate. */
final class Validation {
  private Validation() {}

  /** Every error, as "field: message". */
  static List<String> errors(JsonNode answer) {
    List<String> all = new ArrayList<>();
    for (JsonNode c : answer.path("configs")) {
      for (JsonNode e : c.path("value").path("errors")) {
        all.add(c.path("value").path("name").asText() + ": " + e.asText());
      }
    }
    return all;
  }

  static List<String> errorsOf(JsonNode answer, String field) {
    List<String> found = new ArrayList<>();
    for (JsonNode c : answer.path("configs")) {
      if (field.equals(c.path("value").path("name").asText())) {
        c.path("value").path("errors").forEach(e -> found.add(e.asText()));
      }
    }
    return found;
  }
}
