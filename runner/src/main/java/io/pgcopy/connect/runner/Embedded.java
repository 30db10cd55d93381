package io.pgcopy.connect.runner;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgcopy.connect.servers.ConnectRest;
import io.pgcopy.connect.servers.ConnectWorker;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.time.temporal.ChronoUnit;
import java.util.Collections;
import java.util.Comparator;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import javax.management.InstanceNotFoundException;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * What both commands share: where the plugin and Kafka come from, and the snapshot's progress
 * display.
 */
final class Embedded {
  private Embedded() {}

  /** Where the build puts the plugin package and the shipped configs inside the runner's jar. */
  private static final String EMBEDDED = "pgcopy-runner/";

  /**
   * Points the local servers at this jar (the broker and worker run as child JVMs on it), the
   * plugin package and the config directory: the ones given, else the ones inside the jar (unpacked
   * into {@code work}), else, when not run from the jar, those of the checkout around the current
   * directory.
   */
  static void prepare(Path work, Path pluginPath, Path configDir) throws IOException {
    Path jar = ownJar();
    Path plugin = pluginPath;
    Path config = configDir;
    if (jar != null && (plugin == null || config == null)) {
      Path unpacked = unpack(jar, work.resolve("runner-files"));
      plugin = plugin != null ? plugin : unpacked.resolve("plugin");
      config = config != null ? config : unpacked.resolve("config");
    }
    plugin = plugin != null ? plugin : find("connect-plugin/target/pgcopy-connect-plugin");
    config = config != null ? config : find("config");
    Path classpath = work.resolve("kafka.classpath");
    Files.writeString(classpath, System.getProperty("java.class.path"));
    System.setProperty("pgcopy.kafka.classpath.file", classpath.toString());
    System.setProperty("pgcopy.plugin.path", plugin.toAbsolutePath().toString());
    System.setProperty("pgcopy.config.dir", config.toAbsolutePath().toString());
  }

  /** The jar this class was loaded from, or null (classes directory, an IDE). */
  private static Path ownJar() {
    try {
      Path p = Path.of(Embedded.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      return Files.isRegularFile(p) && p.toString().endsWith(".jar") ? p : null;
    } catch (URISyntaxException | SecurityException | NullPointerException e) {
      return null;
    }
  }

  /**
   * Unpacks the jar's {@code pgcopy-runner/} files into {@code dir}, replacing what an earlier run
   * (perhaps of another version) left there; returns {@code dir}.
   */
  private static Path unpack(Path jar, Path dir) throws IOException {
    if (Files.exists(dir)) {
      try (Stream<Path> old = Files.walk(dir)) {
        for (Path p : old.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
    Files.createDirectories(dir);
    boolean any = false;
    try (ZipFile zip = new ZipFile(jar.toFile())) {
      for (ZipEntry e : Collections.list(zip.entries())) {
        if (!e.getName().startsWith(EMBEDDED) || e.isDirectory()) {
          continue;
        }
        Path target = dir.resolve(e.getName().substring(EMBEDDED.length())).normalize();
        if (!target.startsWith(dir)) {
          continue; // an entry that would land outside the directory
        }
        Files.createDirectories(target.getParent());
        try (InputStream in = zip.getInputStream(e)) {
          Files.copy(in, target);
        }
        any = true;
      }
    }
    if (!any) {
      throw new IllegalStateException(jar + " holds no plugin package: build it with mvn package");
    }
    return dir;
  }

  /** {@code relative} in the current directory or the nearest parent that has it. */
  static Path find(String relative) {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isDirectory(dir.resolve(relative))) {
        return dir.resolve(relative);
      }
    }
    throw new IllegalStateException(
        relative
            + " not found from "
            + Path.of("").toAbsolutePath()
            + ": build the project first (mvn -B package -DskipTests) or pass the path as an option");
  }

  /**
   * What an initial_only source's last task logs once every table's rows and post-data are in Kafka
   * (the connector's PostDataFirst.DONE_MESSAGE; the plugin is not on the runner's class path).
   */
  static final String FINISHED = "every table's snapshot and post-data are in Kafka";

  static String sourceMbean(String connector, int task) {
    return "io.pgcopy.connect:type=source-task,connector=\"" + connector + "\",task=" + task;
  }

  /**
   * Shows the snapshot's progress, read from the source tasks' metrics, until the connector reports
   * it complete: its stream task runs, or (initial_only) its log says so. Throws {@link TaskFailed}
   * as soon as the source or {@code sink} (or one of their tasks) is FAILED.
   */
  static void snapshotProgress(
      ConnectRest rest, ConnectWorker worker, String connector, String sink, long rows)
      throws Exception {
    try (ProgressBar bar =
        new ProgressBarBuilder()
            .setTaskName("snapshot")
            .setInitialMax(Math.max(rows, 1))
            .setUnit(" rows", 1)
            .setStyle(ProgressBarStyle.ASCII)
            .setMaxRenderedLength(120)
            .showSpeed(new DecimalFormat("#,##0"))
            .setSpeedUnit(ChronoUnit.SECONDS)
            .setUpdateIntervalMillis(500)
            .continuousUpdate()
            .build()) {
      while (true) {
        TaskFailed.check(rest, sink);
        long read = 0;
        long bytes = 0;
        long rangesDone = 0;
        long rangesTotal = 0;
        boolean streaming = false;
        JsonNode status;
        try {
          status = rest.status(connector);
        } catch (IllegalStateException e) {
          Thread.sleep(500); // not created yet
          continue;
        }
        TaskFailed.check(connector, status);
        for (JsonNode task : status.path("tasks")) {
          String mbean = sourceMbean(connector, task.path("id").asInt());
          try {
            if ("stream".equals(worker.jmxAttribute(mbean, "Phase"))) {
              streaming = true;
              continue;
            }
            read += (Long) worker.jmxAttribute(mbean, "Records");
            bytes += (Long) worker.jmxAttribute(mbean, "Bytes");
            rangesDone += (Long) worker.jmxAttribute(mbean, "RangesDone");
            rangesTotal += (Long) worker.jmxAttribute(mbean, "RangesTotal");
          } catch (InstanceNotFoundException e) {
            // the task has not registered yet
          }
        }
        String log = Files.readString(worker.logFile());
        boolean complete =
            log.contains(connector + ": snapshot complete")
                || log.contains(connector + ": every snapshot range is already done");
        boolean finished =
            status.path("tasks").isEmpty() || log.contains(connector + "-finish: " + FINISHED);
        if (streaming || (complete && finished)) {
          bar.stepTo(Math.max(rows, 1));
          bar.setExtraMessage(streaming ? " snapshot complete, streaming" : " snapshot complete");
          return;
        }
        bar.stepTo(Math.min(read, rows));
        bar.setExtraMessage(
            String.format(
                " ranges %d/%d, %.1f MB read", rangesDone, rangesTotal, bytes / 1048576.0));
        Thread.sleep(500);
      }
    }
  }
}
