package io.pgcopy.connect.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.sql.SQLException;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.junit.jupiter.api.Test;

class ConnectionSettingsTest {
  private static final ConfigDef DEF = new ConfigDef();

  static {
    ConnectionSettings.define(DEF, "source", "User.");
  }

  private static AbstractConfig config(String timeoutMs) {
    return new AbstractConfig(
        DEF,
        Map.of(
            "connection.url", "jdbc:postgresql://127.0.0.1:5432/db",
            "connection.user", "u",
            "connection.socket.timeout.ms", timeoutMs));
  }

  @Test
  void aReadThatTimedOutIsNamedWithTheSettingAndTheWayOut() {
    SQLException e =
        new SQLException(
            "An I/O error occurred while sending to the backend.",
            "08006",
            new SocketTimeoutException("Read timed out"));
    assertThat(ConnectionSettings.socketTimeoutHint(e, config("5000")))
        .contains("connection.socket.timeout.ms=5000 ms")
        .contains("raise the setting");
  }

  @Test
  void anyOtherFailureGetsNoHint() {
    SQLException e =
        new SQLException("connection reset", "08006", new IOException("Connection reset"));
    assertThat(ConnectionSettings.socketTimeoutHint(e, config("5000"))).isEmpty();
  }
}
