package io.pgcopy.connect.sink;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.InputFormat;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.common.utils.AppInfoParser;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Strimzi resources under config/strimzi/ apply to the pinned Strimzi release and run: every
 * resource validates against the release's CRD schema (the served version, unknown fields refused
 * as the API server's strict field validation refuses them), the settings the operator forbids in
 * {@code spec.config} are absent, the KafkaConnect runs the Kafka version the project builds with,
 * the connectors carry the settings of config/source.json and config/sink.json apart from the
 * site's values, their passwords resolve from a Secret the Connect pods may read (a Role bound to
 * their service account, no namespace written into the placeholder), and their TLS root certificate
 * is a file the KafkaConnect mounts. (ConfigFilesTest checks the connectors' settings against their
 * ConfigDefs.)
 */
class StrimziResourcesTest {
  private static final String STRIMZI = "1.2.0";
  private static final Path RESOURCES = Path.of("..", "config", "strimzi");
  private static final Path CRDS = Path.of("src", "test", "resources", "strimzi", STRIMZI);
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Connector settings a site edits: the database it reaches and how it logs in. */
  private static final Set<String> SITE_VALUES =
      Set.of("connection.url", "connection.user", "connection.password", "table.include.list");

  private static final Pattern SECRET_REF = Pattern.compile("\\$\\{secrets:([^:}]+):([^:}]+)}");

  private static final List<JsonNode> resources = new ArrayList<>();
  private static final Map<String, Crd> crds = new HashMap<>();

  /** A CRD of the pinned release: its kind, served versions, and the served schema. */
  private record Crd(String kind, Set<String> served, JsonNode schema, JsonSchema validator) {}

