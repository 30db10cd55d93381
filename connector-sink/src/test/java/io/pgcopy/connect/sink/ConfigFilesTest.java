package io.pgcopy.connect.sink;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.pgcopy.connect.sink.config.PgCopySinkConfig;
import io.pgcopy.connect.source.config.PgCopySourceConfig;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigValue;
import org.junit.jupiter.api.Test;

/**
 * The ready-to-use files under config/ parse, and every connector configuration in them (REST
 * payloads, compose payloads, Strimzi KafkaConnector resources) passes the connector's own
 * ConfigDef with no key it does not know, so a typo there fails the build.
 */
class ConfigFilesTest {
  private static final Path CONFIG = Path.of("..", "config");
  private static final String SOURCE = "io.pgcopy.connect.source.PgCopySourceConnector";
  private static final String SINK = "io.pgcopy.connect.sink.PgCopySinkConnector";
  private static final List<String> CONNECT_KEYS =
      List.of(
          "name",
          "connector.class",
          "tasks.max",
          "topics",
          "topics.regex",
          "key.converter",
          "value.converter",
          "header.converter",
          "transforms",
          "predicates",
          "exactly.once.support",
          "transaction.boundary");
  private static final String JSON = "org.apache.kafka.connect.json.JsonConverter";
  private static final String BYTE_ARRAY = "org.apache.kafka.connect.converters.ByteArrayConverter";
  private static final List<String> WORKER_KEYS =
      List.of(
          "bootstrap.servers",
          "group.id",
          "listeners",
          "plugin.path",
          "plugin.discovery",
          "exactly.once.source.support",
          "key.converter",
          "value.converter");
  private static final List<String> WORKER_PREFIXES =
      List.of("offset.storage.", "config.storage.", "status.storage.", "config.providers");
  private static final List<String> CONNECT_PREFIXES =
      List.of(
          "producer.override.",
          "consumer.override.",
          "admin.override.",
          "errors.",
          "transforms.",
          "predicates.",
          "topic.creation.",
          "key.converter.",
          "value.converter.",
          "header.converter.");

  private static List<Path> files(String glob) throws IOException {
    try (Stream<Path> s = Files.walk(CONFIG)) {
      var matcher = CONFIG.getFileSystem().getPathMatcher("glob:" + glob);
      return s.filter(p -> matcher.matches(p.getFileName())).sorted().toList();
    }
  }

  @Test
  void connectorConfigsInJsonAndYamlPassTheConnectorsConfigDefs() throws IOException {
    List<String> checked = new ArrayList<>();
    ObjectMapper json = new ObjectMapper();
    for (Path p : files("*.json")) {
      JsonNode root = json.readTree(p.toFile());
      JsonNode config = root.has("config") ? root.get("config") : root;
      check(p, config.path("connector.class").asText(), toMap(config));
      checked.add(p.getFileName().toString());
    }
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    for (Path p : files("*.yaml")) {
      List<JsonNode> documents = new ArrayList<>();
      try (var parser = yaml.getFactory().createParser(p.toFile())) {
        yaml.readValues(parser, JsonNode.class).forEachRemaining(documents::add);
      }
      for (JsonNode root : documents) {
        String kind = root.path("kind").asText();
        if ("KafkaConnector".equals(kind)) {
          Map<String, String> config = toMap(root.path("spec").path("config"));
          config.put("tasks.max", root.path("spec").path("tasksMax").asText());
          check(p, root.path("spec").path("class").asText(), config);
          checked.add(p.getFileName().toString());
        } else if ("KafkaConnect".equals(kind)) {
          assertWorkerSettings(p, toMap(root.path("spec").path("config")));
        } else {
          // what the Connect pods need besides (RBAC): StrimziResourcesTest checks it
          assertThat(root.path("apiVersion").asText())
              .as(p + " " + kind)
              .startsWith("rbac.authorization.k8s.io/");
        }
      }
    }
    assertThat(checked)
        .contains(
            "source.json",
            "sink.json",
            "source-struct.json",
            "sink-struct.json",
            "source-initial-load.json",
            "source-connector.yaml",
            "sink-connector.yaml");
  }

  @Test
  void distributedWorkerFilesHoldOnlyWorkerLevelSettings() throws IOException {
    List<Path> workers = files("connect-distributed.properties");
    assertThat(workers).hasSizeGreaterThanOrEqualTo(2);
    for (Path p : workers) {
      assertWorkerSettings(p, properties(p));
    }
  }

