package io.pgcopy.connect.sink;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.sink.SinkConnector;

/** Writes pgcopy records into a target PostgreSQL with binary COPY, each record once. */
public class PgCopySinkConnector extends SinkConnector {
  private Map<String, String> props;

  @Override
  public String version() {
    return io.pgcopy.connect.common.Version.get();
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

  @Override
  public ConfigDef config() {
    return PgCopySinkConfig.CONFIG_DEF;
  }
}
