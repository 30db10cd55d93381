package io.pgcopy.connect.common;

import java.util.List;
import java.util.Map;

/**
 * The converters a pgcopy connector needs, checked on the connector's own settings. A connector
 * cannot see its worker's defaults (Kafka's are the JSON converter and SimpleHeaderConverter, which
 * would re-encode pgcopy's bytes), so the settings it needs must be in its own configuration.
 */
public final class Converters {
  public static final String BYTE_ARRAY = "org.apache.kafka.connect.converters.ByteArrayConverter";
  public static final String KEY = "key.converter";
  public static final String VALUE = "value.converter";
  public static final String HEADER = "header.converter";

  private Converters() {}

  /**
   * Adds an error on each of {@code keys} that is not set to the ByteArrayConverter on this
   * connector, saying what the records carry ({@code why}) and the line to add.
   */
  public static void requireByteArray(
      Validation result, Map<String, String> props, List<String> keys, String why) {
    for (String key : keys) {
      String value = props.get(key);
      if (value == null || value.isBlank()) {
        result.frameworkError(
            key,
            why
                + ": set \""
                + key
                + "\": \""
                + BYTE_ARRAY
                + "\" in this connector's "
                + "config (the worker's default cannot be seen by the connector, and Kafka's default re-encodes bytes)");
      } else if (!BYTE_ARRAY.equals(value.trim())) {
        result.frameworkError(
            key, why + ": " + key + " must be " + BYTE_ARRAY + ", not " + value.trim());
      }
    }
  }

  /**
   * True when {@code converter} turns a Connect value into raw bytes or text, not a typed Struct.
   */
  public static boolean isRaw(String converter) {
    return converter != null
        && (converter.trim().endsWith(".ByteArrayConverter")
            || converter.trim().endsWith(".StringConverter"));
  }
}
