package io.pgcopy.connect.sink;

import io.pgcopy.connect.common.ConnectionSettings;
import io.pgcopy.connect.common.Version;
import io.pgcopy.connect.sink.config.PgCopySinkConfig;
import io.pgcopy.connect.sink.offsets.OffsetStore;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.SinkConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Writes pgcopy records into a target PostgreSQL with binary COPY, each record once. */
public class PgCopySinkConnector extends SinkConnector {
  private static final Logger log = LoggerFactory.getLogger(PgCopySinkConnector.class);

  private Map<String, String> props;

  @Override
  public String version() {
    return Version.get();
  }

  @Override
  public void start(Map<String, String> props) {
    new PgCopySinkConfig(props);
    this.props = Map.copyOf(props);
  }

  @Override
  public Class<? extends Task> taskClass() {
    return PgCopySinkTask.class;
  }

  @Override
  public List<Map<String, String>> taskConfigs(int maxTasks) {
    List<Map<String, String>> configs = new ArrayList<>();
    for (int i = 0; i < maxTasks; i++) {
      configs.add(props);
    }
    return configs;
  }

  @Override
  public void stop() {}

  @Override
  public Config validate(Map<String, String> connectorConfigs) {
    Config config = super.validate(connectorConfigs);
    new SinkValidator(config).validate(connectorConfigs);
    return config;
  }

  /**
   * Offsets changed through the REST API ({@code PATCH} or {@code DELETE
   * /connectors/<name>/offsets}, the connector stopped) are written to the target's offsets table,
   * which is what the tasks resume from; Connect changes the consumer group's offsets after this
   * returns. When the target cannot be written, the request fails with the reason and neither
   * changes.
   */
  @Override
  public boolean alterOffsets(
      Map<String, String> connectorConfig, Map<TopicPartition, Long> offsets) {
    PgCopySinkConfig config = new PgCopySinkConfig(connectorConfig);
    OffsetStore store =
        new OffsetStore(config.offsetsTable(), connectorConfig.getOrDefault("name", "pgcopy-sink"));
    try (Connection conn = ConnectionSettings.open(config, "pgcopy-sink alter offsets")) {
      conn.setAutoCommit(false);
      store.createIfAbsent(conn);
      store.overwrite(conn, offsets);
      conn.commit();
      log.info(
          "{}: offsets in {} set by an operator: {}",
          connectorConfig.get("name"),
          config.offsetsTable(),
          offsets);
      return true;
    } catch (SQLException e) {
      throw new ConnectException(
          "cannot change the sink's offsets in the target's "
              + config.offsetsTable()
              + " (which the sink resumes from, so Kafka's were not changed either): "
              + e.getMessage(),
          e);
    }
  }

  @Override
  public ConfigDef config() {
    return PgCopySinkConfig.CONFIG_DEF;
  }
}