  @Test
  void standaloneWorkerCarriesTheConvertersItsPropertiesConnectorsNeed() throws IOException {
    Path p = CONFIG.resolve("connect-standalone.properties");
    Map<String, String> worker = properties(p);
    for (String c : List.of("key.converter", "value.converter", "header.converter")) {
      assertThat(worker.get(c)).as(p + " " + c).isEqualTo(BYTE_ARRAY);
    }
  }

  private static Map<String, String> properties(Path p) throws IOException {
    Properties props = new Properties();
    try (Reader r = Files.newBufferedReader(p)) {
      props.load(r);
    }
    Map<String, String> m = new HashMap<>();
    props.forEach((k, v) -> m.put(k.toString(), v.toString()));
    return m;
  }

  /**
   * A distributed worker (properties or Strimzi) sets what only a worker can: no converters or
   * client settings, which the shipped connector configs carry so they run on any worker.
   */
  private static void assertWorkerSettings(Path p, Map<String, String> worker) {
    assertThat(worker.get("plugin.discovery"))
        .as(p + " plugin.discovery")
        .isEqualTo("service_load");
    assertThat(worker.get("exactly.once.source.support"))
        .as(p + " exactly.once.source.support")
        .isEqualTo("enabled");
    // a worker must name default converters: Kafka's own file's, so the connectors' settings are
    // what works
    for (String c : List.of("key.converter", "value.converter")) {
      assertThat(worker.getOrDefault(c, JSON)).as(p + " " + c).isEqualTo(JSON);
    }
    for (String key : worker.keySet()) {
      assertThat(WORKER_KEYS.contains(key) || WORKER_PREFIXES.stream().anyMatch(key::startsWith))
          .as(p + ": " + key + " belongs in the connector configs, not the worker")
          .isTrue();
    }
  }

  /** What a connector config needs to run as shipped on a worker left at Kafka's defaults. */
  private static void assertRunsOnADefaultWorker(
      Path file, String connectorClass, Map<String, String> config) {
    boolean struct =
        "struct".equals(config.get("record.format"))
            || file.getFileName().toString().contains("struct");
    assertThat(config.get("header.converter")).as(file + " header.converter").isEqualTo(BYTE_ARRAY);
    for (String c : List.of("key.converter", "value.converter")) {
      assertThat(config.get(c)).as(file + " " + c).isEqualTo(struct ? JSON : BYTE_ARRAY);
    }
    if (SOURCE.equals(connectorClass)) {
      assertThat(config.get("exactly.once.support"))
          .as(file + " exactly.once.support")
          .isEqualTo("required");
      assertThat(config.get("producer.override.compression.type"))
          .as(file + " compression")
          .isEqualTo("lz4");
      assertThat(config.get("topic.creation.default.partitions"))
          .as(file + " partitions")
          .isEqualTo("4");
      assertThat(config.get("topic.creation.default.replication.factor"))
          .as(file + " replication factor")
          .isEqualTo("-1");
    } else {
      assertThat(config.get("consumer.override.isolation.level"))
          .as(file + " isolation")
          .isEqualTo("read_committed");
      assertThat(config.get("consumer.override.metadata.max.age.ms"))
          .as(file + " topic discovery")
          .isEqualTo("5000");
    }
  }

  private static Map<String, String> toMap(JsonNode config) {
    Map<String, String> m = new HashMap<>();
    config.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().asText()));
    return m;
  }

  private static void check(Path file, String connectorClass, Map<String, String> config) {
    ConfigDef def;
    if (SOURCE.equals(connectorClass)) {
      def = PgCopySourceConfig.CONFIG_DEF;
    } else if (SINK.equals(connectorClass)) {
      def = PgCopySinkConfig.CONFIG_DEF;
    } else {
      throw new AssertionError(file + ": unknown connector.class " + connectorClass);
    }
    for (String key : config.keySet()) {
      boolean known =
          def.names().contains(key)
              || CONNECT_KEYS.contains(key)
              || CONNECT_PREFIXES.stream().anyMatch(key::startsWith);
      assertThat(known)
          .as(file + ": key " + key + " is not a setting of " + connectorClass)
          .isTrue();
    }
    for (ConfigValue v : def.validate(config)) {
      assertThat(v.errorMessages()).as(file + ": " + v.name()).isEmpty();
    }
    assertRunsOnADefaultWorker(file, connectorClass, config);
  }
}
