package io.pgcopy.connect.servers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;

/**
 * The connector configurations under {@code config/} as shipped, for the runner, the benchmarks and
 * the tests to start from: what they post is what a user posts, apart from addresses and names.
 */
public final class ShippedConfig {
  private ShippedConfig() {}

  /**
   * The config object of a REST payload in config/ (for example "source.json"), with its "name".
   */
  public static Map<String, String> connector(String file) {
    try {
      JsonNode root = new ObjectMapper().readTree(ServerPaths.configDir().resolve(file).toFile());
      Map<String, String> config = new HashMap<>();
      root.get("config")
          .fields()
          .forEachRemaining(e -> config.put(e.getKey(), e.getValue().asText()));
      config.put("name", root.get("name").asText());
      return config;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * {@link #connector} pointed at a database, without its name (the REST path names it): URL and
   * user replaced, the password set or (when null) removed with the shipped secret reference.
   */
  public static Map<String, String> connector(
      String file, String url, String user, String password) {
    Map<String, String> config = connector(file);
    config.remove("name");
    config.put("connection.url", url);
    config.put("connection.user", user);
    if (password == null) {
      config.remove("connection.password");
    } else {
      config.put("connection.password", password);
    }
    return config;
  }
}
