package io.pgcopy.connect.release;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/**
 * The release archive the build makes is the one config/strimzi/ downloads: named as the
 * KafkaConnect's build section says, laid out as Confluent Hub's component archives are ({@code
 * <owner>-<name>-<version>/manifest.json} with the manifest's owner, name and version), with both
 * connectors' jars, and with a {@code .sha512} that is the archive's SHA-512. Runs after the
 * connect-plugin module packaged it.
 */
class ReleaseArchiveTest {
  private static final Path TARGET = Path.of("..", "connect-plugin", "target");
  private static final Path CONNECT = Path.of("..", "config", "strimzi", "kafka-connect.yaml");
  private static final List<String> COMPONENT_TYPES =
      List.of("source", "sink", "transform", "converter");

  @Test
  void theArchiveStrimziDownloadsIsBuiltWithItsChecksumAndHubLayout() throws Exception {
    String yaml = Files.readString(CONNECT);
    Matcher url = Pattern.compile("(?m)^\\s+url: \\S+/([^/\\s]+\\.zip)").matcher(yaml);
    assertThat(url.find()).as(CONNECT + " names the plugin archive").isTrue();
    String name = url.group(1);
    Path archive = TARGET.resolve(name);
    assertThat(archive).as("the build makes the archive " + CONNECT + " downloads").exists();

    Path checksum = TARGET.resolve(name + ".sha512");
    assertThat(checksum).exists();
    String sha512 = sha512(archive);
    assertThat(Files.readString(checksum).trim()).as(checksum.toString()).isEqualTo(sha512);
    Matcher sum = Pattern.compile("(?m)^\\s+sha512sum: (\\S+)").matcher(yaml);
    assertThat(sum.find()).as(CONNECT + " has the archive's sha512sum").isTrue();
    assertThat(sum.group(1))
        .as(CONNECT + ": the release's checksum, or the placeholder saying where it comes from")
        .satisfiesAnyOf(
            s -> assertThat(s).isEqualTo(sha512),
            s -> assertThat(s).isEqualTo("REPLACE_WITH_THE_CONTENTS_OF_" + name + ".sha512"));

    String base = name.substring(0, name.length() - ".zip".length());
    try (ZipFile zip = new ZipFile(archive.toFile())) {
      ZipEntry entry = zip.getEntry(base + "/manifest.json");
      assertThat(entry).as(archive + " holds " + base + "/manifest.json").isNotNull();
      JsonNode manifest;
      try (InputStream in = zip.getInputStream(entry)) {
        manifest = new ObjectMapper().readTree(in);
      }
      for (String field : List.of("name", "version", "title", "description", "documentation_url")) {
        assertThat(manifest.path(field).asText()).as("manifest " + field).isNotBlank();
      }
      assertThat(manifest.path("owner").path("username").asText())
          .as("manifest owner.username: lowercase letters, digits and _")
          .matches("[a-z0-9_]{2,255}");
      assertThat(manifest.path("owner").path("name").asText()).isNotBlank();
      assertThat(manifest.path("license").path(0).path("name").asText()).isNotBlank();
      assertThat(manifest.path("component_types")).isNotEmpty();
      manifest
          .path("component_types")
          .forEach(t -> assertThat(COMPONENT_TYPES).contains(t.asText()));
      assertThat(
              manifest.path("owner").path("username").asText()
                  + "-"
                  + manifest.path("name").asText()
                  + "-"
                  + manifest.path("version").asText())
          .as("<owner>-<name>-<version>, the archive's name and top directory")
          .isEqualTo(base);
      assertThat(manifest.path("version").asText()).doesNotContain("SNAPSHOT");
      List<String> jars = new ArrayList<>();
      zip.stream()
          .map(ZipEntry::getName)
          .filter(n -> n.startsWith(base + "/lib/") && n.endsWith(".jar"))
          .forEach(jars::add);
      assertThat(jars)
          .anyMatch(j -> j.contains("connector-source"))
          .anyMatch(j -> j.contains("connector-sink"))
          .anyMatch(j -> j.contains("postgresql"))
          .noneMatch(j -> j.contains("connect-api") || j.contains("kafka-clients"));
    }
  }

  private static String sha512(Path file) throws IOException, NoSuchAlgorithmException {
    MessageDigest digest = MessageDigest.getInstance("SHA-512");
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buffer = new byte[1 << 16];
      for (int n; (n = in.read(buffer)) > 0; ) {
        digest.update(buffer, 0, n);
      }
    }
    return HexFormat.of().formatHex(digest.digest());
  }
}
