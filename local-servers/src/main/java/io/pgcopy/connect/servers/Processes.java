package io.pgcopy.connect.servers;

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

/** Running commands and child JVMs for the local servers. */
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

  /**
   * Runs a command to completion, output to {@code log}; fails with the log's tail on a non-zero
   * exit.
   */
  public static void run(Path log, List<String> command) {
    try {
      Process p =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .start();
      if (!p.waitFor(180, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("timed out: " + command);
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException(
            "failed (exit " + p.exitValue() + "): " + command + "\n" + tail(log, 40));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Starts a JVM on the given class path with a bounded heap; output goes to {@code log}. */
  public static Process startJava(
      String classPath,
      String heap,
      Path log,
      String mainClass,
      List<String> args,
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
      return new ProcessBuilder(cmd)
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
          .start();
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

  /**
   * Stops a process a crashed parent left running: the one whose PID is in {@code pidFile}, if it
   * is alive and its command line names {@code dir}.
   */
  public static void stopStale(Path pidFile, Path dir) {
    try {
      if (!Files.exists(pidFile)) {
        return;
      }
      long pid = Long.parseLong(Files.readString(pidFile).trim());
      ProcessHandle.of(pid)
          .filter(ProcessHandle::isAlive)
          .filter(h -> h.info().commandLine().map(c -> c.contains(dir.toString())).orElse(false))
          .ifPresent(
              h -> {
                h.destroy();
                try {
                  h.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
                } catch (Exception e) {
                  h.destroyForcibly();
                  h.onExit().join();
                }
              });
    } catch (IOException | NumberFormatException e) {
      // no usable pid file: nothing to stop
    }
  }

  /**
   * {@code n} loopback ports remembered in {@code file}: the same ones as last time when they are
   * free.
   */
  public static int[] persistentPorts(Path file, int n) throws IOException {
    int[] ports = new int[n];
    List<String> saved = Files.exists(file) ? Files.readAllLines(file) : List.of();
    for (int i = 0; i < n; i++) {
      int p = i < saved.size() ? Integer.parseInt(saved.get(i).trim()) : 0;
      ports[i] = p > 0 && isFree(p) ? p : freePort();
    }
    List<String> lines = new ArrayList<>();
    for (int p : ports) {
      lines.add(String.valueOf(p));
    }
    Files.write(file, lines);
    return ports;
  }

  private static boolean isFree(int port) {
    try (java.net.ServerSocket s =
        new java.net.ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
