package io.pgcopy.connect.servers;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.management.JMException;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * A Kafka Connect worker in distributed mode in a child JVM, configured from the project's {@code
 * config/connect-distributed.properties} with addresses and paths overridden, loading the plugin
 * from its built package on {@code plugin.path}. It can be stopped gracefully, killed (SIGKILL) and
 * started again with the same identity.
 */
public final class ConnectWorker implements AutoCloseable {
  /** What a thread of {@link #threadDump()} contains to be shown. */
  private static final List<String> DUMPED_THREADS =
      List.of(
          "io.pgcopy",
          "KafkaBasedLog",
          "OffsetBackingStore",
          "initTransactions",
          "WorkerConnector",
          "WorkerTask");

  private final Path dir;
  private final Properties props;
  private final int restPort;
  private final String heap;
  private final int jmxPort = Processes.freePort();
  private Process process;
  private int starts;
  private Path pidFile;

  private ConnectWorker(Path dir, Properties props, int restPort, String heap) {
    this.dir = dir;
    this.props = props;
    this.restPort = restPort;
    this.heap = heap;
  }

  /**
   * Worker properties from config/connect-distributed.properties, for the given broker and a fresh
   * group.
   */
  public static ConnectWorker create(
      Path parent, KafkaBroker broker, String heap, Map<String, String> overrides) {
    try {
      Files.createDirectories(parent);
      return createIn(Files.createTempDirectory(parent, "connect-"), broker, heap, overrides);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A worker in {@code dir} whose group and internal topics are named after the directory, so a
   * worker created again on it (with the same broker data) finds its connectors and offsets. A
   * worker left running there by a crashed parent is stopped first.
   */
  public static ConnectWorker createAt(
      Path dir, KafkaBroker broker, String heap, Map<String, String> overrides) {
    try {
      Files.createDirectories(dir);
      Processes.stopStale(dir.resolve("worker.pid"), dir);
      ConnectWorker w = createIn(dir, broker, heap, overrides);
      w.pidFile = dir.resolve("worker.pid");
      return w;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Stops a worker a crashed parent left running in {@code dir} (SIGTERM, so it ends its tasks'
   * transactions and leaves its group). Call it before restarting the broker it uses: a worker that
   * loses its broker mid-transaction can outlive the grace period and be killed with its
   * transactions open.
   */
  public static void stopStaleAt(Path dir) {
    Processes.stopStale(dir.resolve("worker.pid"), dir);
  }

  /**
   * A second worker of {@code member}'s group (same group id, internal topics and settings, its own
   * directory and REST port): the cluster then spreads connectors and tasks over both.
   */
  public static ConnectWorker joining(ConnectWorker member, Path parent) {
    try {
      Path dir = Files.createTempDirectory(parent, "connect-");
      Properties p = new Properties();
      p.putAll(member.props);
      int port = Processes.freePort();
      p.setProperty("listeners", "http://127.0.0.1:" + port);
      try (var out = Files.newBufferedWriter(dir.resolve("worker.properties"))) {
        p.store(out, "pgcopy test worker joining " + member.dir.getFileName());
      }
      return new ConnectWorker(dir, p, port, member.heap);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static ConnectWorker createIn(
      Path dir, KafkaBroker broker, String heap, Map<String, String> overrides) {
    try {
      Properties p = new Properties();
      try (Reader r =
          Files.newBufferedReader(
              ServerPaths.configDir().resolve("connect-distributed.properties"))) {
        p.load(r);
      }
      int port = Processes.freePort();
      String id = dir.getFileName().toString();
      p.setProperty("bootstrap.servers", broker.bootstrapServers());
      p.setProperty("listeners", "http://127.0.0.1:" + port);
      p.setProperty("rest.advertised.host.name", "127.0.0.1");
      p.setProperty("plugin.path", ServerPaths.pluginPath().toString());
      p.setProperty("group.id", id);
      p.setProperty("offset.storage.topic", id + "-offsets");
      p.setProperty("config.storage.topic", id + "-configs");
      p.setProperty("status.storage.topic", id + "-status");
      p.putAll(overrides);
      try (var out = Files.newBufferedWriter(dir.resolve("worker.properties"))) {
        p.store(out, "pgcopy test worker");
      }
      return new ConnectWorker(dir, p, port, heap);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Starts the JVM and waits until the REST API lists both pgcopy connectors and the worker is
   * ready.
   */
  public ConnectWorker start() {
    Path log = dir.resolve("worker-" + (++starts) + ".log");
    List<String> jvm = new java.util.ArrayList<>(KafkaBroker.logging());
    // JMX on loopback, so tests read the connectors' metrics as an operator's tools would
    jvm.addAll(
        List.of(
            "-Dcom.sun.management.jmxremote.port=" + jmxPort,
            "-Dcom.sun.management.jmxremote.rmi.port=" + jmxPort,
            "-Dcom.sun.management.jmxremote.host=127.0.0.1",
            "-Djava.rmi.server.hostname=127.0.0.1",
            "-Dcom.sun.management.jmxremote.authenticate=false",
            "-Dcom.sun.management.jmxremote.ssl=false"));
    // e.g. -Dpgcopy.worker.jvm.options=-XX:StartFlightRecording=filename=/tmp/worker.jfr to profile
    // a run
    String extra = System.getProperty("pgcopy.worker.jvm.options", "").trim();
    if (!extra.isEmpty()) {
      jvm.addAll(List.of(extra.split("\\s+")));
    }
    process =
        Processes.startJava(
            Processes.kafkaClassPath(),
            heap,
            log,
            "org.apache.kafka.connect.cli.ConnectDistributed",
            List.of(dir.resolve("worker.properties").toString()),
            jvm);
    if (pidFile != null) {
      try {
        Files.writeString(pidFile, String.valueOf(process.pid()));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    ConnectRest rest = rest();
    Awaitility.await("Connect worker REST API")
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(300))
        .ignoreExceptionsMatching(ConnectWorker::notAnExit)
        .until(
            () -> {
              if (!process.isAlive()) {
                throw new IllegalStateException("worker exited:\n" + Processes.tail(log, 60));
              }
              String plugins = rest.get("/connector-plugins");
              return plugins.contains("PgCopySourceConnector")
                  && plugins.contains("PgCopySinkConnector");
            });
    // GET /health (KIP-1017) answers 200 only once the worker read its internal topics: before
    // that, connector requests time out. After a crash that can take a while: a killed task's
    // open transaction on the offsets topic holds read_committed readers until the broker aborts
    // it.
    AtomicReference<String> lastAnswer = new AtomicReference<>("no answer yet");
    try {
      Awaitility.await("Connect worker ready (GET /health)")
          .atMost(Duration.ofMinutes(5))
          .pollInterval(Duration.ofMillis(500))
          .until(
              () -> {
                if (!process.isAlive()) {
                  throw new IllegalStateException("worker exited:\n" + Processes.tail(log, 60));
                }
                try {
                  rest.get("/health");
                  return true;
                } catch (RuntimeException notYet) {
                  lastAnswer.set(String.valueOf(notYet.getMessage()));
                  return false;
                }
              });
    } catch (ConditionTimeoutException e) {
      throw new IllegalStateException(
          "the Connect worker did not become ready in 5 minutes; its last answer: "
              + lastAnswer.get()
              + "\nits log ends with:\n"
              + Processes.tail(log, 80),
          e);
    }
    return this;
  }

  /** Failures worth polling again: anything but the worker's own exit. */
  private static boolean notAnExit(Throwable e) {
    return e.getMessage() == null || !e.getMessage().startsWith("worker exited");
  }

  public ConnectRest rest() {
    return new ConnectRest("http://127.0.0.1:" + restPort);
  }

  /** The JMX service URL of the running worker (loopback, no authentication). */
  public String jmxUrl() {
    return "service:jmx:rmi:///jndi/rmi://127.0.0.1:" + jmxPort + "/jmxrmi";
  }

  /** Reads one attribute of an MBean in the worker over JMX. */
  public Object jmxAttribute(String objectName, String attribute) throws IOException, JMException {
    try (JMXConnector c = JMXConnectorFactory.connect(new JMXServiceURL(jmxUrl()))) {
      return c.getMBeanServerConnection().getAttribute(new ObjectName(objectName), attribute);
    }
  }

  public Path logFile() {
    return dir.resolve("worker-" + starts + ".log");
  }

  public long pid() {
    return process.pid();
  }

  /**
   * The threads of the running worker that show where a connector is stuck when no log line says
   * why: those in the connectors' code, Connect's task and connector threads, Kafka's offset store
   * and logs, and producers in {@code initTransactions}. Taken with the JDK's {@code jstack}; on
   * failure, the reason instead.
   */
  public String threadDump() {
    try {
      Process jstack =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "jstack").toString(),
                  String.valueOf(pid()))
              .redirectErrorStream(true)
              .start();
      String dump = new String(jstack.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      jstack.waitFor();
      StringBuilder out = new StringBuilder();
      for (String thread : dump.split("\n\n")) {
        if (DUMPED_THREADS.stream().anyMatch(thread::contains)) {
          out.append(thread).append("\n\n");
        }
      }
      return out.toString();
    } catch (IOException e) {
      return "no thread dump of the worker: " + e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "no thread dump of the worker: interrupted";
    }
  }

  /** SIGKILL: no shutdown hook, no offset commit, nothing flushed. */
  public void kill() {
    process.destroyForcibly();
    waitExit();
  }

  /** SIGTERM: Connect's shutdown hook stops connectors and commits what it can. */
  public void stop() {
    if (process != null && process.isAlive()) {
      process.destroy();
      waitExit();
    }
  }

  private void waitExit() {
    try {
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public Properties properties() {
    return props;
  }

  @Override
  public void close() {
    stop();
  }
}
