package io.pgcopy.connect.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigValue;
import org.junit.jupiter.api.Test;

class ConvertersTest {
  private static final String WHY = "binary records";

  private static Config emptyResult() {
    return new Config(new ArrayList<>());
  }

  private static List<String> errorsOf(Config config, String key) {
    return config.configValues().stream()
        .filter(v -> v.name().equals(key))
        .flatMap(v -> v.errorMessages().stream())
        .toList();
  }

  @Test
  void aMissingConverterIsRefusedOnItsFieldWithTheLineToAdd() {
    Config config = emptyResult();
    Converters.requireByteArray(new Validation(config), Map.of(), List.of(Converters.VALUE), WHY);
    assertThat(errorsOf(config, Converters.VALUE))
        .singleElement()
        .asString()
        .contains(WHY)
        .contains("\"value.converter\": \"" + Converters.BYTE_ARRAY + "\"");
  }

  @Test
  void anotherConverterIsRefusedNamingIt() {
    Config config = emptyResult();
    Converters.requireByteArray(
        new Validation(config),
        Map.of(Converters.HEADER, " org.apache.kafka.connect.storage.SimpleHeaderConverter"),
        List.of(Converters.HEADER),
        WHY);
    assertThat(errorsOf(config, Converters.HEADER))
        .singleElement()
        .asString()
        .contains("not org.apache.kafka.connect.storage.SimpleHeaderConverter");
  }

  @Test
  void theByteArrayConverterPassesAndAnErrorJoinsAValueConnectAlreadyHas() {
    List<ConfigValue> values = new ArrayList<>(List.of(new ConfigValue(Converters.KEY)));
    Config config = new Config(values);
    Converters.requireByteArray(
        new Validation(config),
        Map.of(Converters.KEY, Converters.BYTE_ARRAY, Converters.VALUE, "x.StringConverter"),
        List.of(Converters.KEY, Converters.VALUE),
        WHY);
    assertThat(errorsOf(config, Converters.KEY)).isEmpty();
    assertThat(errorsOf(config, Converters.VALUE)).hasSize(1);
    assertThat(config.configValues()).hasSize(2);
  }

  @Test
  void rawConvertersAreTheOnesThatCannotCarryStructs() {
    assertThat(Converters.isRaw(Converters.BYTE_ARRAY)).isTrue();
    assertThat(Converters.isRaw("org.apache.kafka.connect.storage.StringConverter")).isTrue();
    assertThat(Converters.isRaw("org.apache.kafka.connect.json.JsonConverter")).isFalse();
    assertThat(Converters.isRaw(null)).isFalse();
  }
}