  @BeforeAll
  static void load() throws IOException {
    for (String file : List.of("041-Crd-kafkaconnect.yaml", "047-Crd-kafkaconnector.yaml")) {
      JsonNode crd = YAML.readTree(CRDS.resolve(file).toFile());
      Set<String> served = new TreeSet<>();
      JsonNode schema = null;
      for (JsonNode v : crd.path("spec").path("versions")) {
        if (v.path("served").asBoolean()) {
          served.add(crd.path("spec").path("group").asText() + "/" + v.path("name").asText());
          schema = v.path("schema").path("openAPIV3Schema").deepCopy();
        }
      }
      assertThat(schema).as(file + " has a served version").isNotNull();
      refuseUnknownFields(schema);
      JsonSchema validator =
          JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V4)
              .getSchema(JSON.writeValueAsString(schema));
      String kind = crd.path("spec").path("names").path("kind").asText();
      crds.put(kind, new Crd(kind, served, crd, validator));
    }
    try (Stream<Path> files = Files.list(RESOURCES)) {
      for (Path p : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
        try (var parser = YAML.getFactory().createParser(p.toFile())) {
          YAML.readValues(parser, JsonNode.class)
              .forEachRemaining(
                  r -> {
                    ((ObjectNode) r).put("__file", p.getFileName().toString());
                    resources.add(r);
                  });
        }
      }
    }
  }

  /**
   * The API server prunes or, with strict field validation, refuses fields a structural schema does
   * not declare; JSON Schema allows them unless told: every object that lists its properties and
   * does not keep unknown fields gets {@code additionalProperties: false}.
   */
  private static void refuseUnknownFields(JsonNode schema) {
    if (schema.isObject()) {
      ObjectNode o = (ObjectNode) schema;
      if (o.has("properties")
          && !o.path("x-kubernetes-preserve-unknown-fields").asBoolean()
          && !o.has("additionalProperties")) {
        o.put("additionalProperties", false);
      }
      // oneOf, anyOf, allOf and not only constrain values (a structural schema declares its
      // fields outside them): their partial property lists must not refuse the others
      o.fields()
          .forEachRemaining(
              e -> {
                if (!Set.of("oneOf", "anyOf", "allOf", "not").contains(e.getKey())) {
                  refuseUnknownFields(e.getValue());
                }
              });
    } else if (schema.isArray()) {
      schema.elements().forEachRemaining(StrimziResourcesTest::refuseUnknownFields);
    }
  }

  private static List<JsonNode> ofKind(String kind) {
    return resources.stream().filter(r -> kind.equals(r.path("kind").asText())).toList();
  }

  private static String where(JsonNode r) {
    return r.path("__file").asText() + " " + r.path("kind").asText() + " " + r.at("/metadata/name");
  }

  @Test
  void everyStrimziResourceValidatesAgainstThePinnedCrds() throws IOException {
    List<JsonNode> strimzi =
        resources.stream()
            .filter(r -> r.path("apiVersion").asText().startsWith("kafka.strimzi.io/"))
            .toList();
    assertThat(strimzi).extracting(r -> r.path("kind").asText()).contains("KafkaConnect");
    assertThat(strimzi).extracting(r -> r.path("kind").asText()).contains("KafkaConnector");
    for (JsonNode r : strimzi) {
      Crd crd = crds.get(r.path("kind").asText());
      assertThat(crd).as(where(r) + ": a kind of the pinned CRDs").isNotNull();
      assertThat(crd.served())
          .as(where(r) + ": apiVersion served by Strimzi " + STRIMZI)
          .contains(r.path("apiVersion").asText());
      ObjectNode resource = r.deepCopy();
      resource.remove("__file");
      Set<ValidationMessage> errors =
          crd.validator().validate(JSON.writeValueAsString(resource), InputFormat.JSON);
      assertThat(errors).as(where(r) + " against Strimzi " + STRIMZI + "'s CRD").isEmpty();
    }
  }

  /** A description's "cannot be set: a, b, c" list, less its "(with the exception of: ...)". */
  private static List<String> forbidden(JsonNode configSchema, List<String> exceptions) {
    String text = configSchema.path("description").asText();
    Matcher m = Pattern.compile("cannot be set: ([^.]+(?:\\.[^ ][^.]*)*)\\.").matcher(text);
    assertThat(m.find()).as("the CRD names what spec.config cannot hold: " + text).isTrue();
    Matcher except = Pattern.compile("with the exception of: ([^)]+)\\)").matcher(text);
    if (except.find()) {
      for (String e : except.group(1).split(",")) {
        exceptions.add(e.trim());
      }
    }
    List<String> keys = new ArrayList<>();
    for (String k : m.group(1).split(",")) {
      keys.add(k.trim());
    }
    return keys;
  }

  private static JsonNode configSchema(String kind) {
    return crds.get(kind)
        .schema()
        .path("spec")
        .path("versions")
        .findValue("openAPIV3Schema")
        .at("/properties/spec/properties/config");
  }

  @Test
  void specConfigHoldsNothingTheOperatorForbids() {
    for (String kind : List.of("KafkaConnect", "KafkaConnector")) {
      List<String> allowed = new ArrayList<>();
      List<String> forbidden = forbidden(configSchema(kind), allowed);
      assertThat(forbidden).as(kind + " forbidden config").isNotEmpty();
      for (JsonNode r : ofKind(kind)) {
        r.path("spec")
            .path("config")
            .fieldNames()
            .forEachRemaining(
                key ->
                    assertThat(
                            allowed.contains(key)
                                || forbidden.stream()
                                    .noneMatch(f -> key.equals(f) || key.startsWith(f)))
                        .as(
                            where(r)
                                + ": spec.config."
                                + key
                                + " is set by the operator or a spec field")
                        .isTrue());
      }
    }
  }

  @Test
  void theConnectClusterRunsTheTestedKafkaWithExactlyOnceAndTheSecretProvider() {
    List<JsonNode> connects = ofKind("KafkaConnect");
    assertThat(connects).hasSize(1);
    JsonNode spec = connects.get(0).path("spec");
    assertThat(spec.path("version").asText())
        .as("spec.version: the Kafka the project is built and tested with")
        .isEqualTo(AppInfoParser.getVersion());
    JsonNode config = spec.path("config");
    assertThat(config.path("exactly.once.source.support").asText()).isEqualTo("enabled");
    assertThat(config.path("config.providers").asText().split(",")).contains("secrets");
    assertThat(config.path("config.providers.secrets.class").asText())
        .isEqualTo("io.strimzi.kafka.KubernetesSecretConfigProvider");
  }

  @Test
  void connectorsCarryTheShippedSettingsAndResolveTheirSecretsAndCa() throws IOException {
    JsonNode connect = ofKind("KafkaConnect").get(0);
    String cluster = connect.at("/metadata/name").asText();
    Map<String, String> secretMounts = secretMounts(connect);
    Set<String> readable = secretsReadableBy(cluster + "-connect");
    List<JsonNode> connectors = ofKind("KafkaConnector");
    assertThat(connectors).hasSize(2);
    for (JsonNode r : connectors) {
      assertThat(r.at("/metadata/labels/strimzi.io~1cluster").asText())
          .as(where(r) + " runs on the KafkaConnect")
          .isEqualTo(cluster);
      JsonNode spec = r.path("spec");
      boolean source = spec.path("class").asText().endsWith("PgCopySourceConnector");
      JsonNode shipped =
          JSON.readTree(
                  RESOURCES.resolve("..").resolve(source ? "source.json" : "sink.json").toFile())
              .path("config");
      Map<String, String> expected = new HashMap<>();
      shipped.fields().forEachRemaining(e -> expected.put(e.getKey(), e.getValue().asText()));
      Map<String, String> actual = new HashMap<>();
      spec.path("config")
          .fields()
          .forEachRemaining(e -> actual.put(e.getKey(), e.getValue().asText()));
      actual.put("connector.class", spec.path("class").asText());
      actual.put("tasks.max", spec.path("tasksMax").asText());
      assertThat(actual.keySet()).as(where(r) + " settings").isEqualTo(expected.keySet());
      for (var e : expected.entrySet()) {
        if (!SITE_VALUES.contains(e.getKey())) {
          assertThat(actual.get(e.getKey()))
              .as(where(r) + ": " + e.getKey() + " as in the shipped JSON")
              .isEqualTo(e.getValue());
        }
      }
      Matcher secret = SECRET_REF.matcher(actual.get("connection.password"));
      assertThat(secret.matches())
          .as(where(r) + ": connection.password is ${secrets:<secret>:<key>}")
          .isTrue();
      assertThat(secret.group(1))
          .as(where(r) + ": the Secret's name alone, read in the pods' own namespace")
          .doesNotContain("/");
      assertThat(readable)
          .as(where(r) + ": a Role bound to " + cluster + "-connect lets it read the Secret")
          .contains(secret.group(1));
      String url = actual.get("connection.url");
      assertThat(url).as(where(r)).contains("sslmode=verify-full");
      Matcher root = Pattern.compile("[?&]sslrootcert=([^&]+)").matcher(url);
      assertThat(root.find()).as(where(r) + ": names its CA file (sslrootcert)").isTrue();
      assertThat(secretMounts.keySet())
          .as(where(r) + ": " + root.group(1) + " lies in a Secret the KafkaConnect mounts")
          .anyMatch(mount -> root.group(1).startsWith(mount + "/"));
    }
  }

  /** Mount path to Secret name, for the Connect container's volumes that come from Secrets. */
  private static Map<String, String> secretMounts(JsonNode connect) {
    JsonNode template = connect.at("/spec/template");
    Map<String, String> secretOfVolume = new HashMap<>();
    for (JsonNode v : template.at("/pod/volumes")) {
      if (v.has("secret")) {
        secretOfVolume.put(v.path("name").asText(), v.at("/secret/secretName").asText());
      }
    }
    Map<String, String> mounts = new HashMap<>();
    for (JsonNode m : template.at("/connectContainer/volumeMounts")) {
      String secret = secretOfVolume.get(m.path("name").asText());
      if (secret != null) {
        mounts.put(m.path("mountPath").asText().replaceAll("/$", ""), secret);
      }
    }
    return mounts;
  }

  /** The Secrets that Roles bound to the service account allow it to get. */
  private static Set<String> secretsReadableBy(String serviceAccount) {
    Set<String> roles = new TreeSet<>();
    for (JsonNode b : ofKind("RoleBinding")) {
      for (JsonNode s : b.path("subjects")) {
        if ("ServiceAccount".equals(s.path("kind").asText())
            && serviceAccount.equals(s.path("name").asText())
            && !s.has("namespace")
            && "Role".equals(b.at("/roleRef/kind").asText())) {
          roles.add(b.at("/roleRef/name").asText());
        }
      }
    }
    Set<String> secrets = new TreeSet<>();
    for (JsonNode role : ofKind("Role")) {
      assertThat(role.at("/metadata/namespace").isMissingNode())
          .as(where(role) + ": no namespace written in; applied where the cluster runs")
          .isTrue();
      if (!roles.contains(role.at("/metadata/name").asText())) {
        continue;
      }
      for (JsonNode rule : role.path("rules")) {
        boolean secretsRule =
            contains(rule.path("apiGroups"), "")
                && contains(rule.path("resources"), "secrets")
                && contains(rule.path("verbs"), "get");
        if (secretsRule) {
          rule.path("resourceNames").forEach(n -> secrets.add(n.asText()));
        }
      }
    }
    return secrets;
  }

  private static boolean contains(JsonNode array, String value) {
    for (JsonNode n : array) {
      if (value.equals(n.asText())) {
        return true;
      }
    }
    return false;
  }
}
