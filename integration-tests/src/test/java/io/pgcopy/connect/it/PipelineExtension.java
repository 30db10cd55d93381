package io.pgcopy.connect.it;

import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Gives a test class its {@link Pipeline}: on the servers this JVM shares between classes, or on
 * servers of its own. Register it in a static field and take the pipeline in {@code @BeforeAll}:
 *
 * <pre>{@code
 * @RegisterExtension static final PipelineExtension servers = PipelineExtension.shared();
 * }</pre>
 *
 * <p>A class on the shared servers gets databases of its own on both PostgreSQL servers and must
 * use connector names no other class uses (Connect keeps a source's offsets under its name after
 * the connector is deleted: a second class reusing a name would resume from the first one's
 * offsets); topics follow the names. When the class ends its connectors are deleted, its
 * replication slots and its databases dropped, and a connector name already used by an earlier
 * class fails the class. The shared servers are started by the first class that needs them and
 * stopped when the JVM's test run ends. Classes that kill, stop or reconfigure a server, or need
 * other server settings, take {@link #own}: servers started for them and closed after them.
 */
final class PipelineExtension implements BeforeAllCallback, AfterAllCallback {
  /**
   * The JVM's shared servers, started on first use and closed when the JVM exits (a shutdown hook:
   * the test engine may end its root context after every class, which would defeat the sharing).
   */
  private static Servers sharedServers;

  /** The worker's log line for each connector it creates. */
  private static final Pattern CREATED = Pattern.compile("Creating connector (\\S+) of type");

  /** Connector names used on this JVM's shared worker so far, with the class that used them. */
  private static final Map<String, String> usedNames = new HashMap<>();

  private final boolean shared;
  private final String targetWalLevel;
  private final Map<String, String> workerOverrides;
  private Servers own;
  private Pipeline pipeline;
  private WaitClock waits;
  private long startedNanos;
  private double serverSeconds;

  private PipelineExtension(
      boolean shared, String targetWalLevel, Map<String, String> workerOverrides) {
    this.shared = shared;
    this.targetWalLevel = targetWalLevel;
    this.workerOverrides = workerOverrides;
  }

  /**
   * The JVM's shared servers: a target with {@code wal_level=replica} (validation must catch a
   * source like that) and the worker exactly as shipped.
   */
  static PipelineExtension shared() {
    return new PipelineExtension(true, "replica", Map.of());
  }

  /** Servers of the class's own, for a class that kills, stops or reconfigures them. */
  static PipelineExtension own(String targetWalLevel) {
    return own(targetWalLevel, Map.of());
  }

  /** Servers of the class's own, the worker with settings on top of the shipped worker file. */
  static PipelineExtension own(String targetWalLevel, Map<String, String> workerOverrides) {
    return new PipelineExtension(false, targetWalLevel, workerOverrides);
  }

  /** The class's pipeline; set before the class's {@code @BeforeAll} methods run. */
  Pipeline pipeline() {
    if (pipeline == null) {
      throw new IllegalStateException("no pipeline: register the extension in a static field");
    }
    return pipeline;
  }

  private static synchronized Servers sharedServers() {
    if (sharedServers == null) {
      Servers servers = Servers.start("replica", Map.of());
      Runtime.getRuntime().addShutdownHook(new Thread(servers::close, "shared-servers-close"));
      sharedServers = servers;
    }
    return sharedServers;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    startedNanos = System.nanoTime();
    Servers servers;
    if (shared) {
      servers = sharedServers();
    } else {
      servers = own = Servers.start(targetWalLevel, workerOverrides);
    }
    String suffix = context.getRequiredTestClass().getSimpleName().toLowerCase(Locale.ROOT);
    String sourceDb = "src_" + suffix;
    String targetDb = "tgt_" + suffix;
    servers.source.createDatabase(sourceDb);
    servers.target.createDatabase(targetDb);
    pipeline = new Pipeline(servers, sourceDb, targetDb);
    serverSeconds = (System.nanoTime() - startedNanos) / 1e9;
    waits = new WaitClock();
    Awaitility.setDefaultConditionEvaluationListener(waits);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    Awaitility.setDefaultConditionEvaluationListener(null);
    String owner = context.getRequiredTestClass().getSimpleName();
    System.out.printf(
        "[pipeline] %s: %.1f s, of which %.1f s starting %s servers and databases, %.1f s waiting"
            + " (longest: %s)%n",
        owner,
        (System.nanoTime() - startedNanos) / 1e9,
        serverSeconds,
        shared ? "the shared" : "its own",
        waits == null ? 0 : waits.totalSeconds(),
        waits == null ? "" : waits.longest(4));
    if (own != null) {
      own.close();
      return;
    }
    if (pipeline != null) {
      Set<String> names = new TreeSet<>(pipeline.deleteAllConnectors(Duration.ofMinutes(1)));
      // the ones the class created and deleted itself too
      Matcher created = CREATED.matcher(pipeline.workerLog());
      while (created.find()) {
        names.add(created.group(1));
      }
      pipeline.dropSlotsAndDatabases(Duration.ofMinutes(1));
      synchronized (usedNames) {
        for (String name : names) {
          String earlier = usedNames.putIfAbsent(name, owner);
          if (earlier != null && !earlier.equals(owner)) {
            throw new AssertionError(
                "connector "
                    + name
                    + " of "
                    + owner
                    + " was used by "
                    + earlier
                    + " on the same shared worker: Connect keeps offsets by connector name, so"
                    + " give it a name of this class's own");
          }
        }
      }
    }
  }
}
