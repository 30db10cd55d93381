package io.pgcopy.connect.it;

import io.pgcopy.connect.servers.ConnectWorker;
import io.pgcopy.connect.servers.KafkaBroker;
import io.pgcopy.connect.servers.PostgresServer;
import io.pgcopy.connect.servers.ServerPaths;
import java.util.Map;

/**
 * One set of real servers: a source and a target PostgreSQL, a KRaft broker, and a Connect worker
 * (512 MB heap) running {@code config/connect-distributed.properties} as shipped and loading the
 * plugin from its built package. Started together, closed together (worker first).
 */
final class Servers implements AutoCloseable {
  final PostgresServer source;
  final PostgresServer target;
  final KafkaBroker broker;
  final ConnectWorker worker;

  private Servers(
      PostgresServer source, PostgresServer target, KafkaBroker broker, ConnectWorker worker) {
    this.source = source;
    this.target = target;
    this.broker = broker;
    this.worker = worker;
  }

  /**
   * Starts the four servers: the target with {@code targetWalLevel}, the worker with {@code
   * workerOverrides} on top of the shipped worker file (for example rebalance delays).
   */
  static Servers start(String targetWalLevel, Map<String, String> workerOverrides) {
    var dir = ServerPaths.workDir();
    PostgresServer source = PostgresServer.start(dir, "source");
    PostgresServer target = PostgresServer.start(dir, "target", targetWalLevel);
    // rows up to 16 MB (a connector opts in with producer.override.max.request.size)
    KafkaBroker broker = KafkaBroker.start(dir, Map.of("message.max.bytes", "16777216"));
    // Kafka's defaults but for the worker-level settings; converters, client overrides and topic
    // creation come with the connectors
    ConnectWorker worker = ConnectWorker.create(dir, broker, "512m", workerOverrides).start();
    return new Servers(source, target, broker, worker);
  }

  @Override
  public void close() {
    worker.close();
    broker.close();
    target.close();
    source.close();
  }
}
