package io.pgcopy.connect.testkit;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Running commands and child JVMs for the servers of the test kit. */
public final class Processes {
  private Processes() {}

  /** A free TCP port on 127.0.0.1 (free when asked; servers bind it right after). */
  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Runs a command to completion, output to {@code log}; fails with the log's tail on a non-zero exit. */
  public static void run(Path log, List<String> command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
      if (!p.waitFor(180, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("timed out: " + command);
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException("failed (exit " + p.exitValue() + "): " + command + "\n" + tail(log, 40));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Starts a JVM on the given class path with a bounded heap; output goes to {@code log}. */
  public static Process startJava(String classPath, String heap, Path log, String mainClass, List<String> args,
      List<String> jvmOptions) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xms" + heap);
    cmd.add("-Xmx" + heap);
    cmd.addAll(jvmOptions);
    cmd.add("-cp");
    cmd.add(classPath);
    cmd.add(mainClass);
    cmd.addAll(args);
    try {
      return new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static String tail(Path file, int lines) {
    try {
      List<String> all = Files.readAllLines(file);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  /**
   * The class path for the broker and worker JVMs: Kafka, Connect and logging, from the file that
   * the integration-tests build writes (dependency:build-classpath). Never the connectors: the
   * worker must load them from plugin.path.
   */
  public static String kafkaClassPath() {
    String file = System.getProperty("pgcopy.kafka.classpath.file");
    if (file == null) {
      throw new IllegalStateException("system property pgcopy.kafka.classpath.file is not set");
    }
    try {
      String cp = Files.readString(Path.of(file)).trim();
      List<String> kept = new ArrayList<>();
      for (String entry : cp.split(File.pathSeparator)) {
        String name = Path.of(entry).getFileName().toString();
        if (!name.startsWith("connector-") && !name.startsWith("pgcopy-format")) {
          kept.add(entry);
        }
      }
      return String.join(File.pathSeparator, kept);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
