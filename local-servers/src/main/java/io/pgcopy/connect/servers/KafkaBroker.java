package io.pgcopy.connect.servers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.awaitility.Awaitility;

/**
 * A single-node KRaft broker (broker and controller in one) in a child JVM, listening on 127.0.0.1.
 */
public final class KafkaBroker implements AutoCloseable {
  private final Path dir;
  private final int port;
  private int controllerPort;
  private Process process;
  private Map<String, String> overrides = Map.of();

  private KafkaBroker(Path dir, int port) {
    this.dir = dir;
    this.port = port;
  }

  public static KafkaBroker start(Path parent, Map<String, String> overrides) {
    try {
      Files.createDirectories(parent);
      KafkaBroker broker =
          new KafkaBroker(Files.createTempDirectory(parent, "kafka-"), Processes.freePort());
      broker.startProcess(overrides);
      return broker;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A broker whose data lives in {@code dir} and survives it: started again on the same directory
   * it finds its topics (and the same ports when they are free). A broker left running there by a
   * crashed parent is stopped first.
   */
  public static KafkaBroker startAt(Path dir, Map<String, String> overrides) {
    try {
      Files.createDirectories(dir);
      Processes.stopStale(dir.resolve("broker.pid"), dir);
      int[] ports = Processes.persistentPorts(dir.resolve("ports"), 2);
      KafkaBroker broker = new KafkaBroker(dir, ports[0]);
      broker.controllerPort = ports[1];
      broker.startProcess(overrides);
      Files.writeString(dir.resolve("broker.pid"), String.valueOf(broker.process.pid()));
      return broker;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void startProcess(Map<String, String> overrides) throws IOException {
    this.overrides = Map.copyOf(overrides);
    if (controllerPort <= 0) {
      controllerPort = Processes.freePort();
    }
    Properties p = new Properties();
    p.setProperty("process.roles", "broker,controller");
    p.setProperty("node.id", "1");
    p.setProperty("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
    p.setProperty(
        "listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
    p.setProperty("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
    p.setProperty("controller.listener.names", "CONTROLLER");
    p.setProperty("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.setProperty("inter.broker.listener.name", "PLAINTEXT");
    p.setProperty("log.dirs", dir.resolve("data").toString());
    p.setProperty("offsets.topic.replication.factor", "1");
    p.setProperty("offsets.topic.num.partitions", "5");
    p.setProperty("transaction.state.log.replication.factor", "1");
    p.setProperty("transaction.state.log.min.isr", "1");
    p.setProperty("transaction.state.log.num.partitions", "5");
    p.setProperty("share.coordinator.state.topic.replication.factor", "1");
    p.setProperty("share.coordinator.state.topic.min.isr", "1");
    p.setProperty("group.initial.rebalance.delay.ms", "0");
    p.setProperty("auto.create.topics.enable", "true");
    p.putAll(overrides);
    Path config = dir.resolve("server.properties");
    try (var out = Files.newBufferedWriter(config)) {
      p.store(out, "pgcopy test broker");
    }
    Path log = dir.resolve("broker.log");
    String cp = Processes.kafkaClassPath();
    // storage formatted by an earlier start (startAt) keeps its cluster id: format only once
    boolean formatted = Files.exists(dir.resolve("data").resolve("meta.properties"));
    Process format =
        formatted
            ? null
            : Processes.startJava(
                cp,
                "256m",
                log,
                "kafka.tools.StorageTool",
                List.of(
                    "format",
                    "-t",
                    Uuid.randomUuid().toString(),
                    "-c",
                    config.toString(),
                    "--ignore-formatted"),
                logging());
    try {
      if (format != null && format.waitFor() != 0) {
        throw new IllegalStateException(
            "formatting the KRaft storage failed:\n" + Processes.tail(log, 30));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    // e.g. -Dpgcopy.broker.jvm.options=-XX:StartFlightRecording=filename=/tmp/broker.jfr
    List<String> jvm = new ArrayList<>(logging());
    String extra = System.getProperty("pgcopy.broker.jvm.options", "").trim();
    if (!extra.isEmpty()) {
      jvm.addAll(List.of(extra.split("\\s+")));
    }
    process = Processes.startJava(cp, "768m", log, "kafka.Kafka", List.of(config.toString()), jvm);
    Properties admin = new Properties();
    admin.setProperty(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    try (Admin a = Admin.create(admin)) {
      Awaitility.await("broker on " + bootstrapServers())
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(300))
          .ignoreExceptions()
          .until(
              () -> {
                if (!process.isAlive()) {
                  throw new IllegalStateException("broker exited:\n" + Processes.tail(log, 40));
                }
                return a.describeCluster().nodes().get().size() == 1;
              });
    }
  }

  static List<String> logging() {
    return List.of("-Dlog4j2.configurationFile=classpath:pgcopy-servers-log4j2.properties");
  }

  /**
   * SIGKILL (no controlled shutdown, open transactions left to time out), a pause of {@code down},
   * then the broker started again on the same data and ports, as a crashed broker comes back.
   */
  public void killAndRestart(Duration down) {
    process.destroyForcibly();
    try {
      process.waitFor(30, TimeUnit.SECONDS);
      Thread.sleep(down.toMillis());
      startProcess(overrides);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public long pid() {
    return process.pid();
  }

  public String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  @Override
  public void close() {
    if (process != null) {
      process.destroy();
      try {
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
          process.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
      }
    }
  }
}
