package io.pgcopy.connect.servers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The Kafka Connect REST API, as a user drives it. */
public final class ConnectRest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final String base;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  public ConnectRest(String base) {
    this.base = base;
  }

  public String get(String path) {
    return call("GET", path, null, 200);
  }

  public JsonNode getJson(String path) {
    return parse(get(path));
  }

  /** PUT /connectors/{name}/config: creates or updates a connector. */
  public void putConnector(String name, Map<String, String> config) {
    call("PUT", "/connectors/" + enc(name) + "/config", write(config), -1);
  }

  public void deleteConnector(String name) {
    call("DELETE", "/connectors/" + enc(name), null, -1);
  }

  public JsonNode status(String name) {
    return getJson("/connectors/" + enc(name) + "/status");
  }

  public void restartTask(String name, int task) {
    call("POST", "/connectors/" + enc(name) + "/tasks/" + task + "/restart", null, -1);
  }

  /**
   * POST /connectors/{name}/restart?includeTasks=true: the connector and all its tasks, as an
   * operator would.
   */
  public void restartConnector(String name) {
    call("POST", "/connectors/" + enc(name) + "/restart?includeTasks=true", null, -1);
  }

  /** PUT /connectors/{name}/pause: the connector's tasks stop polling until resumed. */
  public void pause(String name) {
    call("PUT", "/connectors/" + enc(name) + "/pause", null, -1);
  }

  /** PUT /connectors/{name}/resume. */
  public void resume(String name) {
    call("PUT", "/connectors/" + enc(name) + "/resume", null, -1);
  }

  /** PUT /connectors/{name}/stop: no tasks, offsets may then be altered or reset. */
  public void stop(String name) {
    call("PUT", "/connectors/" + enc(name) + "/stop", null, -1);
  }

  /** PATCH /connectors/{name}/offsets with {"offsets": [...]} (a stopped connector). */
  public JsonNode alterOffsets(String name, List<Map<String, Object>> offsets) {
    return parse(
        call(
            "PATCH",
            "/connectors/" + enc(name) + "/offsets",
            write(Map.of("offsets", offsets)),
            -1));
  }

  /** DELETE /connectors/{name}/offsets (a stopped connector). */
  public JsonNode resetOffsets(String name) {
    return parse(call("DELETE", "/connectors/" + enc(name) + "/offsets", null, -1));
  }

  /** GET /connectors/{name}/offsets. */
  public JsonNode offsets(String name) {
    return getJson("/connectors/" + enc(name) + "/offsets");
  }

  /** PUT /connector-plugins/{class}/config/validate. */
  public JsonNode validate(String connectorClass, Map<String, String> config) {
    String simple = connectorClass.substring(connectorClass.lastIndexOf('.') + 1);
    return parse(
        call("PUT", "/connector-plugins/" + simple + "/config/validate", write(config), 200));
  }

  private String call(String method, String path, String body, int expected) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + path))
            .timeout(Duration.ofSeconds(120))
            .header("Content-Type", "application/json")
            .header("Accept", "application/json");
    b.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    try {
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      boolean ok = expected < 0 ? r.statusCode() / 100 == 2 : r.statusCode() == expected;
      if (!ok) {
        throw new IllegalStateException(
            method + " " + path + " answered " + r.statusCode() + ": " + r.body());
      }
      return r.body();
    } catch (IOException e) {
      throw new UncheckedIOException(method + " " + base + path, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static String write(Object o) {
    try {
      return JSON.writeValueAsString(o);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static JsonNode parse(String s) {
    try {
      return JSON.readTree(s);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
